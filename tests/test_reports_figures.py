"""The dashboard and the cross-tab against a county counted by hand, as of today and as of a past day,
for the county, a township and a village cadre (who must never see another village's numbers)."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from fangpin.monitoring.models import Case, Measure, Visit
from fangpin.regions.models import Region
from fangpin.registry.models import Household
from fangpin.reports import actions, crosstab, figures
from fangpin.reports.models import CountDay, HouseholdFact
from fangpin.rules.models import Finding, ScreeningRun
from tests import builders
from tests.builders import VILLAGE_A1, VILLAGE_A2, VILLAGE_B1

# The county by hand:
#   H001 东关村 一般农户 边缘易致贫户 2人 因病, risk open, no measure        → risk without measure
#   H002 西街村 脱贫户   脱贫不稳定户 1人 因残, risk open, 综合保障+产业帮扶 → covered, developed
#   H003 柳庄村 一般农户 not monitored 2人
#   H004 东关村 脱贫户   突发严重困难户 3人 因病、因学, eliminated (帮扶消除)
# Monitored: 3 households, 6 people. Open: 2 (3 people). Eliminated: 1 (3 people).
# Labour-capable (everyone is 普通劳动力) among open: 2, with a development measure: 1 (H002).
# Visits: identified 2025-01 so all are overdue, except H002 visited yesterday → overdue 2.


MONITORING = {
    "H001": {"monitoring_category": "边缘易致贫户", "risk_types": "因病", "risk_eliminated": False},
    "H002": {"monitoring_category": "脱贫不稳定户", "risk_types": "因残", "risk_eliminated": False},
    "H004": {"monitoring_category": "突发严重困难户", "risk_types": "因病、因学", "risk_eliminated": True,
             "elimination_method": "帮扶消除", "eliminated_month": "202506"},
}  # fmt: skip


@pytest.fixture
def county(regions, tmp_path, county_staff):
    from fangpin.registry.importer import import_register

    result = import_register(builders.write_xlsx(tmp_path / "register.xlsx", builders.reports_county()))
    assert result.ok, [str(p) for p in result.problems]
    households = {h.household_no: h for h in Household.objects.all()}
    for number, fields in MONITORING.items():
        household = households[number]
        for name, value in {**fields, "identified_month": "202501"}.items():
            setattr(household, name, value)
        household.save()  # audited, as the case decision saves it
    today = timezone.localdate()
    for group, item in (("综合保障", "残疾人两项补贴"), ("产业帮扶", "到户产业发展奖补")):
        Measure.objects.create(household=households["H002"], region_code=VILLAGE_A2, group=group, item=item,
                               start=today - dt.timedelta(days=60), created_by=county_staff)  # fmt: skip
    Visit.objects.create(household=households["H002"], region_code=VILLAGE_A2, visitor=county_staff,
                         visited_on=today - dt.timedelta(days=1), notes="走访")  # fmt: skip
    return households


def _overview(region_code: str, day: dt.date | None = None):
    return figures.overview(Region.objects.get(code=region_code), day or timezone.localdate())


def test_the_county_figures_equal_the_hand_count(county):
    actions.refresh_facts()
    got = _overview(builders.COUNTY)
    assert got.monitored["households"] == 3 and got.monitored["people"] == 6
    assert got.monitored["all_households"] == 4 and got.monitored["all_people"] == 8
    assert (got.monitored["open"], got.monitored["open_people"]) == (2, 3)
    assert (got.monitored["eliminated"], got.monitored["eliminated_people"]) == (1, 3)
    assert got.monitored["overdue"] == 2
    assert {r["label"]: r["households"] for r in got.by_category} == {
        "脱贫不稳定户": 1, "边缘易致贫户": 1, "突发严重困难户": 1}  # fmt: skip
    assert {r["label"]: r["households"] for r in got.by_type} == {"脱贫户": 2, "一般农户": 1}
    risks = {r["label"]: (r["open"], r["eliminated"]) for r in got.by_risk}
    assert risks == {"因病": (1, 1), "因残": (1, 0), "因学": (0, 1)} and list(risks) == [
        "因病",
        "因残",
        "因学",
    ]
    assert got.coverage == {"open": 2, "covered": 1, "labour": 2, "labour_developed": 1, "paired": 0,
                            "uncovered": 1, "undeveloped": 1, "unpaired": 2}  # fmt: skip
    label, children = figures.children(Region.objects.get(code=builders.COUNTY), timezone.localdate())
    assert label == "乡镇"
    assert [(c["name"], c["households"], c["people"], c["open"]) for c in children] == [
        ("古绛镇", 3, 6, 2), ("横水镇", 0, 0, 0)]  # fmt: skip


def test_a_village_sees_its_own_households_only(county):
    actions.refresh_facts()
    got = _overview(VILLAGE_A1)
    assert (got.monitored["households"], got.monitored["people"], got.monitored["open"]) == (2, 5, 1)
    assert figures.children(Region.objects.get(code=VILLAGE_A1), timezone.localdate()) == ("", [])


def _warning(household, rule_id: str, created: dt.datetime, outcome: str = "", outcome_at=None) -> Finding:
    run = ScreeningRun.objects.first() or ScreeningRun.objects.create(as_of=created.date(), engine="duckdb")
    finding = Finding.objects.create(rule_id=rule_id, rule_version="1", family="部门预警", severity="警告",
                                     household=household, region_code=household.region_code, message="预警",
                                     first_run=run, last_run=run, outcome=outcome, outcome_at=outcome_at,
                                     status="verified" if outcome else "open")  # fmt: skip
    Finding.objects.filter(pk=finding.pk).update(created_at=created)
    return finding


def test_the_pipeline_counts_warnings_by_department_and_cases_against_the_clock(county, county_staff):
    at = timezone.make_aware(dt.datetime(2026, 3, 10, 10, 0))
    h = county
    _warning(h["H001"], "DEPT_MEDICAL_SELF_PAY_POVERTY", at, "confirmed", at + dt.timedelta(days=2))
    _warning(h["H003"], "DEPT_MEDICAL_SELF_PAY_OTHER", at, "no_risk", at + dt.timedelta(days=3))
    _warning(h["H004"], "DEPT_DISABILITY_NEW_OR_UPGRADED", at)
    _warning(h["H002"], "DEPT_MEDICAL_SELF_PAY_POVERTY", at - dt.timedelta(days=90))  # before the period
    for number, days in (("H001", 10), ("H002", 25)):  # within 15 days, and late (in April)
        Case.objects.create(household=h[number], region_code=h[number].region_code, kind="identification",
                            status="done", step="county_approval", step_started_at=at, opened_by=county_staff,
                            opened_at=at, finished_at=at + dt.timedelta(days=days))  # fmt: skip
    actions.refresh_facts()
    county_region = Region.objects.get(code=builders.COUNTY)
    flows = figures.pipeline(county_region, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert flows["warning_raised"] == 3 and flows["warning_verified"] == 2 and flows["warning_confirmed"] == 1
    assert flows["case_opened"] == 2 and flows["identified"] == 1 and flows["identified_on_time"] == 1
    april = figures.pipeline(county_region, dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert april["identified"] == 1 and april["identified_on_time"] == 0  # the 25-day case, finished in April
    departments = {d["department"]: d for d in figures.by_department(county_region, dt.date(2026, 3, 1),
                                                                     dt.date(2026, 3, 31))}  # fmt: skip
    assert departments["医保"]["raised"] == 2 and departments["医保"]["verified"] == 2
    assert departments["医保"]["precision"] == "50.0%"
    assert departments["残联"]["raised"] == 1 and departments["残联"]["precision"] == "—"
    village = figures.pipeline(Region.objects.get(code=VILLAGE_B1), dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert village["warning_raised"] == 1 and village["identified"] == 0


def test_an_old_date_asked_after_a_change_gives_the_old_numbers(county):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    actions.refresh_facts(now=timezone.now() - dt.timedelta(days=2))  # fangpin knew the county two days ago
    h003 = county["H003"]
    h003.monitoring_category, h003.risk_types, h003.risk_eliminated = "边缘易致贫户", "因学", False
    h003.save()  # today: H003 becomes monitored (an audited change the refresh reads from the log)
    stats = actions.refresh_facts()
    assert stats == {"read": 1, "closed": 1, "opened": 1}
    assert _overview(builders.COUNTY).monitored["households"] == 4
    # yesterday, first asked only now, after the change: what fangpin knew at the end of yesterday
    assert not CountDay.objects.filter(as_of=yesterday).exists()
    assert _overview(builders.COUNTY, yesterday).monitored["households"] == 3
    # and the same request gives the same numbers, whatever changes meanwhile
    h003.monitoring_category = ""
    h003.save()
    actions.refresh_facts()
    assert _overview(builders.COUNTY, yesterday).monitored["households"] == 3
    assert _overview(builders.COUNTY).monitored["households"] == 3


def test_a_refresh_leaves_unchanged_households_untouched(county):
    actions.refresh_facts()
    before = dict(HouseholdFact.objects.values_list("household_id", "pk"))
    assert actions.refresh_facts() == {"read": 0, "closed": 0, "opened": 0}
    h001 = county["H001"]
    h001.risk_types = "因病、因残"
    h001.save()
    assert actions.refresh_facts() == {"read": 1, "closed": 1, "opened": 1}
    after = dict(HouseholdFact.objects.filter(valid_to__isnull=True).values_list("household_id", "pk"))
    assert {k for k in before if before[k] != after[k]} == {h001.pk}
    assert HouseholdFact.objects.filter(household_id=h001.pk).count() == 2


def test_the_crosstab_counts_and_totals(county):
    actions.refresh_facts()
    county_region, today = Region.objects.get(code=builders.COUNTY), timezone.localdate()
    table = crosstab.build(county_region, today, "township", "category", "households", {})
    cells = {r["label"]: r["cells"] for r in table.rows}
    labels = [label for _, label in table.columns]
    assert labels == ["脱贫不稳定户", "边缘易致贫户", "突发严重困难户", "非监测户"]
    assert cells == {"古绛镇": [1, 1, 1, 0], "横水镇": [0, 0, 0, 1]}
    assert table.total == 4 and table.column_totals == [1, 1, 1, 1]
    people = crosstab.build(county_region, today, "village", "status", "people", {"monitored": "1"})
    assert {r["label"]: r["total"] for r in people.rows} == {"东关村": 5, "西街村": 1, "柳庄村": 0}
    risks = crosstab.build(county_region, today, "household_type", "risk", "households", {})
    assert dict(zip([label for _, label in risks.columns], risks.column_totals, strict=True)) == {
        "因病": 2, "因残": 1, "因学": 1}  # fmt: skip
    assert risks.total == 4  # households counted once in the total, under each of their risks in the cells


def _numbers(html: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}">([^<]*)<', html).group(1)


def test_the_dashboard_page_drills_down_and_lists_the_households_behind_a_number(
    client, county, county_admin
):
    actions.refresh_facts()
    client.force_login(county_admin)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert _numbers(page, "count-monitored") == "3" and _numbers(page, "count-overdue") == "2"
    assert "古绛镇" in page and 'type="application/json"' in page and "<script>" not in page
    township = client.get(reverse("reports:dashboard"), {"region": builders.TOWNSHIP_A}).content.decode()
    assert "东关村" in township and "西街村" in township and "柳庄村" not in township
    listing = client.get(reverse("reports:households"), {"region": builders.COUNTY, "f_status": "open"})
    html = listing.content.decode()
    assert (
        _numbers(html, "households-total") == "2" and "H001" in html and "H002" in html and "H004" not in html
    )


def test_a_village_cadre_never_sees_another_villages_numbers(client, county, village_cadre):
    actions.refresh_facts()
    client.force_login(village_cadre)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert _numbers(page, "count-monitored") == "2"
    for name in ("reports:dashboard", "reports:households", "reports:crosstab", "reports:crosstab_export"):
        assert client.get(reverse(name), {"region": VILLAGE_B1}).status_code == 404, name
        assert client.get(reverse(name), {"region": builders.COUNTY}).status_code == 404, name
    listing = client.get(reverse("reports:households"), {"f_monitored": "0"}).content.decode()
    assert "赵敏" not in listing and "H003" not in listing
    table = client.get(reverse("reports:crosstab"), {"rows": "village", "cols": "category"}).content.decode()
    assert "柳庄村" not in table and "西街村" not in table
    export = client.get(reverse("reports:crosstab_export"), {"rows": "village", "cols": "category"})
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    names = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert "东关村" in names and "柳庄村" not in names and "西街村" not in names


def test_the_crosstab_export_reads_back_in_the_pivoted_layout_on_a4(client, county, county_staff):
    from fangpin.audit.models import AuditEntry

    actions.refresh_facts()
    client.force_login(county_staff)
    response = client.get(reverse("reports:crosstab_export"),
                          {"rows": "township", "cols": "category", "measure": "people"})  # fmt: skip
    assert response.status_code == 200 and ".xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "绛县乡镇×监测对象类别交叉统计表"
    assert (
        "填报单位：绛县" in rows[1][0] and f"统计截止日期：{timezone.localdate():%Y年%m月%d日}" in rows[1][0]
    )
    assert "单位：人" in rows[1][0]
    assert rows[2] == (
        "乡镇＼监测对象类别",
        "脱贫不稳定户",
        "边缘易致贫户",
        "突发严重困难户",
        "非监测户",
        "合计",
    )
    assert rows[3] == ("古绛镇", 1, 2, 3, 0, 6) and rows[4] == ("横水镇", 0, 0, 0, 2, 2)
    assert rows[5] == ("合计", 1, 2, 3, 2, 8)
    assert any(r[0] == "制表人：" for r in rows)
    assert sheet.page_setup.paperSize == 9  # A4
    assert AuditEntry.objects.filter(action="export", model="reports.Crosstab").count() == 1


def test_a_cell_of_the_crosstab_links_to_exactly_its_households(client, county, county_admin):
    actions.refresh_facts()
    client.force_login(county_admin)
    page = client.get(reverse("reports:crosstab"), {"rows": "township", "cols": "category"}).content.decode()
    links = re.findall(r'href="/reports/households/\?([^"]+)">1<', page)
    assert links, page
    query = links[0].replace("&amp;", "&")
    listing = client.get(reverse("reports:households") + "?" + query).content.decode()
    assert _numbers(listing, "households-total") == "1"


# ---- cases over the clock, and the lists behind the pipeline's numbers ---------------------------


def _at(day: str, time: str = "10:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day} {time}"))


def _case(household, kind: str, opened: dt.datetime, finished: dt.datetime | None = None,
          status: str = "", user=None) -> Case:  # fmt: skip
    status = status or ("done" if finished else "open")
    return Case.objects.create(household=household, region_code=household.region_code, kind=kind, status=status,
                               step="verify", step_started_at=opened, opened_by=user, opened_at=opened,
                               finished_at=finished)  # fmt: skip


# As of 2026-05-20 (its end: 05-21 00:00), with the limits of procedure.toml (identification 15 days,
# elimination 20; a case is late once (end of day − opened).days exceeds its limit):
#   C1 H001 identification opened 04-30 10:00, open                  → 20 days: late on 05-20
#   C2 H002 identification opened 04-01, decided 05-25 (after the day) → open on 05-20 and late; done today
#   C3 H004 elimination    opened 04-25 10:00, closed 05-22           → 25 days: late on 05-20; closed today
#   C4 H003 identification opened 05-10, open                          → 10 days: on time on 05-20, late today
#   C5 H002 identification opened 05-05 12:00, open                    → 15.5 days: .days = 15, not yet late
# On 05-20: identification 2 (C1 东关村, C2 西街村), elimination 1 (C3 东关村). Today: identification 3
# (C1, C4, C5), elimination 0.
AS_OF = dt.date(2026, 5, 20)


@pytest.fixture
def clock_cases(county, county_staff):
    h = county
    assert figures.limits() == {"identification": 15, "elimination": 20}  # the hand count's limits
    _case(h["H001"], "identification", _at("2026-04-30"), user=county_staff)
    _case(h["H002"], "identification", _at("2026-04-01"), _at("2026-05-25"), user=county_staff)
    _case(h["H004"], "elimination", _at("2026-04-25"), _at("2026-05-22"), "closed", user=county_staff)
    _case(h["H003"], "identification", _at("2026-05-10"), user=county_staff)
    _case(h["H002"], "identification", _at("2026-05-05", "12:00"), user=county_staff)
    actions.refresh_facts()
    return h


def test_cases_open_past_their_limit_as_of_a_past_day_and_today(clock_cases):
    county_region = Region.objects.get(code=builders.COUNTY)
    assert figures.over_limit(county_region, AS_OF) == {"identification": 2, "elimination": 1}
    # ten days earlier: only C2 (39 days); C1 was 10 days old, C3 15 of its 20
    assert figures.over_limit(county_region, AS_OF - dt.timedelta(days=10)) == {
        "identification": 1,
        "elimination": 0,
    }
    assert figures.over_limit(county_region, AS_OF + dt.timedelta(days=1))["identification"] == 3  # C5 now
    assert figures.over_limit(county_region, timezone.localdate()) == {"identification": 3, "elimination": 0}
    _, townships = figures.children(county_region, AS_OF)
    assert [(c["name"], c["identification_late"], c["elimination_late"]) for c in townships] == [
        ("古绛镇", 2, 1), ("横水镇", 0, 0)]  # fmt: skip
    _, villages = figures.children(Region.objects.get(code=builders.TOWNSHIP_A), AS_OF)
    assert [(c["name"], c["identification_late"], c["elimination_late"]) for c in villages] == [
        ("东关村", 1, 1), ("西街村", 1, 0)]  # fmt: skip
    assert figures.over_limit(Region.objects.get(code=VILLAGE_B1), AS_OF)["identification"] == 0


def test_the_late_cases_open_to_their_households_as_of_the_day(
    client, clock_cases, county_admin, village_cadre
):
    client.force_login(county_admin)
    page = client.get(reverse("reports:dashboard"), {"as_of": AS_OF.isoformat()}).content.decode()
    assert _numbers(page, "late-identification") == "2" and _numbers(page, "late-elimination") == "1"
    assert "超过办理时限仍未办结" in page and "时限15天" in page
    params = {"region": builders.COUNTY, "as_of": AS_OF.isoformat(), "metric": "identification_late"}
    listing = client.get(reverse("reports:households"), params).content.decode()
    assert _numbers(listing, "households-total") == "2"
    assert ">H001<" in listing and ">H002<" in listing and ">H003<" not in listing
    # C2, decided after the as-of day: 办理中 on that day, 已办结 now
    assert "<td>办理中</td>" in listing and "已办结（2026-05-25）" in listing
    today = client.get(reverse("reports:households"), {**params, "as_of": ""}).content.decode()
    assert _numbers(today, "households-total") == "3" and ">H003<" in today
    # the village cadre of 东关村: its own late cases, never 西街村's C2
    client.force_login(village_cadre)
    own = client.get(
        reverse("reports:households"), {"as_of": AS_OF.isoformat(), "metric": "identification_late"}
    )
    assert _numbers(own.content.decode(), "households-total") == "1" and ">H002<" not in own.content.decode()
    page = client.get(reverse("reports:dashboard"), {"as_of": AS_OF.isoformat()}).content.decode()
    assert _numbers(page, "late-identification") == "1" and _numbers(page, "late-elimination") == "1"
    assert client.get(reverse("reports:households"), {**params, "region": VILLAGE_A2}).status_code == 404


# March 2026 (period 03-01..03-31):
#   W1 H001 医保 raised 03-10, confirmed 03-12     → raised, verified, right, confirmed
#   W2 H003 医保 raised 03-10, no risk 03-13       → raised, verified
#   W3 H004 残联 raised 03-10, open                → raised
#   W4 H002 医保 raised 2025-12-10, already helped 03-05 → verified, right (raised before the period)
#   W5 H001 收入监测 raised 03-31 23:30            → raised (the period's last evening)
#   W6 H002 残联 raised 04-01 00:10                → outside the period
#   cases: H001 identification 03-10 → 03-20 (on time); H003 identification 03-02 08:00 → 03-17 20:00
#   (15.5 days: .days = 15, on time); H002 identification 03-10 → 04-04 (25 days, late, decided in April);
#   H004 elimination 03-01 → 03-25 (24 days > 20: late)
# Pipeline: raised 4 (3 households), verified 3, right 2, confirmed 1, opened 3, identified 2 (on time 2),
# eliminated 1 (on time 0). 医保: raised 2, verified 3, right 2, confirmed 1; 残联 1; 收入监测 1.
PIPELINE = {"warning_raised": 4, "warning_verified": 3, "warning_true": 2, "warning_confirmed": 1,
            "case_opened": 3, "identified": 2, "identified_on_time": 2, "eliminated": 1, "eliminated_on_time": 0}  # fmt: skip
MARCH = {"start": "2026-03-01", "end": "2026-03-31", "as_of": "2026-04-30"}


@pytest.fixture
def march(county, county_staff):
    h = county
    _warning(h["H001"], "DEPT_MEDICAL_SELF_PAY_POVERTY", _at("2026-03-10"), "confirmed", _at("2026-03-12"))
    _warning(h["H003"], "DEPT_MEDICAL_SELF_PAY_OTHER", _at("2026-03-10"), "no_risk", _at("2026-03-13"))
    _warning(h["H004"], "DEPT_DISABILITY_NEW_OR_UPGRADED", _at("2026-03-10"))
    _warning(
        h["H002"], "DEPT_MEDICAL_SELF_PAY_POVERTY", _at("2025-12-10"), "already_helped", _at("2026-03-05")
    )
    income = _warning(h["H001"], "INC_POVERTY_BELOW_LINE", _at("2026-03-31", "23:30"))
    Finding.objects.filter(pk=income.pk).update(family="收入监测")
    _warning(h["H002"], "DEPT_DISABILITY_NEW_OR_UPGRADED", _at("2026-04-01", "00:10"))
    _case(h["H001"], "identification", _at("2026-03-10"), _at("2026-03-20"), user=county_staff)
    _case(
        h["H003"], "identification", _at("2026-03-02", "08:00"), _at("2026-03-17", "20:00"), user=county_staff
    )
    _case(h["H002"], "identification", _at("2026-03-10"), _at("2026-04-04"), user=county_staff)
    _case(h["H004"], "elimination", _at("2026-03-01"), _at("2026-03-25"), user=county_staff)
    actions.refresh_facts()
    return h


def test_the_march_pipeline_equals_the_hand_count(march):
    county_region = Region.objects.get(code=builders.COUNTY)
    assert figures.pipeline(county_region, dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == PIPELINE
    departments = {d["department"]: (d["raised"], d["verified"], d["right"], d["confirmed"])
                   for d in figures.by_department(county_region, dt.date(2026, 3, 1), dt.date(2026, 3, 31))}  # fmt: skip
    assert departments == {"医保": (2, 3, 2, 1), "残联": (1, 0, 0, 0), "收入监测": (1, 0, 0, 0)}


def _links(html: str) -> list[tuple[str, str]]:
    """(number, query) of every link of the dashboard to the list behind a pipeline number."""
    return [
        (n, q.replace("&amp;", "&"))
        for q, n in re.findall(r'href="/reports/households/\?([^"]*metric=[^"]*)"[^>]*>([\d,]+)<', html)
    ]


def test_every_pipeline_and_department_number_opens_a_list_of_exactly_that_many(client, march, county_admin):
    client.force_login(county_admin)
    page = client.get(reverse("reports:dashboard"), MARCH).content.decode()
    assert {k: _numbers(page, f"flow-{k}") for k in ("raised", "verified", "true", "confirmed", "opened",
                                                     "identified", "on-time", "eliminated")} == {
        "raised": "4", "verified": "3", "true": "2", "confirmed": "1", "opened": "3", "identified": "2",
        "on-time": "2", "eliminated": "1"}  # fmt: skip
    links = _links(page)
    assert len(links) >= 9 + 3 * 4 + 2  # the pipeline, three departments' four numbers, the two late figures
    for number, query in links:
        listing = client.get(reverse("reports:households") + "?" + query)
        assert listing.status_code == 200, query
        assert _numbers(listing.content.decode(), "households-total") == number, query
    raised = client.get(reverse("reports:households"), {**MARCH, "metric": "warning_raised"}).content.decode()
    assert (
        _numbers(raised, "events-households") == "3"
        and raised.count(">H001<") == 2
        and ">H002<" not in raised
    )
    medical = client.get(
        reverse("reports:households"), {**MARCH, "metric": "warning_verified", "dept": "医保"}
    )
    html = medical.content.decode()
    assert _numbers(html, "households-total") == "3" and all(
        f">{n}<" in html for n in ("H001", "H002", "H003")
    )
    on_time = client.get(
        reverse("reports:households"), {**MARCH, "metric": "identified_on_time"}
    ).content.decode()
    assert ">H001<" in on_time and ">H003<" in on_time and ">H002<" not in on_time
    april = client.get(reverse("reports:households"), {**MARCH, "start": "2026-04-01", "end": "2026-04-30",
                                                       "metric": "identified"}).content.decode()  # fmt: skip
    assert _numbers(april, "households-total") == "1" and ">H002<" in april
    assert client.get(reverse("reports:households"), {**MARCH, "metric": "nonsense"}).status_code == 404


def test_a_village_cadres_pipeline_lists_hold_its_own_village_only(client, march, village_cadre):
    client.force_login(village_cadre)  # 东关村: H001 (W1, W5, its case) and H004 (W3, its elimination)
    page = client.get(reverse("reports:dashboard"), MARCH).content.decode()
    assert _numbers(page, "flow-raised") == "3" and _numbers(page, "flow-verified") == "1"
    for number, query in _links(page):
        assert _numbers(client.get(reverse("reports:households") + "?" + query).content.decode(),
                        "households-total") == number, query  # fmt: skip
    raised = client.get(reverse("reports:households"), {**MARCH, "metric": "warning_raised"}).content.decode()
    assert ">H003<" not in raised and ">H002<" not in raised and ">H004<" in raised
    for region in (VILLAGE_A2, builders.COUNTY):
        response = client.get(
            reverse("reports:households"), {**MARCH, "metric": "warning_raised", "region": region}
        )
        assert response.status_code == 404
