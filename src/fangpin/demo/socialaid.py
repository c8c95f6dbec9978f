"""The demo county's 民政 low-income list: written from the register as 民政 would hold it, uploaded by
民政's data officer through the users' path (socialaid.actions.queue_import, the worker's import).

What it seeds, so that a test can hold the comparison page to it (`SeededList`):
- every household whose register says 享受低保, all its members listed as 低保, except two monitored
  ones left out (仅本平台监测, their register saying 低保 是);
- three monitored households whose risk is eliminated, listed as 低保边缘 (两边都有: risk eliminated);
- two monitored one-person households, listed as 特困 (两边都有: not 整户无劳动能力, 特困 否);
- two households not monitored listed as 低保 (仅民政有, register 低保 not filled), five as 低保边缘, four
  as 刚性支出困难 and three heads as 临时救助 (仅民政有, in the register);
- four households (six people) the register does not hold (仅民政有, not in the register), and two people
  whose 临时救助 ended before the list's date (not compared).
Deterministic by seed, over the register in 户编号 order.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fangpin.audit.context import acting_as
from fangpin.common.crypto import cipher
from fangpin.common.idnumber import make_id
from fangpin.jobs.actions import run_job
from fangpin.jobs.models import Job
from fangpin.regions.models import Level, Region
from fangpin.registry.models import Household, Member

HEADER = ["序号", "乡镇（街道）", "村（社区）", "户主姓名", "户主身份证号码", "姓名", "公民身份号码", "救助类别", "保障人数",
          "纳入时间", "退出时间", "月保障金额"]  # fmt: skip
AMOUNTS = {"低保": 520, "特困": 780, "低保边缘": 0, "刚性支出困难": 0, "临时救助": 1500}
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ("建华", "秀兰", "志强", "桂英", "海燕", "国庆", "春梅", "小军", "玉珍", "永福")


@dataclass
class SeededList:
    """What the list holds, by group, as the comparison must find it (户编号 of the register)."""

    path: str = ""
    as_of: str = ""
    both: list[str] = field(default_factory=list)
    both_differing: list[str] = field(default_factory=list)
    aid_registered: list[str] = field(default_factory=list)
    aid_unregistered_households: int = 0
    aid_unregistered_people: int = 0
    fangpin_only: list[str] = field(default_factory=list)
    ended: int = 0


def _clear(member: Member) -> str:
    """The 身份证 number 民政 holds (a 残疾人证号 of the register is it and two digits)."""
    return cipher().decrypt(member.id_number_enc, "id")[:18]


def write_list(out: Path, *, seed: int, as_of: dt.date) -> SeededList:
    """The list's .xlsx (and `socialaid_truth.json` beside it) from the register as it is now."""
    rng = random.Random(seed)
    households = list(Household.objects.order_by("household_no").prefetch_related("members"))
    names = dict(Region.objects.filter(level__gte=Level.TOWNSHIP).values_list("code", "name"))
    rows: list[list[Any]] = []
    seeded = SeededList(as_of=as_of.isoformat())

    def add(household: Household | None, people: list[tuple[str, str]], category: str, head: tuple[str, str],
            code: str, size: int, end: str = "") -> None:  # fmt: skip
        start = as_of - dt.timedelta(days=rng.randint(60, 900))
        for name, number in people:
            rows.append([len(rows) + 1, names.get(code[:9] + "000", ""), names.get(code, ""), head[0], head[1], name,
                         number, category, size, f"{start:%Y-%m-%d}", end, AMOUNTS[category] or ""])  # fmt: skip

    def whole(household: Household, category: str) -> None:
        members = list(household.members.all())
        head = next((m for m in members if m.relation == "户主"), members[0])
        add(household, [(m.name, _clear(m)) for m in members], category, (head.name, _clear(head)),
            household.region_code, len(members))  # fmt: skip

    monitored = [h for h in households if h.monitoring_category]
    dibao = [h for h in households if any(m.dibao for m in h.members.all())]
    left_out = [h for h in dibao if h.monitoring_category and not h.risk_eliminated][:2]
    for household in dibao:
        if household in left_out:
            continue
        whole(household, "低保")
        if not household.monitoring_category:
            seeded.aid_registered.append(household.household_no)
            continue
        seeded.both.append(household.household_no)
        if household.risk_eliminated or any(m.dibao is not True for m in household.members.all()):
            seeded.both_differing.append(household.household_no)
    used = set(dibao)  # taken: no household is chosen twice (the two left out stay off the list)
    eliminated = [h for h in monitored if h.risk_eliminated and h not in used]
    for household in rng.sample(eliminated, min(3, len(eliminated))):
        whole(household, "低保边缘")
        used.add(household)
        seeded.both.append(household.household_no)
        seeded.both_differing.append(household.household_no)
    single = [h for h in monitored if not h.risk_eliminated and h not in used and h.members.count() == 1
              and not h.no_labour_household]  # fmt: skip
    for household in rng.sample(single, min(2, len(single))):
        whole(household, "特困")
        used.add(household)
        seeded.both.append(household.household_no)
        seeded.both_differing.append(household.household_no)
    others = [h for h in households if not h.monitoring_category and h not in used]
    chosen = rng.sample(others, min(14, len(others)))
    for household, category in zip(
        chosen, ["低保"] * 2 + ["低保边缘"] * 5 + ["刚性支出困难"] * 4, strict=False
    ):
        whole(household, category)
        seeded.aid_registered.append(household.household_no)
    for household in chosen[11:]:  # a head's 临时救助
        head = next((m for m in household.members.all() if m.relation == "户主"), None)
        if head is not None:
            add(
                household,
                [(head.name, _clear(head))],
                "临时救助",
                (head.name, _clear(head)),
                household.region_code,
                1,
            )
            seeded.aid_registered.append(household.household_no)
    # people the register does not hold: in the county's villages, numbers no member has
    villages = sorted(c for c in names if c[9:12] != "000")
    known = set(Member.objects.values_list("id_number_hash", flat=True))
    sequence = 900

    def stranger() -> tuple[str, str]:
        nonlocal sequence
        while True:
            sequence += 1
            number = make_id(villages[0][:6], dt.date(1950 + sequence % 50, 1 + sequence % 12, 1 + sequence % 28),
                             sequence)  # fmt: skip
            if cipher().digest(number, "id") not in known:
                return rng.choice(SURNAMES) + rng.choice(GIVEN), number

    for size, category in ((1, "特困"), (2, "低保"), (2, "低保"), (1, "临时救助")):
        code = rng.choice(villages)
        people = [stranger() for _ in range(size)]
        add(None, people, category, people[0], code, size)
        seeded.aid_unregistered_households += 1
        seeded.aid_unregistered_people += size
    for _ in range(2):
        person = stranger()
        ended = as_of - dt.timedelta(days=rng.randint(20, 90))
        add(None, [person], "临时救助", person, rng.choice(villages), 1, end=f"{ended:%Y-%m-%d}")
        seeded.ended += 1
    listed = set(seeded.both) | set(seeded.aid_registered)
    seeded.fangpin_only = sorted(
        h.household_no for h in monitored if not h.risk_eliminated and h.household_no not in listed
    )
    seeded.both, seeded.both_differing = sorted(set(seeded.both)), sorted(set(seeded.both_differing))
    seeded.aid_registered = sorted(set(seeded.aid_registered))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"民政低收入人口名单_{as_of:%Y%m%d}.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("低收入人口")
    sheet.write_string(0, 0, "绛县低收入人口动态监测名单")
    sheet.write_string(1, 0, f"导出日期：{as_of:%Y年%m月%d日}")
    for col, name in enumerate(HEADER):
        sheet.write_string(2, col, name)
    for r, values in enumerate(rows, start=3):
        for col, value in enumerate(values):
            if isinstance(value, int):
                sheet.write_number(r, col, value)
            elif value:
                sheet.write_string(r, col, str(value))  # IDs as text, as 民政's system exports them
    workbook.close()
    seeded.path = str(path)
    (out / "socialaid_truth.json").write_text(json.dumps(asdict(seeded), ensure_ascii=False, indent=1))
    return seeded


def load(officer: Any, out: Path, *, seed: int) -> SeededList:
    """Write the list and import it as 民政's data officer would upload it."""
    from fangpin.socialaid.actions import queue_import

    as_of = timezone.localdate()
    seeded = write_list(out, seed=seed, as_of=as_of)
    path = Path(seeded.path)
    with acting_as(officer, source="cli"):
        job = queue_import(user=officer, upload=SimpleUploadedFile(path.name, path.read_bytes()), as_of=as_of,
                           source="县民政局低收入人口动态监测名单")  # fmt: skip
    job = run_job(job.pk) or Job.objects.get(pk=job.pk)  # run here, or already by an immediate queue
    if job.status != "succeeded":
        raise SystemExit(f"民政低收入人口名单导入失败：{job.message}；{job.problems[:5]}")
    return seeded
