from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from fangpin.audit.models import AuditEntry
from fangpin.jobs.actions import create_job, run_job
from fangpin.jobs.models import Kind
from fangpin.registry.models import Household, IncomeRecord, Member
from fangpin.rules.actions import run_screening, set_enabled
from fangpin.rules.catalogue import rule_by_id
from fangpin.rules.models import Finding, RuleParameter
from fangpin.rules.parameters import value_on

pytestmark = pytest.mark.django_db


def screen(as_of=dt.date(2025, 6, 30), **kwargs):
    return run_screening(as_of=as_of, **kwargs)


def make_sex_mismatch(name="王强"):
    Member.objects.filter(name=name).update(gender="女")


def test_a_run_files_findings_with_evidence_parameters_and_a_sentence(register):
    make_sex_mismatch()
    run = screen()
    finding = Finding.objects.get(rule_id="DQ_GENDER_ID")
    assert finding.member.name == "王强" and finding.household.household_no == "H002"
    assert finding.message == "王强登记性别为女，证件号码显示为男"
    assert finding.evidence == {"name": "王强", "gender": "女", "id_gender": "男"}
    assert finding.rule_version == rule_by_id("DQ_GENDER_ID").version and finding.first_run == run
    assert run.rule_counts["DQ_GENDER_ID"] == 1 and run.people == 5


def test_the_same_finding_is_not_raised_twice_and_clears_when_fixed(register):
    make_sex_mismatch()
    first = screen()
    second = screen()
    finding = Finding.objects.get(rule_id="DQ_GENDER_ID")
    assert (finding.first_run, finding.last_run) == (first, second)
    Member.objects.filter(name="王强").update(gender="男")
    third = screen()
    finding.refresh_from_db()
    assert finding.status == Finding.Status.CLEARED and finding.last_run == third
    assert Finding.objects.filter(rule_id="DQ_GENDER_ID").count() == 1


def test_a_run_uses_the_monitoring_line_of_its_own_date(register):
    household = Household.objects.get(household_no="H001")
    for year in (2023, 2024, 2025):
        IncomeRecord.objects.update_or_create(
            household=household, year=year,
            defaults={"region_code": household.region_code, "computed_net": Decimal("15000"),
                      "computed_per_capita": Decimal("7500"), "divisor_size": 2},
        )  # fmt: skip
    early = screen(as_of=dt.date(2023, 6, 30))  # 2023 line: 7,100
    assert early.parameters["monitoring_line"] == 7100.0 and early.parameters["income_year"] == 2023
    assert not Finding.objects.filter(rule_id="INC_GENERAL_BELOW_LINE", household=household).exists()
    late = screen(
        as_of=dt.date(2025, 6, 30)
    )  # 2025 line: 8,000, income of 2025 (the register's latest ≤ 2025)
    assert late.parameters["monitoring_line"] == 8000.0
    finding = Finding.objects.get(rule_id="INC_GENERAL_BELOW_LINE", household=household, period="2025")
    assert "低于8,000元的监测范围" in finding.message and finding.parameters == {}


def test_a_province_value_wins_over_the_default_from_its_effective_date(regions):
    RuleParameter.objects.create(name="income_drop_share", province_code="14", effective_from=dt.date(2025, 1, 1),
                                 value=0.5, source="晋乡振发〔2025〕X号", confirmed=True)  # fmt: skip
    assert value_on("income_drop_share", dt.date(2024, 12, 31)).value == 0.3
    assert value_on("income_drop_share", dt.date(2025, 1, 1)).value == 0.5
    assert value_on("income_drop_share", dt.date(2025, 1, 1), province_code="53").value == 0.3


def test_a_switched_off_rule_does_not_run(register, county_admin):
    make_sex_mismatch()
    set_enabled(rule_id="DQ_GENDER_ID", enabled=False, user=county_admin)
    run = screen()
    assert "DQ_GENDER_ID" not in run.rule_counts
    assert not Finding.objects.filter(rule_id="DQ_GENDER_ID").exists()
    assert AuditEntry.objects.filter(model="rules.RuleSetting").exists()


def test_findings_and_their_export_are_scoped(client, register, village_cadre, county_staff):
    make_sex_mismatch()  # H002 is in 西街村, not the cadre's 东关村
    Member.objects.filter(name="张建国").update(gender="女")  # H001, the cadre's village
    screen()
    client.force_login(village_cadre)
    page = client.get(reverse("rules:findings"), {"rule": "DQ_GENDER_ID"}).content.decode()
    assert "H001" in page and "H002" not in page
    job = run_job(
        create_job(kind=Kind.EXPORT_FINDINGS, user=village_cadre, params={"rule": "DQ_GENDER_ID"}).pk
    )
    rows = list(openpyxl.load_workbook(job.result_path).active.iter_rows(min_row=4, values_only=True))
    assert [r[3] for r in rows if r[3]] == ["H001"]
    assert Finding.objects.for_user(county_staff).filter(rule_id="DQ_GENDER_ID").count() == 2


def test_the_household_page_shows_its_open_findings_with_evidence(client, register, county_staff):
    make_sex_mismatch()
    screen()
    client.force_login(county_staff)
    household = Household.objects.get(household_no="H002")
    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert f"筛查发现（{household.findings.filter(status='open').count()}条待处理）" in page
    assert (
        "王强登记性别为女，证件号码显示为男" in page
        and "证件号码中的性别：男" in page
        and "id_gender" not in page
    )


def test_the_rule_page_marks_unconfirmed_parameters_and_only_the_county_admin_changes_them(
    client, regions, county_admin, county_staff
):
    client.force_login(county_staff)
    page = client.get(reverse("rules:rule", args=["INC_MONITORED_SHARP_DROP"])).content.decode()
    assert "待核实" in page and "UNCONFIRMED" not in page and "收入大幅下降的比例" in page
    data = {
        "value": "0.4",
        "effective_from": "2026-01-01",
        "source": "县局会议纪要",
        "rule": "INC_MONITORED_SHARP_DROP",
    }
    assert client.post(reverse("rules:add_parameter", args=["income_drop_share"]), data).status_code == 403
    client.force_login(county_admin)
    client.post(reverse("rules:add_parameter", args=["income_drop_share"]), data)
    row = RuleParameter.objects.get(name="income_drop_share", province_code="14")
    assert (row.value, row.created_by) == (0.4, county_admin)
    assert AuditEntry.objects.filter(model="rules.RuleParameter", action="create").exists()
    assert RuleParameter.objects.filter(name="income_drop_share").count() == 2  # the default stays as history


def test_only_county_roles_start_a_screening(client, regions, village_cadre, county_staff):
    client.force_login(village_cadre)
    assert client.get(reverse("rules:screening")).status_code == 403
    client.force_login(county_staff)
    assert client.get(reverse("rules:screening")).status_code == 200


def test_the_catalogue_lists_every_rule_by_family(client, regions, county_staff):
    client.force_login(county_staff)
    page = client.get(reverse("rules:catalogue")).content.decode()
    assert "数据质量" in page and "收入监测" in page and "DQ_GENDER_ID" in page


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("java"), reason="!!! no Java runtime: Spark engine NOT TESTED")
def test_a_run_on_spark_files_the_same_findings_as_on_duckdb(register):
    make_sex_mismatch()
    duck = screen(engine="duckdb")
    before = set(Finding.objects.values_list("rule_id", "household_id", "member_id", "period", "message"))
    spark = screen(engine="spark")
    after = set(Finding.objects.values_list("rule_id", "household_id", "member_id", "period", "message"))
    assert duck.rule_counts == spark.rule_counts and before == after


def make_warning():
    """H001 (东关村) below the line and not monitored: an income-monitoring warning."""
    IncomeRecord.objects.filter(household__household_no="H001").update(computed_per_capita=Decimal("3000"))
    screen()
    return Finding.objects.get(rule_id="INC_GENERAL_BELOW_LINE")


def test_a_village_cadre_verifies_a_warning_which_closes_it_for_the_period(client, register, village_cadre):
    warning = make_warning()
    client.force_login(village_cadre)
    page = client.get(reverse("rules:finding", args=[warning.pk])).content.decode()
    assert "记录核实结果" in page and "<th>人均纯收入</th>" in page and "per_capita" not in page
    client.post(
        reverse("rules:finding", args=[warning.pk]),
        {"outcome": "confirmed", "note": "入户核实：务工收入中断"},
    )
    warning.refresh_from_db()
    assert warning.status == Finding.Status.VERIFIED and warning.outcome_by == village_cadre
    assert AuditEntry.objects.filter(
        model="rules.Finding", action="update", household_id=warning.household_id
    ).exists()
    screen()  # the same household, rule and period is not raised again
    warning.refresh_from_db()
    assert warning.status == Finding.Status.VERIFIED
    assert Finding.objects.filter(rule_id="INC_GENERAL_BELOW_LINE").count() == 1


def test_each_rules_precision_comes_from_the_outcomes(register, village_cadre):
    from fangpin.rules.actions import precision, record_outcome

    warning = make_warning()
    record_outcome(finding=warning, user=village_cadre, outcome="no_risk", note="家庭有未登记的工资收入")
    assert precision()["INC_GENERAL_BELOW_LINE"] == (0.0, 1)


def test_warnings_are_scoped_and_only_verifying_roles_may_verify(
    client, register, other_village_cadre, supervisor
):
    warning = make_warning()
    client.force_login(other_village_cadre)  # 柳庄村: not H001's village
    assert client.get(reverse("rules:finding", args=[warning.pk])).status_code == 404
    assert (
        client.post(
            reverse("rules:finding", args=[warning.pk]), {"outcome": "confirmed", "note": "x"}
        ).status_code
        == 404
    )
    client.force_login(supervisor)
    assert client.get(reverse("rules:finding", args=[warning.pk])).status_code == 200
    assert (
        client.post(
            reverse("rules:finding", args=[warning.pk]), {"outcome": "confirmed", "note": "x"}
        ).status_code
        == 403
    )
    warning.refresh_from_db()
    assert warning.status == Finding.Status.OPEN


def test_the_home_page_counts_open_warnings_in_scope(client, register, village_cadre, other_village_cadre):
    make_warning()
    client.force_login(village_cadre)
    assert 'id="count-warnings">1<' in client.get(reverse("home")).content.decode()
    client.force_login(other_village_cadre)
    assert 'id="count-warnings">0<' in client.get(reverse("home")).content.decode()


def test_a_county_adds_its_own_rule_as_a_file_without_touching_python(register, settings, tmp_path):
    (tmp_path / "county.toml").write_text(
        """
[[rule]]
id = "COUNTY_NO_TOILET"
name = "无卫生厕所（本县改厕专项）"
explanation = "本县农村改厕专项行动：未改厕的户。"
family = "数据质量"
severity = "提示"
level = "household"
evidence = ["head_name"]
message = "户主{head_name}家尚未改厕"
sql = "SELECT household_key, head_name FROM household WHERE sanitary_toilet = FALSE"
""",
        encoding="utf-8",
    )
    settings.FANGPIN_RULES_DIR = str(tmp_path)
    Household.objects.filter(household_no="H003").update(sanitary_toilet=False)
    run = screen()
    assert run.rule_counts["COUNTY_NO_TOILET"] == 1
    assert Finding.objects.get(rule_id="COUNTY_NO_TOILET").message == "户主赵敏家尚未改厕"
    assert rule_by_id("COUNTY_NO_TOILET").file == "本县：county.toml"


def test_a_county_rule_that_does_not_return_its_keys_is_refused_when_the_catalogue_loads(settings, tmp_path):
    from fangpin.rules.catalogue import CatalogueError, load_catalogue

    (tmp_path / "bad.toml").write_text(
        """
[[rule]]
id = "COUNTY_BAD"
name = "缺少键的规则"
explanation = "人级规则没有返回 person_key。"
family = "数据质量"
severity = "提示"
level = "person"
evidence = ["name"]
message = "{name}"
sql = "SELECT household_key, name FROM person"
""",
        encoding="utf-8",
    )
    settings.FANGPIN_RULES_DIR = str(tmp_path)
    with pytest.raises(CatalogueError, match="person_key"):
        load_catalogue()


def test_measures_recorded_in_the_platform_count_for_the_rules_while_they_run(register, county_staff):
    import datetime as dt

    from fangpin.monitoring.models import Measure
    from fangpin.registry.models import Household
    from fangpin.rules.actions import run_screening
    from fangpin.rules.catalogue import load_catalogue
    from fangpin.rules.models import Finding

    household = Household.objects.get(household_no="H002")
    Household.objects.filter(pk=household.pk).update(
        risk_types="因病", risk_eliminated=False, identified_month="202501", measures={}
    )
    rules = [r for r in load_catalogue() if r.id == "DQ_MEASURE_FOR_ILLNESS"]
    day = dt.date(2026, 3, 1)

    def fired() -> bool:
        run_screening(rules=rules, as_of=day)
        return Finding.objects.filter(
            rule_id="DQ_MEASURE_FOR_ILLNESS", household=household, status="open"
        ).exists()

    assert fired()
    measure = Measure.objects.create(household=household, region_code=household.region_code, group="健康帮扶",
                                     item="医疗救助", start=dt.date(2026, 1, 5), created_by=county_staff)  # fmt: skip
    assert not fired()
    measure.end = dt.date(2026, 2, 1)
    measure.save()
    assert fired()
