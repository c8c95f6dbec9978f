"""一户一档: the household's dossier as an A4 PDF with its font embedded, the archive with its files, masked
per role, audited, scoped; a village's dossiers printed as one job; and the 公示 .docx on A4."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from django.urls import reverse
from pypdf import PdfReader

from fangpin.audit.models import Action, AuditEntry
from fangpin.dossiers import actions as dossiers
from fangpin.dossiers import pdf as dossier_pdf
from fangpin.jobs.actions import run_job
from fangpin.jobs.models import Status
from fangpin.monitoring import actions as monitoring
from fangpin.monitoring import assistance
from fangpin.monitoring.models import Attachment, Measure
from fangpin.regions.models import Region
from fangpin.registry.models import Household
from tests import builders

pytestmark = pytest.mark.django_db

A4_POINTS = (595, 842)
FULL_ID = builders.pid(11)  # 张建国 of H001 (东关村)
ID_RUN = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def own() -> Household:
    return Household.objects.get(household_no="H001")


def other() -> Household:
    return Household.objects.get(household_no="H003")  # 柳庄村, 横水镇


def read_pdf(body: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(body))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def embedded_font_files(reader: PdfReader) -> list[str]:
    """The /FontFile* keys of every font descriptor the pages use (a reader-side font has none)."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptors = [font.get("/FontDescriptor")]
            descriptors += [d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])]
            for descriptor in filter(None, descriptors):
                found += [k for k in descriptor.get_object() if k.startswith("/FontFile")]
    return found


def assert_a4(reader: PdfReader) -> None:
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4_POINTS


@pytest.fixture
def worked(register, village_cadre, township_reviewer, county_staff):
    """H001 with a clue verified at home, an identification case, a cadre, a measure and a visit."""
    household = own()
    clue = monitoring.report_clue(
        user=village_cadre, household=household, source="cadre", summary="户主住院，支出骤增"
    )
    monitoring.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="入户核实属实")
    monitoring.open_case(user=village_cadre, household=household, source="cadre", proposed_category="边缘易致贫户",
                         risk_types="因病")  # fmt: skip
    assistance.pair(
        user=township_reviewer, household=household, cadre=village_cadre, since=dt.date(2026, 3, 2)
    )
    Measure.objects.create(household=household, region_code=household.region_code, group="健康帮扶", item="医疗救助",
                           start=dt.date(2026, 3, 5), funding=1200, created_by=village_cadre)  # fmt: skip
    assistance.record_visit(user=village_cadre, household=household, visited_on=dt.date(2026, 3, 9),
                            changes_note="户主出院", notes="了解康复和务工打算")  # fmt: skip
    return household


def test_a_village_cadre_prints_a_dossier_on_a4_with_its_font_embedded_and_the_figures(
    client, worked, village_cadre
):
    client.force_login(village_cadre)
    response = client.get(reverse("dossiers:pdf", args=[worked.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    reader, text = read_pdf(response.content)
    assert_a4(reader)
    assert "/FontFile2" in embedded_font_files(reader)  # TrueType outlines in the file, not the reader's font
    income = worked.incomes.get()
    for figure in ("张建国户一户一档", "东关村", "李秀英", f"{income.computed_per_capita:,.2f}", "户主住院，支出骤增",
                   "入户核实属实", "医疗救助", "户主出院", "边缘易致贫户", "帮扶责任人"):  # fmt: skip
        assert figure in text, figure
    assert FULL_ID not in text and worked.members.get(name="张建国").id_number_masked in text
    assert "13912345678" not in text  # the household's phone, masked as on the page
    assert len(response.content) < 400_000  # the font is embedded as a subset, not its 4 MB


def test_the_county_admin_may_print_full_numbers_and_each_such_print_is_a_sensitive_read(
    client, worked, county_admin
):
    client.force_login(county_admin)
    _, masked = read_pdf(client.get(reverse("dossiers:pdf", args=[worked.pk])).content)
    assert FULL_ID not in masked  # masked unless asked, as on the page
    _, full = read_pdf(client.get(reverse("dossiers:pdf", args=[worked.pk]) + "?full=1").content)
    assert FULL_ID in full and "13912345678" in full
    entry = AuditEntry.objects.filter(household_id=worked.pk, action=Action.SENSITIVE_READ).latest("seq")
    assert entry.username == "county_admin" and "一户一档" in entry.detail and "完整" in entry.detail
    assert FULL_ID not in entry.detail


@pytest.mark.parametrize("persona", ["village_cadre", "township_reviewer", "supervisor"])
def test_a_role_without_the_right_to_export_ids_never_gets_a_full_id(client, worked, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(reverse("dossiers:pdf", args=[worked.pk]) + "?full=1").status_code == 403
    assert client.get(reverse("dossiers:archive", args=[worked.pk]) + "?full=1").status_code == 403
    _, text = read_pdf(client.get(reverse("dossiers:pdf", args=[worked.pk])).content)
    assert not ID_RUN.search(text.replace(" ", "")) and FULL_ID not in text
    page = client.get(reverse("registry:household_detail", args=[worked.pk])).content.decode()
    assert "打印一户一档" in page and "?full=1" not in page


def test_the_county_admins_household_page_offers_the_full_print(client, worked, county_admin):
    client.force_login(county_admin)
    page = client.get(reverse("registry:household_detail", args=[worked.pk])).content.decode()
    assert "打印一户一档" in page and "下载档案包" in page and "?full=1" in page


def test_every_dossier_export_is_in_the_audit_log(client, worked, village_cadre):
    client.force_login(village_cadre)
    before = AuditEntry.objects.filter(household_id=worked.pk, action=Action.EXPORT).count()
    client.get(reverse("dossiers:pdf", args=[worked.pk]))
    client.get(reverse("dossiers:archive", args=[worked.pk]))
    entries = AuditEntry.objects.filter(household_id=worked.pk, action=Action.EXPORT).order_by("seq")
    assert entries.count() == before + 2
    assert [e.username for e in entries[before:]] == ["village_a1", "village_a1"]
    assert "PDF" in entries[before].detail and "档案包" in entries[before + 1].detail
    assert all("已脱敏" in e.detail for e in entries[before:])


def test_another_villages_household_cannot_be_printed(client, register, village_cadre, department_officer):
    client.force_login(village_cadre)
    for name in ("dossiers:pdf", "dossiers:archive"):
        assert client.get(reverse(name, args=[other().pk])).status_code == 404, name
    assert client.post(reverse("dossiers:batch", args=[builders.VILLAGE_B1])).status_code == 403
    assert client.post(reverse("dossiers:batch", args=[builders.TOWNSHIP_A])).status_code == 403  # above them
    client.force_login(department_officer)
    assert client.get(reverse("dossiers:pdf", args=[own().pk])).status_code == 403
    assert not AuditEntry.objects.filter(household_id=other().pk, action=Action.EXPORT).exists()


def test_the_archive_holds_the_pdf_and_the_households_files_named_without_numbers(
    client, worked, village_cadre, county_staff, tmp_path
):
    from fangpin.rectification import actions as rectification
    from fangpin.rectification.models import Event

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff photo bytes")
    Attachment.objects.create(household=worked, region_code=worked.region_code, kind="photo", path=str(photo),
                              name=f"{FULL_ID}身份证.JPG", size=photo.stat().st_size, uploaded_by=village_cadre)  # fmt: skip
    elsewhere = tmp_path / "other.pdf"
    elsewhere.write_bytes(b"%PDF-1.4 other")
    Attachment.objects.create(household=other(), region_code=other().region_code, kind="form", path=str(elsewhere),
                              name="柳庄村.pdf", size=14, uploaded_by=county_staff)  # fmt: skip
    batch = rectification.create_batch(
        user=county_staff, name="督导反馈", source="supervision", region=county_staff.region
    )
    item = rectification.add_item(user=county_staff, batch=batch, description="东关村监测户帮扶措施不精准",
                                  responsible_unit="古绛镇", deadline=dt.date(2026, 12, 31),
                                  region=Region.objects.get(code=builders.VILLAGE_A1))  # fmt: skip
    item.households.add(worked)
    evidence = tmp_path / "evidence.pdf"
    evidence.write_bytes(b"%PDF-1.4 evidence")
    Event.objects.create(item=item, kind=Event.Kind.EVIDENCE, user=county_staff, file_path=str(evidence),
                         file_name="13912345678整改.pdf")  # fmt: skip

    client.force_login(village_cadre)
    response = client.get(reverse("dossiers:archive", args=[worked.pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert len(names) == 3, names
    assert not any(re.search(r"\d{11,}", name) for name in names), names  # no ID or phone in a name
    pdf_name = next(n for n in names if n.endswith(".pdf") and "/" not in n)
    _, text = read_pdf(archive.read(pdf_name))
    assert "东关村监测户帮扶措施不精准" in text  # the rectification item, for a role that sees the ledger
    photo_name = next(n for n in names if n.startswith("附件/"))
    assert photo_name.endswith(".jpg") and "现场照片" in photo_name
    assert archive.read(photo_name) == photo.read_bytes()
    assert archive.read(next(n for n in names if n.startswith("整改佐证/"))) == evidence.read_bytes()
    reads = AuditEntry.objects.filter(
        household_id=worked.pk, action=Action.SENSITIVE_READ, detail__contains="档案包"
    )
    assert reads.count() == 2  # each file handed out, as the attachment page records each view


@pytest.fixture
def village_of_three(regions, tmp_path):
    from fangpin.registry.importer import import_register

    rows = builders.standard_rows() + builders.family(
        "H004", builders.VILLAGE_A1, [("孙立平", builders.pid(61), "户主", "男")]
    ) + builders.family("H005", builders.VILLAGE_A1, [("周红梅", builders.pid(71), "户主", "女")])  # fmt: skip
    assert import_register(builders.write_xlsx(tmp_path / "register.xlsx", rows)).ok


def test_a_village_prints_all_its_dossiers_as_one_pdf_in_a_job(
    client, village_of_three, village_cadre, django_capture_on_commit_callbacks
):
    client.force_login(village_cadre)
    page = client.get(reverse("dossiers:index")).content.decode()
    assert "批量打印本村档案" in page and "柳庄村" not in page
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("dossiers:batch", args=[builders.VILLAGE_A1]))
    job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    job = run_job(job_id)
    assert job.status == Status.SUCCEEDED and job.percent == 100 and job.summary["households"] == 3
    assert job.result_name == "东关村一户一档.pdf" and job.progress() == {
        **job.progress(),
        "done": 3,
        "total": 3,
    }
    with open(job.result_path, "rb") as fh:
        reader, text = read_pdf(fh.read())
    assert_a4(reader)
    assert "/FontFile2" in embedded_font_files(reader)
    assert {"张建国户一户一档", "孙立平户一户一档", "周红梅户一户一档"} <= set(text.split())
    assert "赵敏" not in text and "王强" not in text  # other villages
    assert not ID_RUN.search(text.replace(" ", ""))
    assert text.count("第1页") == 3  # each household starts on its own page, numbered from 1
    exported = AuditEntry.objects.filter(action=Action.EXPORT, detail__contains="批量打印一户一档")
    assert set(exported.values_list("household_id", flat=True)) == set(
        Household.objects.filter(region_code=builders.VILLAGE_A1).values_list("pk", flat=True)
    )
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 200


def test_a_township_prints_a_zip_with_one_pdf_per_village(
    village_of_three, township_reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = dossiers.queue_batch(
            user=township_reviewer, region=Region.objects.get(code=builders.TOWNSHIP_A)
        )
    job = run_job(job.pk)
    assert job.status == Status.SUCCEEDED and job.result_name == "古绛镇一户一档.zip"
    archive = zipfile.ZipFile(job.result_path)
    assert sorted(archive.namelist()) == ["东关村一户一档.pdf", "西街村一户一档.pdf"]
    _, text = read_pdf(archive.read("西街村一户一档.pdf"))
    assert "王强户一户一档" in text and "张建国" not in text


def test_a_batch_builds_each_households_flowables_only_when_they_are_laid_out(
    monkeypatch, register, county_staff
):
    """Bounded memory: reportlab is fed one household at a time, not a story of the whole village."""
    from fangpin.dossiers import content

    dossier = content.build(own(), user=county_staff)
    built, buffered = [], []
    original = dossier_pdf.LazyStory._fill

    def watched_fill(self):  # type: ignore[no-untyped-def]
        original(self)
        buffered.append(list.__len__(self))

    monkeypatch.setattr(dossier_pdf.LazyStory, "_fill", watched_fill)

    def many():  # type: ignore[no-untyped-def]
        for i in range(30):
            built.append(i)
            yield dossier

    out = io.BytesIO()
    dossier_pdf.write(many(), out, title="测试", on_household=lambda: None)
    one_household = len(dossier_pdf.flowables(dossier, dossier_pdf._styles()))
    assert len(built) == 30 and len(PdfReader(out).pages) >= 30
    assert max(buffered) < dossier_pdf.LazyStory.AHEAD + one_household + 1


def test_a_cadre_without_export_rights_cannot_print_a_whole_village(client, register, regions):
    from fangpin.accounts.actions import create_user
    from fangpin.accounts.roles import Role
    from tests.conftest import PASSWORD

    cadre = create_user(
        username="bangfu", password=PASSWORD, role=Role.CADRE, region_code=builders.VILLAGE_A1
    )
    client.force_login(cadre)
    assert client.post(reverse("dossiers:batch", args=[builders.VILLAGE_A1])).status_code == 403
    assert client.get(reverse("dossiers:index")).status_code == 403
    assert client.get(reverse("dossiers:pdf", args=[own().pk])).status_code == 200  # its household's page


def test_the_notice_docx_is_a4(register, county_staff):
    from docx import Document
    from docx.shared import Mm

    from fangpin.monitoring import notice

    village = Region.objects.get(code=builders.VILLAGE_A1)
    document = Document(io.BytesIO(notice.as_docx(notice.build(village, "identification"))))
    for section in document.sections:
        assert abs(section.page_width - Mm(210)) < Mm(0.5) and abs(section.page_height - Mm(297)) < Mm(0.5)
        assert section.left_margin >= Mm(20) and section.right_margin >= Mm(20)
