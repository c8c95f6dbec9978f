"""Bounded work on every upload path, and every upload checked by content and size.

Real crafted files: a zip bomb whose shared strings inflate to 320 MB, a part that lies about its size,
200,000 columns, too many rows, an over-long cell or line, too many shared strings, an .xls too wide;
programs renamed photo.jpg, a web page named .pdf, an .exe inside a .docx. Refusals go through the
real pages (Django test client), the worker's job and the command line, and name the limit."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.common.tabular import FileTooLarge, iter_rows
from fangpin.demo.monitoring import sample_pdf
from fangpin.feeds.models import Roster
from fangpin.jobs.models import Job, Kind
from fangpin.rectification.models import Event
from tests import builders
from tests.test_monitoring import h001  # noqa: F401  (fixture)
from tests.test_rectification import batch  # noqa: F401  (fixture)
from tests.test_rosters import medical_rows

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def write_workbook(path: Path, sheet_rows: str, *, dimension: str = "", shared=None) -> Path:
    """A minimal .xlsx written part by part; `shared` is a list of strings or a callable that streams
    the shared-strings part itself (the bomb)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{MAIN}">{dim}<sheetData>{sheet_rows}</sheetData></worksheet>',
        )
        if callable(shared):
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=False) as fh:
                shared(fh)
        else:
            items = "".join(f"<si><t>{text}</t></si>" for text in shared or [])
            archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{items}</sst>')
    return path


def bomb_strings(size: int):
    """One shared string of `size` times the same character: ~320 KB compressed for 320 MB."""

    def write(fh) -> None:
        fh.write(f'<sst xmlns="{MAIN}"><si><t>'.encode())
        block = b"a" * (1 << 20)
        for _ in range(size >> 20):
            fh.write(block)
        fh.write(b"</t></si></sst>")

    return write


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "名册.xlsx"
    return write_workbook(
        path, '<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared=bomb_strings(320 << 20)
    )


def lie_about_size(path: Path, part: str, declared: int) -> Path:
    """Rewrite the part's size in both its local header and the central directory: it now claims to be
    `declared` bytes, and inflates to far more."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    struct.pack_into("<I", data, info.header_offset + 22, declared)  # local header: uncompressed size
    name = part.encode()
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_length] == name:
            struct.pack_into("<I", data, central + 24, declared)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


READ_IN_CHILD = """
import json, os, resource, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
django.setup()
from fangpin.common.tabular import UnreadableFile, iter_rows
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    rows = sum(1 for _ in iter_rows(sys.argv[1]))
    said = f"read {rows} rows"
except UnreadableFile as exc:
    said = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"said": said, "grew_kib": after - before}))
"""


def read_in_child(path: Path, tmp_path: Path, **env: str) -> dict:
    """Read the file in a fresh process and report what it said and how much its peak memory grew."""
    child_env = {**os.environ, "FANGPIN_DATA_DIR": str(tmp_path / "child"), **env}
    child_env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", READ_IN_CHILD, str(path)], env=child_env, cwd=ROOT,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the zip bomb, by each of its limits, with the memory it costs --------------------------------


def test_the_bomb_is_refused_by_its_compression_ratio_in_small_memory(bomb, tmp_path):
    assert bomb.stat().st_size < 2 << 20  # 320 MB inflated, a few hundred KB on disk
    child = read_in_child(bomb, tmp_path)
    assert "压缩比超过 100 倍的上限" in child["said"] and "已拒绝" in child["said"]
    assert child["grew_kib"] < 40 * 1024  # the part is 320 MB: a small fraction of it, at most


def test_the_bomb_is_refused_by_the_shared_strings_size_when_the_ratio_is_allowed(bomb, tmp_path):
    child = read_in_child(bomb, tmp_path, FANGPIN_XLSX_MAX_RATIO="100000")
    assert "文字表解压后超过 300 MB 的上限（本文件约 320 MB）" in child["said"]
    assert child["grew_kib"] < 40 * 1024


def test_the_bomb_is_refused_by_the_total_uncompressed_size(bomb, tmp_path):
    child = read_in_child(
        bomb, tmp_path, FANGPIN_XLSX_MAX_RATIO="100000", FANGPIN_XLSX_MAX_UNCOMPRESSED_MB="200"
    )
    assert "文件解压后超过 200 MB 的上限（本文件约 320 MB），可能是损坏或恶意文件，已拒绝" in child["said"]


def test_a_part_that_lies_about_its_size_stops_at_the_size_it_declared(bomb, tmp_path):
    liar = tmp_path / "liar.xlsx"
    liar.write_bytes(bomb.read_bytes())
    lie_about_size(liar, "xl/sharedStrings.xml", 4096)  # declares 4 KB, inflates to 320 MB
    child = read_in_child(liar, tmp_path)
    assert "无法读取Excel文件" in child["said"]  # the inflated bytes beyond the claim are never kept
    assert child["grew_kib"] < 40 * 1024


def test_the_bomb_as_a_roster_upload_is_refused_by_the_worker_and_the_web_process_never_opens_it(
    client, register, department_officer, bomb, django_capture_on_commit_callbacks
):
    client.force_login(department_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("feeds:upload"), {"kind": "medical", "source": "x", "period": "202503",
                                                         "file": SimpleUploadedFile("m.xlsx", bomb.read_bytes())})  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and "压缩比超过 100 倍的上限" in page  # its central directory alone
    assert not Roster.objects.exists() and not Job.objects.exists()


# --- rows, columns, cells, lines, shared strings ---------------------------------------------------


def wide_row(columns: int) -> str:
    return (
        '<row r="1">'
        + "".join(f'<c t="inlineStr"><is><t>列{i}</t></is></c>' for i in range(columns))
        + "</row>"
    )


def test_a_200000_column_roster_is_refused_in_the_worker_through_the_page(
    client, register, department_officer, tmp_path, django_capture_on_commit_callbacks
):
    path = write_workbook(
        tmp_path / "wide.xlsx", wide_row(200_000)
    )  # no <dimension>: counted while streaming
    client.force_login(department_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("feeds:upload"), {"kind": "medical", "source": "x", "period": "202503",
                                                         "file": SimpleUploadedFile("wide.xlsx", path.read_bytes())})  # fmt: skip
    job = Job.objects.get(kind=Kind.READ_HEADER)
    assert response.url == reverse("jobs:detail", args=[job.pk])
    assert job.status == "rejected" and "超过 1,000 列的上限" in job.message
    assert "超过 1,000 列的上限" in client.get(response.url).content.decode()
    assert Roster.objects.get().status == Roster.Status.REJECTED


def test_the_declared_dimension_is_refused_before_any_row_is_read(tmp_path):
    path = write_workbook(tmp_path / "d.xlsx", '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>',
                          dimension="A1:B2000000")  # fmt: skip
    with pytest.raises(FileTooLarge, match="行的上限"):
        next(iter_rows(path))
    path = write_workbook(tmp_path / "w.xlsx", "", dimension="A1:XFD3")
    with pytest.raises(FileTooLarge, match="超过 1,000 列的上限（本文件约 16,384 列）"):
        next(iter_rows(path))


def test_rows_are_counted_while_streaming_in_every_format(settings, tmp_path):
    settings.FANGPIN_TABLE_MAX_ROWS = 5
    rows = [
        {"姓名": f"人{i}", "证件号码": str(i)} for i in range(1200)
    ]  # beyond the 1,000 rows of title room
    for path in (builders.write_xlsx(tmp_path / "r.xlsx", rows, titles=()),
                 builders.write_csv(tmp_path / "r.csv", rows)):  # fmt: skip
        with pytest.raises(FileTooLarge, match="超过 5 行的上限"):
            list(iter_rows(path))


def test_an_over_long_cell_or_line_and_too_many_shared_strings_are_refused(settings, tmp_path):
    long_text = "长" * 40_000
    inline = f'<row r="1"><c r="A1" t="inlineStr"><is><t>{long_text}</t></is></c></row>'
    with pytest.raises(FileTooLarge, match="单元格A1的内容超过 32,767 个字符的上限"):
        list(iter_rows(write_workbook(tmp_path / "c.xlsx", inline)))
    with pytest.raises(FileTooLarge, match="文件文字表的第1项的内容超过 32,767 个字符的上限"):
        list(iter_rows(write_workbook(tmp_path / "s.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                                      shared=[long_text])))  # fmt: skip
    (tmp_path / "c.csv").write_text(f"姓名,备注\n张三,{long_text}\n", encoding="utf-8")
    with pytest.raises(FileTooLarge, match="第2行第2列的内容超过 32,767 个字符的上限"):
        list(iter_rows(tmp_path / "c.csv"))
    settings.FANGPIN_CSV_MAX_LINE_KB = 1
    (tmp_path / "l.csv").write_text("姓名,备注\n" + "x" * 2048 + "\n", encoding="utf-8")
    with pytest.raises(FileTooLarge, match="CSV文件第2行超过 1 KB 的单行上限"):
        list(iter_rows(tmp_path / "l.csv"))
    settings.FANGPIN_XLSX_MAX_SHARED_STRINGS = 10
    many = write_workbook(tmp_path / "m.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                          shared=[f"s{i}" for i in range(20)])  # fmt: skip
    with pytest.raises(FileTooLarge, match="不同文字超过 10 项的上限"):
        list(iter_rows(many))


def test_csv_columns_and_file_sizes_and_xls_dimensions_are_refused(settings, tmp_path):
    (tmp_path / "wide.csv").write_text(",".join(f"列{i}" for i in range(5000)) + "\n", encoding="utf-8")
    with pytest.raises(FileTooLarge, match="超过 1,000 列的上限（本文件约 5,000 列）"):
        list(iter_rows(tmp_path / "wide.csv"))
    xls = builders.write_xls(tmp_path / "w.xls", [{f"列{i}": i for i in range(40)}], titles=())
    settings.FANGPIN_TABLE_MAX_COLUMNS = 30
    with pytest.raises(FileTooLarge, match="超过 30 列的上限（本文件约 40 列）"):
        list(iter_rows(xls))
    settings.FANGPIN_XLS_MAX_MB = 0
    with pytest.raises(FileTooLarge, match=r"文件超过 .* 的上限"):
        list(iter_rows(xls))
    settings.FANGPIN_TABLE_MAX_MB = 0
    with pytest.raises(FileTooLarge, match=r"文件超过 .* 的上限"):
        list(iter_rows(tmp_path / "wide.csv"))


def test_the_command_line_roster_import_refuses_a_file_over_a_limit(
    register, department_officer, tmp_path, capsys, settings
):
    from fangpin.feeds import actions
    from fangpin.jobs.actions import run_job
    from tests.test_roster_cli import load

    settings.MEDIA_ROOT = tmp_path / "files"  # the mapping is saved by a first upload on the web
    path = builders.write_xlsx(tmp_path / "m.xlsx", medical_rows())
    file = SimpleUploadedFile(path.name, path.read_bytes())
    header = actions.upload(user=department_officer, kind="medical", source="县医保局月报", period="202503",
                            hashed_ids=False, file=file, work_dir=tmp_path)  # fmt: skip
    run_job(header.pk)
    roster = Roster.objects.get()
    run_job(actions.confirm_mapping(user=department_officer, roster=roster, mapping=roster.mapping).pk)
    wide = write_workbook(tmp_path / "wide.xlsx", wide_row(200_000))
    code, _, err = load(capsys, wide, "--user", "dept_medical")
    assert code == 1 and "超过 1,000 列的上限" in err
    assert Roster.objects.count() == 1 and not list((tmp_path / "files" / "rosters").glob("*"))


# --- content sniffing and per-type size limits ----------------------------------------------------

PE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + bytes(64)
    + b"This program cannot be run in DOS mode"
)
ELF = b"\x7fELF\x02\x01\x01" + bytes(64)
SCRIPT = b"#!/bin/sh\nrm -rf /\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(200) + b"\xff\xd9"


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    from docx import Document

    buffer = io.BytesIO()
    Document().save(buffer)
    if not extra:
        return buffer.getvalue()
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def pdf() -> bytes:
    return sample_pdf()  # the demo's one-page PDF: real content for the sniffer


@pytest.fixture
def item(batch, township_reviewer):  # noqa: F811
    from fangpin.rectification.actions import can_work_on

    return next(i for i in batch.items.all() if can_work_on(township_reviewer, i))


def post_evidence(client, item, name: str, content: bytes) -> str:
    response = client.post(reverse("rectification:progress", args=[item.pk]),
                           {"note": "", "file": SimpleUploadedFile(name, content)}, follow=True)  # fmt: skip
    return response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("photo.jpg", PE, "“photo.jpg”的内容不是照片（JPG）（实际是可执行程序），已拒绝"),
        ("photo.png", ELF, "实际是可执行程序"),
        ("扫描件.pdf", HTML, "“扫描件.pdf”的内容不是PDF文件（实际是网页（HTML））"),
        ("说明.pdf", SCRIPT, "实际是"),
        ("报告.docx", docx({"word/media/setup.exe": PE}), "夹带可执行程序"),
        ("报告.docx", b"PK\x03\x04" + bytes(40), "已损坏或不完整"),
        ("程序.exe", PE, "文件类型不支持作为佐证材料"),
        ("报告.docx", docx({"word/media/big.bin": b"\0" * (50 << 20)}), "压缩比超过 100 倍的上限"),
    ],
)
def test_evidence_of_the_wrong_content_is_refused_through_the_page_and_nothing_is_stored(
    client, item, township_reviewer, name, content, said, settings
):
    client.force_login(township_reviewer)
    folder = Path(settings.MEDIA_ROOT) / "rectification" / str(item.pk)
    before = set(folder.glob("*"))  # the media folder outlives other tests' rolled-back items
    page = post_evidence(client, item, name, content)
    assert said in page
    assert not Event.objects.filter(item=item, kind=Event.Kind.EVIDENCE).exists()
    assert set(folder.glob("*")) == before


def test_real_evidence_is_stored_0600_and_a_too_large_photo_is_refused(
    client, item, township_reviewer, settings
):
    client.force_login(township_reviewer)
    for name, content in (("整改照片.jpg", jpeg()), ("验收报告.pdf", pdf()), ("说明.docx", docx())):
        post_evidence(client, item, name, content)
        event = Event.objects.filter(item=item, kind=Event.Kind.EVIDENCE).latest("id")
        assert event.file_name == name and Path(event.file_path).read_bytes() == content
        assert Path(event.file_path).stat().st_mode & 0o777 == 0o600
    settings.FANGPIN_UPLOAD_MAX_MB = {**settings.FANGPIN_UPLOAD_MAX_MB, "photo": 1}
    page = post_evidence(client, item, "大照片.jpg", jpeg() + bytes(2 << 20))
    assert "“大照片.jpg”超过 1.0 MB 的上限（本文件约 2.0 MB），已拒绝" in page
    assert Event.objects.filter(item=item, kind=Event.Kind.EVIDENCE).count() == 3


def test_attachments_of_clues_are_checked_by_content(h001, village_cadre):  # noqa: F811
    from django.core.exceptions import ValidationError

    from fangpin.monitoring import actions
    from fangpin.monitoring.models import Clue

    with pytest.raises(ValidationError, match="实际是可执行程序"):
        actions.report_clue(user=village_cadre, household=h001, source="self", summary="申请",
                            uploads=[("commitment", SimpleUploadedFile("承诺书.jpg", PE))])  # fmt: skip
    assert not Clue.objects.exists()
    clue = actions.report_clue(user=village_cadre, household=h001, source="self", summary="申请",
                               uploads=[("commitment", SimpleUploadedFile("承诺书.pdf", pdf()))])  # fmt: skip
    stored = Path(clue.attachments.get().path)
    assert stored.stat().st_mode & 0o777 == 0o600


def test_a_table_upload_is_sniffed_and_the_saved_roster_is_0600(
    client, register, department_officer, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(department_officer)
    for name, content in (("名册.csv", PE), ("名册.xlsx", HTML), ("名册.csv", SCRIPT)):
        response = client.post(reverse("feeds:upload"), {"kind": "medical", "source": "x", "period": "202503",
                                                         "file": SimpleUploadedFile(name, content)})  # fmt: skip
        assert response.status_code == 200 and "已拒绝" in response.content.decode()
    assert not Roster.objects.exists()
    good = builders.write_csv(tmp_path / "m.csv", medical_rows()).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("feeds:upload"), {"kind": "medical", "source": "x", "period": "202503",
                                              "file": SimpleUploadedFile("m.csv", good)})  # fmt: skip
    roster = Roster.objects.get()
    assert roster.headers and Path(roster.file_path).stat().st_mode & 0o777 == 0o600


def test_an_inspection_list_bomb_is_refused_on_the_new_batch_page(client, county_staff, bomb):
    from fangpin.rectification.models import Batch

    client.force_login(county_staff)
    response = client.post(reverse("rectification:new_batch"), {"name": "x", "source": "self",
                                                                 "file": SimpleUploadedFile("清单.xlsx", bomb.read_bytes())})  # fmt: skip
    assert response.status_code == 200 and "压缩比超过 100 倍的上限" in response.content.decode()
    assert not Batch.objects.exists() and not Job.objects.exists()
