"""官方统计表: each of the five tables against a county counted by hand, as of today and as of a past day
(after the data changed), scoped for a village, a township and the county (outside the scope: 404), and
every file read back (.xlsx A4 fit to width, .docx A4, .pdf A4 with the font embedded)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from docx import Document
from docx.shared import Mm

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Role
from fangpin.audit.models import AuditEntry
from fangpin.monitoring.models import Case, Measure, Pairing
from fangpin.regions.models import Region
from fangpin.registry.models import Household, Member
from fangpin.reports import actions, figures, tables
from fangpin.rules.models import Finding, ScreeningRun
from tests import builders
from tests.builders import VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, pid
from tests.conftest import PASSWORD
from tests.test_dossiers import A4_POINTS, embedded_font_files, read_pdf

pytestmark = pytest.mark.django_db

# The county by hand (fangpin learns it on 2026-02-01; H004's risk is eliminated on 2026-03-20):
#   H001 东关村 张建国+李秀英 边缘易致贫户 因病, open, paired with village_a1, no measure  → uncovered
#   H002 西街村 王强         脱贫不稳定户 因残, open, 综合保障+产业帮扶 running, 就业帮扶 ended 2026-06-30
#   H003 柳庄村 赵敏+赵小龙   not monitored
#   H004 东关村 陈刚+刘芳+陈小明 突发严重困难户 因病、因学, open until 2026-03-20, then 帮扶消除
# Warnings (period March 2026):             outcome                 case
#   W1 医保 H001 03-10   confirmed 03-12          C1 opened 03-10, done 03-20 (10 days)
#   W2 医保 H003 03-10   no_risk 03-13
#   W3 残联 H004 03-10   not verified
#   W4 残联 H002 03-10   confirmed 03-15          C2 opened 03-15, done 04-09 (25 days: late)
#   W5 医保 H003 03-11   wrong_person 03-14
#   W6 医保 H002 03-11   already_helped 03-16
#   W7 医保 H004 03-12   confirmed 03-18          no case
#   W8 残联 H003 03-20   confirmed 03-21          C3 opened 03-21, still open (overdue)
#   C4 H003 opened 03-05, closed (终止) 03-08, no warning
#   E1 H004 elimination opened 03-01, done 03-20 (19 days, within the 20 of procedure.toml)
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
APRIL = (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
MID_MARCH = dt.date(2026, 3, 15)
OUTSIDE_A1 = ("王强", "赵敏", "西街村", "柳庄村", "横水镇")  # what 东关村's cadre must never get


def _at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, hour, 0))


MONITORING = {
    "H001": {"monitoring_category": "边缘易致贫户", "risk_types": "因病", "identified_month": "202501"},
    "H002": {"monitoring_category": "脱贫不稳定户", "risk_types": "因残", "identified_month": "202502"},
    "H004": {
        "monitoring_category": "突发严重困难户",
        "risk_types": "因病、因学",
        "identified_month": "202410",
    },
}


def _warning(household, rule_id, created, outcome="", outcome_at=None) -> Finding:
    run = ScreeningRun.objects.first() or ScreeningRun.objects.create(as_of=created.date(), engine="duckdb")
    finding = Finding.objects.create(rule_id=rule_id, rule_version="1", family="部门预警", severity="警告",
                                     household=household, region_code=household.region_code, message="预警",
                                     first_run=run, last_run=run, outcome=outcome, outcome_at=outcome_at,
                                     status="verified" if outcome else "open")  # fmt: skip
    Finding.objects.filter(pk=finding.pk).update(created_at=created)
    return finding


def _case(
    household, user, opened, finished=None, *, status="done", kind="identification", finding=None, **extra
):
    return Case.objects.create(household=household, region_code=household.region_code, kind=kind, status=status,
                               step="county_approval", step_started_at=opened, opened_by=user, opened_at=opened,
                               finished_at=finished, finding=finding, **extra)  # fmt: skip


MEDICAL, DISABLED = "DEPT_MEDICAL_SELF_PAY_POVERTY", "DEPT_DISABILITY_NEW_OR_UPGRADED"


@pytest.fixture
def county(regions, tmp_path, county_staff, village_cadre):
    from fangpin.registry.importer import import_register

    with time_machine.travel(_at(2, 1), tick=True):
        result = import_register(builders.write_xlsx(tmp_path / "register.xlsx", builders.reports_county()))
        assert result.ok, [str(p) for p in result.problems]
        h = {x.household_no: x for x in Household.objects.all()}
        for number, fields in MONITORING.items():
            for name, value in {**fields, "risk_eliminated": False}.items():
                setattr(h[number], name, value)
            h[number].save()  # audited, as a case decision saves it
        Pairing.objects.create(household=h["H001"], region_code=VILLAGE_A1, cadre=village_cadre,
                               since=dt.date(2026, 2, 1), assigned_by=county_staff)  # fmt: skip
        for group, item, end in (("综合保障", "残疾人两项补贴", None), ("产业帮扶", "到户产业发展奖补", None),
                                 ("就业帮扶", "外出务工交通补贴", dt.date(2026, 6, 30))):  # fmt: skip
            Measure.objects.create(household=h["H002"], region_code=VILLAGE_A2, group=group, item=item,
                                   start=dt.date(2026, 2, 1), end=end, created_by=county_staff)  # fmt: skip
        actions.refresh_facts()
    w = {
        1: _warning(h["H001"], MEDICAL, _at(3, 10), "confirmed", _at(3, 12)),
        2: _warning(h["H003"], "DEPT_MEDICAL_SELF_PAY_OTHER", _at(3, 10), "no_risk", _at(3, 13)),
        3: _warning(h["H004"], DISABLED, _at(3, 10)),
        4: _warning(h["H002"], DISABLED, _at(3, 10), "confirmed", _at(3, 15)),
        5: _warning(h["H003"], MEDICAL, _at(3, 11), "wrong_person", _at(3, 14)),
        6: _warning(h["H002"], MEDICAL, _at(3, 11), "already_helped", _at(3, 16)),
        7: _warning(h["H004"], MEDICAL, _at(3, 12), "confirmed", _at(3, 18)),
        8: _warning(h["H003"], DISABLED, _at(3, 20), "confirmed", _at(3, 21)),
    }
    _case(h["H001"], county_staff, _at(3, 10), _at(3, 20), finding=w[1])
    _case(h["H002"], county_staff, _at(3, 15), _at(4, 9), finding=w[4])
    _case(h["H003"], county_staff, _at(3, 21), None, status="open", finding=w[8])
    _case(h["H003"], county_staff, _at(3, 5), _at(3, 8), status="closed")
    _case(h["H004"], county_staff, _at(3, 1), _at(3, 20), kind="elimination", elimination_method="帮扶消除")
    with time_machine.travel(_at(3, 20, 11), tick=True):  # the elimination's own save, after the case
        h004 = Household.objects.get(household_no="H004")
        h004.risk_eliminated, h004.eliminated_month, h004.elimination_method = True, "202603", "帮扶消除"
        h004.save()
        actions.refresh_facts()
    actions.refresh_facts()
    return h


def _scope(user, region_code=None, day=None, period=MARCH) -> tables.Scope:
    region = Region.objects.get(code=region_code) if region_code else user.region
    return tables.Scope(user, region, day or timezone.localdate(), *period)


def _rows_of(key, user, region_code=None, day=None, period=MARCH) -> list[dict]:
    return list(tables.rows(tables.TABLES[key], _scope(user, region_code, day, period)))


def _mask(name: str) -> str:
    return Member.objects.get(name=name).id_number_masked


def test_the_monitored_list_is_the_hand_count_as_of_today_and_as_of_mid_march(county, county_staff):
    today = _rows_of("monitored", county_staff)
    assert [(r["no"], r["village"], r["head"], r["people"], r["status"]) for r in today] == [
        (1, "东关村", "张建国", 2, "风险未消除"), (2, "东关村", "陈刚", 3, "风险已消除"),
        (3, "西街村", "王强", 1, "风险未消除")]  # fmt: skip
    zhang, chen, wang = today
    assert (
        zhang["id_masked"] == _mask("张建国") and "*" in zhang["id_masked"] and zhang["township"] == "古绛镇"
    )
    assert (zhang["category"], zhang["risks"], zhang["identified"]) == ("边缘易致贫户", "因病", "2025年1月")
    assert zhang["cadre"] == "village_a1" and zhang["household_no"] == "H001"
    assert (chen["method"], chen["eliminated"], chen["risks"]) == ("帮扶消除", "2026年3月", "因病、因学")
    assert wang["measures"] == "产业帮扶、综合保障"  # the 就业帮扶 measure ended in June
    march = _rows_of("monitored", county_staff, day=MID_MARCH)
    assert [(r["head"], r["status"], r["method"], r["eliminated"]) for r in march] == [
        ("张建国", "风险未消除", "", ""), ("陈刚", "风险未消除", "", ""), ("王强", "风险未消除", "", "")]  # fmt: skip
    assert march[2]["measures"] == "产业帮扶、就业帮扶、综合保障"
    assert _rows_of("monitored", county_staff, day=dt.date(2026, 1, 31)) == []  # before fangpin knew them


def test_the_elimination_list_holds_the_cases_decided_in_the_period(county, county_staff):
    (row,) = _rows_of("eliminated", county_staff)
    assert (row["village"], row["head"], row["id_masked"], row["people"]) == (
        "东关村",
        "陈刚",
        _mask("陈刚"),
        3,
    )
    # the household as monitored when the risk was declared eliminated
    assert (row["category"], row["risks"], row["identified"]) == (
        "突发严重困难户",
        "因病、因学",
        "2024年10月",
    )
    assert (row["method"], row["opened"], row["finished"], row["days"], row["on_time"]) == (
        "帮扶消除", "2026-03-01", "2026-03-20", 19, "按时")  # fmt: skip
    assert _rows_of("eliminated", county_staff, period=APRIL) == []


def test_the_measures_table_is_the_hand_count(county, county_staff):
    keys = ("unit", "monitored", "open", "with_measures", "covered", "uncovered", "labour", "developed", "paired",
            "running", "completed")  # fmt: skip
    got = [tuple(r[k] for k in keys) for r in _rows_of("measures", county_staff)]
    assert got == [("古绛镇", 3, 2, 1, 1, 1, 2, 1, 1, 2, 1), ("横水镇", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                   ("合计", 3, 2, 1, 1, 1, 2, 1, 1, 2, 1)]  # fmt: skip
    march = [tuple(r[k] for k in keys) for r in _rows_of("measures", county_staff, day=MID_MARCH)]
    assert march[0] == ("古绛镇", 3, 3, 1, 1, 2, 3, 1, 1, 3, 0)
    township = [r["unit"] for r in _rows_of("measures", county_staff, builders.TOWNSHIP_A)]
    assert township == ["东关村", "西街村", "合计"]
    # the dashboard's coverage for the same scope and day says the same
    coverage = figures.overview(Region.objects.get(code=builders.COUNTY), timezone.localdate()).coverage
    total = _rows_of("measures", county_staff)[-1]
    assert (coverage["open"], coverage["covered"], coverage["labour_developed"], coverage["paired"]) == (
        total["open"], total["covered"], total["developed"], total["paired"])  # fmt: skip


DEPARTMENT_KEYS = ("unit", "raised", "verified", "right", "confirmed", "included", "not_included", "no_risk",
                   "wrong_person", "already_helped", "identifying", "closed", "not_opened", "precision")  # fmt: skip


def test_the_department_table_is_the_hand_count_and_the_dashboards_figures(county, county_staff):
    got = {r["unit"]: tuple(r[k] for k in DEPARTMENT_KEYS[1:]) for r in _rows_of("departments", county_staff)}
    assert got == {
        "医保": (5, 5, 3, 2, 1, 4, 1, 1, 1, 0, 0, 1, 3 / 5),
        "残联": (3, 2, 2, 2, 1, 1, 0, 0, 0, 1, 0, 0, 1.0),
        "合计": (8, 7, 5, 4, 2, 5, 1, 1, 1, 1, 0, 1, 5 / 7),
    }
    dashboard = figures.by_department(Region.objects.get(code=builders.COUNTY), *MARCH)
    for d in dashboard:
        row = got[d["department"]]
        assert (d["raised"], d["verified"], d["right"], d["confirmed"]) == row[:4]
        assert d["precision"] == tables.display(tables.Column("p", "", "percent"), row[-1])
    # as of 2026-03-31 W4's case (done 04-09) was still being identified
    march_end = {r["unit"]: r for r in _rows_of("departments", county_staff, day=MARCH[1])}
    assert (march_end["残联"]["included"], march_end["残联"]["identifying"]) == (0, 2)


TIMELINESS_KEYS = (
    "unit",
    "opened",
    "identified",
    "on_time",
    "late",
    "closed",
    "open",
    "overdue",
    "average",
    "rate",
)


def test_the_timeliness_table_counts_against_the_configured_limit(county, county_staff, settings, tmp_path):
    got = [tuple(r[k] for k in TIMELINESS_KEYS) for r in _rows_of("timeliness", county_staff)]
    assert got == [("古绛镇", 2, 1, 1, 0, 0, 0, 0, 10.0, 1.0), ("横水镇", 2, 0, 0, 0, 1, 1, 1, None, None),
                   ("合计", 4, 1, 1, 0, 1, 1, 1, 10.0, 1.0)]  # fmt: skip
    april = [tuple(r[k] for k in TIMELINESS_KEYS) for r in _rows_of("timeliness", county_staff, period=APRIL)]
    assert april[0] == ("古绛镇", 0, 1, 0, 1, 0, 0, 0, 25.0, 0.0)
    pipeline = figures.pipeline(Region.objects.get(code=builders.COUNTY), *MARCH)
    assert (pipeline["case_opened"], pipeline["identified"], pipeline["identified_on_time"]) == got[-1][1:4]
    # as of 2026-03-25 the open case (opened 03-21) was within its 15 days; C2 (03-15) too
    march = _rows_of(
        "timeliness", county_staff, day=dt.date(2026, 3, 25), period=(MARCH[0], dt.date(2026, 3, 25))
    )
    assert (march[-1]["open"], march[-1]["overdue"]) == (2, 0)
    # the limit is configuration: a 30-day limit makes C2 timely
    text = Path(tables.procedure.__file__).with_name("procedure.toml").read_text()
    settings.FANGPIN_PROCEDURE_FILE = str(tmp_path / "procedure.toml")
    (tmp_path / "procedure.toml").write_text(text.replace("total_days = 15", "total_days = 30", 1))
    relaxed = _rows_of("timeliness", county_staff, period=APRIL)
    assert (relaxed[0]["on_time"], relaxed[0]["late"]) == (1, 0)


def test_an_old_date_asked_after_a_change_gives_the_old_rows(county, county_staff):
    before = {
        key: _rows_of(key, county_staff, day=MID_MARCH, period=(MARCH[0], MID_MARCH)) for key in tables.TABLES
    }
    h003 = county["H003"]
    h003.monitoring_category, h003.risk_types, h003.identified_month = "边缘易致贫户", "因学", "202612"
    h003.save()
    zhang = Household.objects.get(household_no="H001")
    zhang.head_name = "张建华"
    zhang.save()
    measure = Measure.objects.get(group="综合保障")
    measure.end = dt.date(2026, 3, 1)  # a backdated end, entered today
    measure.save()
    actions.refresh_facts()
    after = {
        key: _rows_of(key, county_staff, day=MID_MARCH, period=(MARCH[0], MID_MARCH)) for key in tables.TABLES
    }
    assert after == before
    today = _rows_of("monitored", county_staff)
    assert [r["head"] for r in today] == ["张建华", "陈刚", "王强", "赵敏"]


def _get(client, user, **params):
    client.force_login(user)
    return client.get(reverse("reports:tables_export"), params)


def test_every_format_is_scoped_and_outside_the_scope_is_refused(
    client, county, village_cadre, township_reviewer
):
    for key in tables.TABLES:
        client.force_login(village_cadre)
        page = client.get(reverse("reports:tables"), {"table": key}).content.decode()
        assert not any(word in page for word in OUTSIDE_A1), key
        for fmt in ("xlsx", "docx", "pdf"):
            text = _text(fmt, _get(client, village_cadre, table=key, format=fmt).content)
            assert "东关村" in text and not any(word in text for word in OUTSIDE_A1), (key, fmt)
        for region in (VILLAGE_B1, builders.COUNTY, builders.TOWNSHIP_A):
            assert client.get(reverse("reports:tables"), {"table": key, "region": region}).status_code == 404
            assert _get(client, village_cadre, table=key, region=region, format="pdf").status_code == 404
        assert (
            _get(client, township_reviewer, table=key, region=builders.COUNTY, format="xlsx").status_code
            == 404
        )
    page = client.get(reverse("reports:tables"), {"table": "monitored"}).content.decode()
    assert "张建国" in page and "陈刚" in page
    township = _text("xlsx", _get(client, township_reviewer, table="measures", format="xlsx").content)
    assert "东关村" in township and "西街村" in township and "柳庄村" not in township
    cadre = create_user(username="bangfu", password=PASSWORD, role=Role.CADRE, region_code=VILLAGE_A1)
    client.force_login(cadre)
    assert client.get(reverse("reports:tables")).status_code == 200  # may read the tables, not take them away
    assert client.get(reverse("reports:tables_export"), {"format": "xlsx"}).status_code == 403


def test_the_county_page_shows_the_hand_count_and_pages_a_detail_list_by_key(client, county, county_staff):
    client.force_login(county_staff)
    page = client.get(reverse("reports:tables"), {"table": "departments", "start": "2026-03-01",
                                                  "end": "2026-03-31", "reviewer": "李审核"}).content.decode()  # fmt: skip
    assert "部门预警信息处置情况表" in page and "60.0%" in page and "71.4%" in page
    assert "填报单位：绛县" in page and "制表人：county_staff" in page and "审核人：李审核" in page
    listing = client.get(reverse("reports:tables"), {"table": "monitored"}).content.decode()
    assert 'id="table-total">3<' in listing and "张建国" in listing and ">统计表<" in listing
    # a detail list is paged by key and numbered on across pages
    scope = _scope(county_staff)
    first = tables.page(tables.MONITORED, scope, size=2)
    assert [r["no"] for r in first.rows] == [1, 2] and first.total == 3 and first.next_cursor
    second = tables.page(tables.MONITORED, scope, first.next_cursor, first=3, size=2)
    assert [(r["no"], r["head"]) for r in second.rows] == [(3, "王强")] and not second.next_cursor


def _text(fmt: str, body: bytes) -> str:
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(body)).active
        return "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    if fmt == "docx":
        document = Document(io.BytesIO(body))
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    return read_pdf(body)[1]


def test_the_files_read_back_on_a4_with_the_dashboards_figures(client, county, county_staff):
    params = {"table": "departments", "start": "2026-03-01", "end": "2026-03-31", "preparer": "王制表",
              "reviewer": "李审核"}  # fmt: skip
    dashboard = {
        d["department"]: d for d in figures.by_department(Region.objects.get(code=builders.COUNTY), *MARCH)
    }
    # .xlsx: A4, fit to one page wide, numbers as right-aligned numbers, the heading lines around the table
    book = openpyxl.load_workbook(io.BytesIO(_get(client, county_staff, format="xlsx", **params).content))
    sheet = book.active
    # fit to one page wide, as many pages tall as needed (fitToWidth left out means its default, 1)
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.fitToWidth in (None, 1)
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "绛县部门预警信息处置情况表"
    assert (
        rows[1][0].startswith("填报单位：绛县　统计截止日期：")
        and "统计期间：2026年3月1日至2026年3月31日" in rows[1][0]
    )
    assert rows[2][:2] == ("部门", "推送")
    by_unit = {r[0]: r for r in rows[3:6]}
    for department, d in dashboard.items():
        assert by_unit[department][1:5] == (d["raised"], d["verified"], d["right"], d["confirmed"])
        assert f"{100 * by_unit[department][-1]:.1f}%" == d["precision"]
    assert by_unit["合计"][1:8] == (8, 7, 5, 4, 2, 5, 1)
    assert sheet.cell(row=4, column=2).alignment.horizontal == "right"
    assert any(
        r[0] and "制表人：王制表" in r[0] and "审核人：李审核" in r[0] and "制表日期：" in r[0] for r in rows
    )
    # .docx: an A4 section, the same figures, numbers right-aligned
    document = Document(io.BytesIO(_get(client, county_staff, format="docx", **params).content))
    section = document.sections[0]
    assert {round(section.page_width / Mm(1)), round(section.page_height / Mm(1))} == {210, 297}
    (grid,) = document.tables
    docx_rows = {row.cells[0].text: [c.text for c in row.cells] for row in grid.rows}
    assert (
        docx_rows["医保"][1:5] == ["5", "5", "3", "2"]
        and docx_rows["医保"][-1] == dashboard["医保"]["precision"]
    )
    assert grid.rows[1].cells[1].paragraphs[0].alignment == 2  # WD_ALIGN_PARAGRAPH.RIGHT
    texts = "\n".join(p.text for p in document.paragraphs)
    assert "填报单位：绛县" in texts and "制表人：王制表" in texts and "审核人：李审核" in texts
    # .pdf: A4 (landscape for a wide table), the CJK font embedded, the same figures
    reader, text = read_pdf(_get(client, county_staff, format="pdf", **params).content)
    for page in reader.pages:
        assert sorted(round(float(x)) for x in (page.mediabox.width, page.mediabox.height)) == sorted(
            A4_POINTS
        )
    assert "/FontFile2" in embedded_font_files(reader)
    assert (
        "绛县部门预警信息处置情况表" in text
        and "60.0%" in text
        and "71.4%" in text
        and "审核人：李审核" in text
    )
    assert AuditEntry.objects.filter(action="export", model="reports.OfficialTable").count() == 3


def test_the_detail_files_hold_masks_only_and_formulas_stay_text(client, county, county_staff):
    zhang = Household.objects.get(household_no="H001")
    zhang.head_name = '=HYPERLINK("http://x","y")'
    zhang.save()
    for fmt in ("xlsx", "docx", "pdf"):
        body = _get(client, county_staff, table="monitored", format=fmt).content
        text = _text(fmt, body)
        assert _mask("陈刚") in text and pid(61) not in text and pid(11) not in text, fmt
        if fmt == "pdf":
            reader, _ = read_pdf(body)
            assert "/FontFile2" in embedded_font_files(reader)
            assert all(
                round(float(p.mediabox.width)) == 842 for p in reader.pages
            )  # a wide list: landscape A4
    sheet = openpyxl.load_workbook(
        io.BytesIO(_get(client, county_staff, table="monitored", format="xlsx").content)
    ).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == zhang.head_name]
    assert cells and all(c.data_type == "s" for c in cells)
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    details = AuditEntry.objects.filter(action="export", model="reports.OfficialTable").values_list(
        "detail", flat=True
    )
    assert len(details) == 4 and all("防止返贫监测对象明细表" in d for d in details)
