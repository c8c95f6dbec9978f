"""HTML in names and notes is shown as typed: in every page, in the .docx and in the PDF."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse

from fangpin.audit.context import acting_as
from fangpin.monitoring import actions
from fangpin.monitoring.models import Case
from fangpin.rectification import actions as rectification
from fangpin.regions.models import Region
from fangpin.registry.models import Household, Member
from fangpin.rules.actions import run_screening
from fangpin.rules.models import Finding

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
MARKUP = "<b>王</b>&amp;"
SCRIPT_SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;"
MARKUP_SHOWN = "&lt;b&gt;王&lt;/b&gt;&amp;amp;"
START = dt.datetime(2026, 1, 5, 9, 0)


def walk(case: Case, *users) -> None:
    for user in users:
        actions.advance(
            user=user, case=case, checklist=list(actions.case_procedure(case).step(case.step).checklist)
        )


@pytest.fixture
def hostile(register, village_cadre, county_staff, time_machine) -> Household:
    """H001 with a hostile head name, member name and notes, a finding and a case in its notice."""
    time_machine.move_to(START)
    household = Household.objects.get(household_no="H001")
    Member.objects.filter(household=household, relation="户主").update(gender="女")  # a finding on H001
    run_screening(as_of=dt.date(2025, 6, 30))
    Household.objects.filter(pk=household.pk).update(head_name=SCRIPT)
    Member.objects.filter(household=household, relation="户主").update(name=SCRIPT)
    Member.objects.filter(household=household).exclude(relation="户主").update(name=MARKUP)
    Finding.objects.filter(household=household).update(message=f"{SCRIPT}{MARKUP}", outcome_note=MARKUP)
    household.refresh_from_db()
    case = actions.open_case(user=village_cadre, household=household, source="cadre",
                             proposed_category="边缘易致贫户", risk_types="因病")  # fmt: skip
    for user in (village_cadre, village_cadre, county_staff, village_cadre):
        time_machine.shift(dt.timedelta(days=0.5))
        walk(case, user)
    assert case.step == "notice"
    return household


def assert_escaped(html: str, where: str) -> None:
    assert SCRIPT not in html and MARKUP not in html, where
    assert SCRIPT_SHOWN in html or MARKUP_SHOWN in html, where


def test_pages_show_hostile_names_and_notes_as_text(client, hostile, county_admin, village_cadre):
    finding = Finding.objects.filter(household=hostile).first()
    assert finding is not None
    case = Case.objects.get(household=hostile)
    pages = {
        "户列表": reverse("registry:household_list"),
        "户详情": reverse("registry:household_detail", args=[hostile.pk]),
        "发现列表": reverse("rules:findings"),
        "发现详情": reverse("rules:finding", args=[finding.pk]),
        "程序列表": reverse("monitoring:list"),
        "程序详情": reverse("monitoring:case", args=[case.pk]),
    }
    client.force_login(village_cadre)
    for where, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_escaped(response.content.decode(), where)
    page = client.get(reverse("registry:household_detail", args=[hostile.pk])).content.decode()
    assert SCRIPT_SHOWN in page and MARKUP_SHOWN in page


def test_rectification_pages_show_hostile_notes_as_text(client, county_staff):
    with acting_as(county_staff, source="web"):
        batch = rectification.create_batch(user=county_staff, name=MARKUP, source="supervision",
                                           region=county_staff.region)  # fmt: skip
        item = rectification.add_item(
            user=county_staff, batch=batch, number=1, description=SCRIPT, region=county_staff.region,
            responsible_unit=MARKUP, deadline=dt.date(2027, 3, 1), measures=SCRIPT,
        )  # fmt: skip
    client.force_login(county_staff)
    for where, url in {
        "台账": reverse("rectification:ledger"),
        "批次": reverse("rectification:batch", args=[batch.pk]),
        "问题": reverse("rectification:item", args=[item.pk]),
    }.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_escaped(response.content.decode(), where)


def test_the_notice_docx_and_pdf_print_markup_as_typed(client, hostile, village_cadre):
    from docx import Document
    from pypdf import PdfReader

    # the village name reaches the title, the body and the signature (reportlab Paragraphs)
    Region.objects.filter(code=hostile.region_code).update(name=f"{MARKUP}村")
    client.force_login(village_cadre)
    docx = client.get(reverse("monitoring:notice", args=[hostile.region_code, "identification", "docx"]))
    pdf = client.get(reverse("monitoring:notice", args=[hostile.region_code, "identification", "pdf"]))
    assert docx.status_code == pdf.status_code == 200
    document = Document(io.BytesIO(docx.content))
    docx_text = "\n".join(
        [p.text for p in document.paragraphs]
        + [c.text for t in document.tables for r in t.rows for c in r.cells]
    )
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).replace(
        "\n", ""
    )
    for kind, text in (("docx", docx_text), ("pdf", pdf_text)):
        assert SCRIPT in text, kind  # the head's name, as typed
        assert f"{MARKUP}村村民委员会" in text, kind  # markup in a name is not applied, &amp; not decoded


def test_the_notice_pdf_survives_a_name_that_is_broken_markup(client, hostile, village_cadre):
    from pypdf import PdfReader

    Region.objects.filter(code=hostile.region_code).update(name="<para 王村")  # reportlab failed on this
    client.force_login(village_cadre)
    pdf = client.get(reverse("monitoring:notice", args=[hostile.region_code, "identification", "pdf"]))
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "<para 王村村民委员会" in text.replace("\n", "")
