"""No ID or phone number in clear outside the encrypted columns (issue 12, point 1).

A real `fangpin` process with a data directory of its own (SQLite, the huey queue in its SQLite file)
loads a small demo county through the users' paths, then runs every kind of job: a register import
with faults (Excel-damaged IDs among them), a rejected and an accepted roster, a screening, an export
and a findings export. After each step the database (every column of every table but the `*_enc`
ones, read through the test's own sqlite3 connection), the huey queue file and the data directory (every file:
.xlsx/.docx unzipped, Parquet read as rows, everything else as text) are scanned for 18-digit IDs
(valid or damaged: 17 digits + digit/X, a tail Excel turned into 000), 15-digit old IDs, what Excel's
number form keeps of an ID (1.40826194908104E+17) and mobile numbers. Files written on request with
full numbers (registered in fangpin.retention) are skipped; the uploaded inputs are skipped while
their retention runs, and after the purge nothing at all may be left.

False positives are kept out by the boundaries (no letter or digit glued to the run: a hex hash or a
base64 token never matches) and by plausibility (a province prefix and a real birth date).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fangpin.accounts.models import User
from fangpin.audit.context import acting_as
from fangpin.common.idnumber import mask_id
from fangpin.common.phone import mask_phone
from fangpin.demo.actions import _ensure_users
from fangpin.demo.generator import write_demo_files
from fangpin.feeds import actions as rosters
from fangpin.feeds.models import Roster
from fangpin.jobs.actions import create_job, run_job
from fangpin.jobs.models import Job, Kind, Status
from fangpin.regions.actions import load_region_file
from fangpin.regions.models import Level, Region
from fangpin.registry import actions as registry
from fangpin.retention.actions import purge, retention_days
from fangpin.retention.models import SensitiveFile
from tests import builders
from tests.builders import pid
from tests.cli_helpers import fangpin_env

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

PEOPLE, SEED = 600, 4242
SHOWN = 8  # hits listed per step when the scan fails
PROVINCES = {
    *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82,
}  # fmt: skip
_B, _E = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
ID18 = re.compile(_B + r"(\d{17}[\dXx])" + _E)
OLD15 = re.compile(_B + r"(\d{15})" + _E)
MOBILE = re.compile(_B + r"(?:\+?86)?(1[3-9]\d{9})" + _E)
# how a spreadsheet writes an ID kept as a number: its first 15-17 digits are still there
EXCEL_NUMBER = re.compile(_B + r"(\d)\.(\d{5,17})[Ee]\+?(1[4-7])" + _E)

# a damaged ID in clear, as the roster below holds it
DAMAGED = "140826194908104000"  # the tail Excel turned into 000
OLD = "140826490810460"  # a 15-digit number of 1949


def _date(digits8: str) -> bool:
    try:
        day = dt.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return False
    return 1900 <= day.year <= dt.date.today().year


def plausible_id(run: str) -> bool:
    if int(run[:2]) not in PROVINCES:
        return False
    return _date(run[6:14]) if len(run) == 18 else _date("19" + run[6:12])


@dataclass(frozen=True)
class Hit:
    where: str
    kind: str
    masked: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {self.masked}"


def find(text: str, where: str) -> list[Hit]:
    hits = []
    for match in ID18.finditer(text):
        if plausible_id(match.group(1)):
            hits.append(Hit(where, "证件号码", mask_id(match.group(1))))
    for match in OLD15.finditer(text):
        if plausible_id(match.group(1)):
            hits.append(Hit(where, "15位证件号码", mask_id(match.group(1))))
    for match in EXCEL_NUMBER.finditer(text):
        digits = (match.group(1) + match.group(2)).ljust(int(match.group(3)) + 1, "0")
        if len(digits) == 18 and plausible_id(digits):
            hits.append(Hit(where, "数字形式的证件号码", mask_id(digits)))
    for match in MOBILE.finditer(text):
        hits.append(Hit(where, "手机号码", mask_phone(match.group(1))))
    return hits


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _scan_rows(table: str, columns: list[str], rows) -> list[Hit]:  # type: ignore[no-untyped-def]
    hits = []
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            if not column.endswith("_enc"):
                hits += find(_as_text(value), f"{table}.{column}")
    return hits


def scan_sqlite(path: Path, label: str) -> list[Hit]:
    """Every column of every table (the `*_enc` ones aside), through a connection of the test's own;
    the huey queue's task payloads are pickles, read as bytes."""
    hits: list[Hit] = []
    with closing(sqlite3.connect(path)) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            cursor = db.execute(f'SELECT * FROM "{table}"')
            hits += _scan_rows(f"{label} {table}", [d[0] for d in cursor.description], cursor)
    return hits


def _file_texts(path: Path):  # type: ignore[no-untyped-def]
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".docx", ".zip"} and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                yield name, archive.read(name).decode("utf-8", "replace")
    elif suffix == ".parquet":
        table = pq.read_table(path)
        yield "", "\n".join(json.dumps(row, ensure_ascii=False, default=str) for row in table.to_pylist())
    else:
        data = path.read_bytes()
        yield "", data.decode("utf-8", "replace")
        if suffix == ".xls":  # BIFF keeps strings as UTF-16 as well
            yield "utf-16", data.decode("utf-16-le", "replace")


def scan_files(root: Path, skip: set[Path]) -> list[Hit]:
    hits: list[Hit] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.resolve() in skip:
            continue
        for part, text in _file_texts(path):
            where = f"文件 {path.relative_to(root)}" + (f"!{part}" if part else "")
            hits += find(text, where)
    return hits


def _query(database: Path, sql: str) -> set[Path]:
    with closing(sqlite3.connect(database)) as db:
        return {Path(row[0]).resolve() for row in db.execute(sql) if row[0]}


def live_inputs(database: Path) -> set[Path]:
    """What users uploaded, kept with full numbers until its retention ends (then purged)."""
    return _query(database, "SELECT input_path FROM jobs_job") | _query(
        database, "SELECT file_path FROM feeds_roster"
    )


def requested_files(database: Path) -> set[Path]:
    return _query(database, "SELECT path FROM retention_sensitivefile WHERE purged_at IS NULL")


# database files are read through SQL above; their raw pages hold the ciphertext columns as well
DATABASE_FILES = ("fangpin.sqlite3", "jobs.sqlite3")


class Scanner:
    """The data directory of a real `fangpin` process, scanned between its steps."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.database, self.queue = data / DATABASE_FILES[0], data / DATABASE_FILES[1]
        self.failures: dict[str, list[Hit]] = {}

    def __call__(self, step: str, *, inputs_allowed: bool = True) -> None:
        skip = requested_files(self.database) | (live_inputs(self.database) if inputs_allowed else set())
        skip |= {
            (self.data / f"{name}{end}").resolve() for name in DATABASE_FILES for end in ("", "-wal", "-shm")
        }
        hits = scan_sqlite(self.database, "数据库")
        if self.queue.exists():
            hits += scan_sqlite(self.queue, "任务队列")
        hits += scan_files(self.data, skip)
        if hits:
            self.failures[step] = hits

    def report(self) -> str:
        lines = []
        for step, hits in self.failures.items():
            places: dict[str, Hit] = {}
            for hit in hits:  # one example per place, so a leak in the database shows beside a file's
                places.setdefault(hit.where, hit)
            lines.append(f"{step}：{len(hits)}处，{len(places)}个位置")
            lines += [f"    {h}" for h in list(places.values())[:SHOWN]]
        return "\n".join(lines)


# --- the steps, each run by a real `fangpin` process against the test's data directory ----------------


def _upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def _ran(job: Job) -> Job:
    """Run a job here, as the worker would; the queue keeps its copy of the task (scanned too)."""
    return run_job(job.pk) or Job.objects.get(pk=job.pk)


def _upload_roster(user: User, path: Path, *, kind: str, source: str, period: str) -> Job:
    """The officer's path: upload (the worker reads the header), the proposed mapping, import."""
    with acting_as(user, source="web"):
        header = _ran(rosters.upload(user=user, kind=kind, source=source, period=period, hashed_ids=False,
                                     file=_upload(path), work_dir=Path(settings.MEDIA_ROOT) / "rosters"))  # fmt: skip
        roster = Roster.objects.get(pk=header.params["roster"])
        assert roster.mapping, roster.message
        return _ran(rosters.confirm_mapping(user=user, roster=roster, mapping=roster.mapping))


def _county() -> User:
    return User.objects.get(username="xian_admin")


def step_demo(work: Path) -> None:
    """What demo.actions.load_county does, step by step: regions, logins, the national exports, the
    rosters (among them the Excel-damaged medical export, refused)."""
    files = write_demo_files(work / "demo", people=PEOPLE, seed=SEED, year=2025, today=dt.date(2026, 5, 20))
    with acting_as(None, source="cli"):
        load_region_file(files.regions)
    county = _ensure_users()["xian_admin"]
    for path in files.register_files:
        job = _ran(registry.queue_import_path(user=county, path=path, year=None, confirmed=True))
        assert job.status == Status.SUCCEEDED, job.message
    period = files.rosters[0].path.stem.split("_")[1]
    for roster in files.rosters:
        _upload_roster(county, roster.path, kind=roster.kind, source=roster.source, period=period)
    assert Job.objects.filter(kind=Kind.IMPORT_ROSTER, status=Status.REJECTED).exists()


def _rows(number: str, people: list[tuple[str, str, str, str]], **extra: object) -> list[dict[str, object]]:
    """A household of the demo county (its first village), with 人口编号 so that damaged IDs are kept."""
    village = Region.objects.filter(level=Level.VILLAGE).select_related("parent").order_by("code").first()
    assert village is not None
    rows = builders.family(number, builders.VILLAGE_A1, people, **extra)  # type: ignore[arg-type]
    for i, row in enumerate(rows):
        row.update(
            {"乡": village.parent.name, "村": village.name, "人口编号": f"{village.code}{number}{i:02d}"}
        )
    return rows


def step_register(work: Path) -> None:
    """A file whose values the national system holds as they are (kept as doubts after confirmation),
    and files refused outright; all with numbers where they should not be."""
    county = _county()
    doubtful = _rows("900001", [
        ("钱一", pid(61, dt.date(1949, 8, 10))[:17] + "0", "户主", "男"),  # wrong check digit
        ("钱二", DAMAGED, "配偶", "女"),
        ("钱三", OLD, "之子", "男"),
    ], phone="13912345678")  # fmt: skip
    path = builders.write_xlsx(work / "doubts.xlsx", doubtful)
    with acting_as(county, source="web"):
        job = _ran(registry.queue_import(user=county, upload=_upload(path), year=2025))
        assert job.status == Status.AWAITING, (job.message, job.problems)
        job = _ran(registry.confirm_import(user=county, job=job))
        assert job.status == Status.SUCCEEDED, job.message
    refused = _rows("900002", [("孙一", pid(71, dt.date(1960, 1, 2)), "户主", "男")])
    refused[0]["工资性收入"] = pid(72, dt.date(1961, 1, 2))  # an ID in an amount column
    refused[0]["出生日期"] = "13912345678"  # a phone in a date column
    numeric = builders.write_xlsx(work / "numeric.xlsx", refused, numeric_ids=True)  # Excel's damage
    with acting_as(county, source="web"):
        for path in (builders.write_xlsx(work / "refused.xlsx", refused), numeric):
            job = _ran(registry.queue_import(user=county, upload=_upload(path), year=2025))
            assert job.status == Status.REJECTED, job.message


def step_rosters(work: Path) -> None:
    officer = User.objects.get(username="dept_yibao")
    for name, numeric, status in (
        ("医保_损坏.xlsx", True, Status.REJECTED),
        ("医保_正常.xlsx", False, Status.SUCCEEDED),
    ):
        ids = (pid(11), pid(31, dt.date(1980, 2, 2)), DAMAGED)[: 3 if numeric else 2]
        rows = [
            {"参保人姓名": f"人{i}", "身份证号码": number, "联系电话": "13712345678", "结算时间": "2025/3/5",
             "总费用": "40,000", "统筹支付": "15000", "个人负担": "25000元", "医院": "县医院"}
            for i, number in enumerate(ids)
        ]  # fmt: skip
        path = builders.write_xlsx(work / name, rows, numeric_ids=numeric, titles=(), id_column="身份证号码")
        job = _upload_roster(officer, path, kind="medical", source="县医保局月报", period="202503")
        assert job.status == status and (status == Status.SUCCEEDED or job.result_path), job.message


def step_social_aid(work: Path) -> None:
    """民政's low-income list through its officer's path: one refused for Excel-damaged IDs, then the
    demo's list taken, compared and exported by the county (socialaid)."""
    from fangpin.demo import socialaid as seeding
    from fangpin.socialaid import actions as social_aid
    from fangpin.socialaid import compare
    from fangpin.socialaid.exporter import export_group

    officer = User.objects.get(username="dept_minzheng")
    rows = [{"姓名": f"人{i}", "身份证号码": number, "救助类型": "低保", "户主身份证号码": number, "村": "东关村"}
            for i, number in enumerate((pid(11), pid(31, dt.date(1980, 2, 2))))]  # fmt: skip
    path = builders.write_xlsx(
        work / "民政_损坏.xlsx", rows, titles=(), numeric_ids=True, id_column="身份证号码"
    )
    with acting_as(officer, source="web"):
        job = _ran(social_aid.queue_import(user=officer, upload=_upload(path), as_of=timezone.localdate(),
                                           source="县民政局"))  # fmt: skip
    assert job.status == Status.REJECTED and job.result_path, job.message
    seeding.load(officer, work / "socialaid", seed=SEED)
    county = _county()
    found = compare.result(compare.current_list(county), county)
    assert found.households and found.people
    with acting_as(county, source="web"):
        for level in ("household", "person"):
            data, name = export_group(user=county, aid_list=compare.current_list(county), rows=found.households
                                      if level == "household" else found.people, group="", level=level)  # fmt: skip
            (Path(settings.MEDIA_ROOT) / name).write_bytes(data)  # scanned with the data directory


def _job(kind: Kind, params: dict) -> Job:  # type: ignore[type-arg]
    job = _ran(create_job(kind=kind, user=_county(), params=params))
    assert job.status == Status.SUCCEEDED, job.message
    return job


def step_screening(work: Path) -> None:
    settings.FANGPIN_KEEP_SNAPSHOTS = True  # as a province keeping them for Spark: the scan reads them
    _job(Kind.SCREENING, {"as_of": "", "engine": "duckdb"})
    assert any((Path(settings.DATA_DIR) / "screening").rglob("*.parquet")), "the scan must see the snapshot"


def step_exports(work: Path) -> None:
    _job(Kind.EXPORT_REGISTER, {"layout": "member", "full": False})
    full = _job(Kind.EXPORT_REGISTER, {"layout": "member", "full": True})
    _job(Kind.EXPORT_FINDINGS, {})
    listed = SensitiveFile.objects.get(job=full)
    assert listed.owner == _county() and Path(listed.path).stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(listed.path) as archive:  # on request the export does carry the full numbers
        assert any(find(archive.read(n).decode("utf-8", "replace"), "") for n in archive.namelist())


def step_purge(work: Path) -> None:
    listed = [Path(p) for p in SensitiveFile.objects.values_list("path", flat=True)]
    later = timezone.now() + dt.timedelta(days=retention_days(), hours=1)
    with acting_as(None, source="cli"):
        result = purge(now=later)
    assert result.files >= 1 and result.inputs >= 1 and result.rosters >= 1, str(result)
    assert listed and not any(path.exists() for path in listed)


STEPS = {
    "示范县导入后": step_demo,
    "台账导入（数据疑点确认导入、拒收）后": step_register,
    "部门名册导入（拒收、导入）后": step_rosters,
    "民政低收入人口名单导入（拒收、导入）、比对和导出后": step_social_aid,
    "筛查后": step_screening,
    "导出后": step_exports,
}


def test_no_id_or_phone_in_clear_after_the_demo_and_every_kind_of_job(tmp_path):
    data = tmp_path / "data"
    env = fangpin_env(data)
    env.pop("PYTEST_VERSION", None)  # the child is a real installation: huey queues into its SQLite file
    env["FANGPIN_JOBS_IMMEDIATE"] = "0"

    def run(*args: str) -> None:
        result = subprocess.run([sys.executable, "-m", "fangpin", *args], env=env, capture_output=True,
                                text=True, timeout=600, cwd=ROOT)  # fmt: skip
        assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr[-4000:]}"

    def step(func) -> None:  # type: ignore[no-untyped-def]
        name = func.__name__
        run("shell", "-v", "0", "-c",
            f"from pathlib import Path; from tests.test_no_clear_ids import {name}; {name}(Path({str(tmp_path)!r}))")  # fmt: skip

    run("migrate", "--no-input", "-v0")
    scan = Scanner(data)
    for name, func in STEPS.items():
        step(func)
        scan(name)
    assert scan.queue.exists(), "the queue's SQLite file must be scanned"
    step(step_purge)
    scan("保留期满删除后（不再排除上传文件）", inputs_allowed=False)
    assert not scan.failures, "明文证件号码或手机号码：\n" + scan.report()
    # the scan is not blind: the county's own national export (outside the data directory) is full of them
    assert len({h.masked for h in scan_files(tmp_path / "demo", set())}) > PEOPLE / 2
