"""收入参数: the monitoring line and the income formula's switches per year, shown with 待核实 marks, changed
only by the county administrator with a 依据, audited, shown as history, and on the command line."""

from __future__ import annotations

import datetime as dt
import getpass
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from fangpin.audit.models import AuditEntry
from fangpin.cli import main
from fangpin.registry.importer import import_register
from fangpin.registry.models import Household, IncomePolicy, IncomeRecord
from fangpin.rules.parameters import resolve
from fangpin.web.views import scope_counts
from tests import builders

pytestmark = pytest.mark.django_db

PAGE = reverse("registry:income_policies")
BASIS = "晋农组发〔2026〕1号"


def edit(year: int) -> str:
    return reverse("registry:income_policy_edit", args=[year])


def form_of(policy: IncomePolicy, **changes: object) -> dict[str, object]:
    """The edit form as the page fills it for `policy`, with some values changed."""
    data = {
        "monitoring_line": str(policy.monitoring_line), "awards_treatment": policy.awards_treatment,
        "special_subsidy_treatment": policy.special_subsidy_treatment, "divisor": policy.divisor,
        "tolerance": str(policy.tolerance), "source": BASIS,
    }  # fmt: skip
    if policy.line_confirmed:
        data["line_confirmed"] = "on"  # a checkbox is sent only when ticked
    if policy.claims_counted:
        data["claims_counted"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def policy(year: int) -> IncomePolicy:
    return IncomePolicy.objects.get(province_code="14", year=year)


def policy_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(model="registry.IncomePolicy").order_by("seq"))


def import_with_award(tmp_path, year: int):
    """The standard register where 张建国's household (H001) also had a 2,000 yuan 产业奖励."""
    rows = builders.standard_rows()
    for row in rows:
        if row["户编号"] == "H001":
            row["产业奖励"] = 2000
    result = import_register(builders.write_xlsx(tmp_path / "award.xlsx", rows), year=year)
    assert result.ok, [str(p) for p in result.problems]
    return IncomeRecord.objects.get(household__household_no="H001", year=year)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


# --- the page -----------------------------------------------------------------------------------


def test_county_staff_read_every_years_line_with_its_source_and_unconfirmed_values_marked(
    client, regions, county_staff
):
    client.force_login(county_staff)
    page = client.get(PAGE).content.decode()
    assert "2021年" in page and "6,000" in page and "已核实" in page
    assert "2026年" in page and "8,300" in page and "待核实" in page and "2026年标准尚未发布" in page
    # the shipped sources in officials' words, no internal notes
    assert not re.search(r"UNCONFIRMED|policy\.md|§", page), re.findall(
        r".{20}(?:UNCONFIRMED|policy\.md|§).{20}", page
    )
    assert "计入收入" in page and "冲减生产经营性支出" in page and "年度家庭人口数" in page
    assert "下一次筛查起按新值生成预警" in page  # says what a change of the line does
    assert edit(2026) not in page and "只有县级管理员可以录入和更正收入参数" in page


def test_the_rules_catalogue_leads_to_the_income_parameters(client, regions, county_staff):
    client.force_login(county_staff)
    assert PAGE in client.get(reverse("rules:catalogue")).content.decode()


def test_only_the_county_administrator_may_open_or_post_the_form(
    client, regions, county_admin, county_staff, village_cadre, department_officer
):
    data = form_of(policy(2026), monitoring_line="9000")
    for user in (county_staff, village_cadre):
        client.force_login(user)
        assert client.get(PAGE).status_code == 200  # they read the parameters
        assert client.get(edit(2026)).status_code == 403
        assert client.post(edit(2026), data).status_code == 403
    client.force_login(department_officer)
    assert client.get(PAGE).status_code == 403
    assert policy(2026).monitoring_line == Decimal("8300") and policy_entries() == []
    client.force_login(county_admin)
    form = client.get(edit(2026)).content.decode()
    assert 'value="8300.00"' in form and "现有取值" in form
    client.logout()
    assert client.get(PAGE).status_code == 302


def test_a_county_administrator_corrects_a_years_line_and_the_history_says_who_when_what_and_why(
    client, regions, county_admin
):
    client.force_login(county_admin)
    with time_machine.travel(dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)):
        response = client.post(
            edit(2026), form_of(policy(2026), monitoring_line="8000", line_confirmed="on"), follow=True
        )
    page = response.content.decode()
    assert "已修改2026年度收入参数" in page and "下一次筛查起按新值生成预警" in page
    assert (policy(2026).monitoring_line, policy(2026).line_confirmed, policy(2026).line_source) == (
        Decimal("8000"), True, BASIS,
    )  # fmt: skip
    (entry,) = policy_entries()
    assert entry.action == "update" and entry.username == "county_admin"
    assert entry.before["monitoring_line"] == "8300.00" and entry.after["monitoring_line"] == "8000.00"
    assert entry.before["line_confirmed"] is False and entry.after["line_confirmed"] is True
    history = page[page.index("修改记录") :]
    assert "2026-03-02 09:30" in history  # 北京时间
    assert "county_admin" in history and "8,300 → 8,000" in history and "待核实 → 已核实" in history
    assert BASIS in history
    # the line is read where it is used: the home page now, the rules at the next screening
    assert scope_counts(county_admin)["monitoring_line"] == Decimal("8000")
    assert resolve(set(), dt.date(2026, 6, 30))["monitoring_line"] == 8000.0


def test_a_new_year_on_the_web_starts_from_the_year_before_but_unconfirmed(client, regions, county_admin):
    IncomePolicy.objects.filter(year=2026).update(line_confirmed=True, divisor="current")
    client.force_login(county_admin)
    assert client.get(PAGE + "?year=2027").url == edit(2027)
    form = client.get(edit(2027)).content.decode()
    assert "目前沿用2026年度的参数" in form and 'value="8300.00"' in form
    checkbox = re.search(r"<input[^>]*name=\"line_confirmed\"[^>]*>", form).group(0)
    assert "checked" not in checkbox  # a new year's line is a new value: 待核实 until ticked
    response = client.post(
        edit(2027), form_of(policy(2026), monitoring_line="8700", line_confirmed=None), follow=True
    )
    new = policy(2027)
    assert (new.monitoring_line, new.line_confirmed, new.divisor, new.line_source) == (
        Decimal("8700"), False, "current", BASIS,
    )  # fmt: skip
    history = response.content.decode().split("修改记录")[1]
    assert "新增" in history and "8,700" in history and "当前家庭人口数" in history


def test_a_change_without_a_source_or_without_any_difference_is_refused(client, regions, county_admin):
    client.force_login(county_admin)
    page = client.post(edit(2025), form_of(policy(2025), monitoring_line="8100", source="")).content.decode()
    assert "这个字段是必填项" in page and policy(2025).monitoring_line == Decimal("8000")
    same = form_of(policy(2025), source=policy(2025).line_source)
    assert "取值与现有参数相同，没有修改" in client.post(edit(2025), same).content.decode()
    assert policy_entries() == []


def test_switching_how_awards_count_recomputes_that_years_incomes_at_once(client, county_admin, tmp_path):
    record = import_with_award(tmp_path, 2025)
    assert (record.computed_per_capita, record.discrepancy) == (Decimal("18500.00"), Decimal("-1000.00"))
    client.force_login(county_admin)
    response = client.post(edit(2025), form_of(policy(2025), awards_treatment="exclude"), follow=True)
    assert "已按新口径重算3条收入记录，其中1条结果有变化" in response.content.decode()
    record.refresh_from_db()
    assert (record.computed_per_capita, record.discrepancy) == (Decimal("17500.00"), None)
    assert Household.objects.get(household_no="H001").per_capita_income == Decimal("17500.00")
    recomputed = AuditEntry.objects.filter(detail="收入参数修改后按新口径重算", username="county_admin")
    assert {e.model for e in recomputed} == {"registry.IncomeRecord", "registry.Household"}
    income_entry = recomputed.get(model="registry.IncomeRecord")
    assert income_entry.household_id == record.household_id
    assert income_entry.before["computed_per_capita"] == "18500.00"
    assert income_entry.after == {"computed_per_capita": "17500.00", "computed_net": "35000.00",
                                  "discrepancy": None}  # fmt: skip


# --- the command line ---------------------------------------------------------------------------


def test_the_command_line_lists_the_years_and_a_county_administrator_sets_a_line(
    regions, county_admin, capsys
):
    code, out, _ = run_cli(capsys, "income-policy", "list")
    assert code == 0 and "2026年" in out and "8,300" in out and "待核实" in out and "计入收入" in out
    code, out, _ = run_cli(capsys, "income-policy", "set", "--year", "2026", "--line", "8000", "--source", BASIS,
                           "--user", "county_admin")  # fmt: skip
    assert code == 0 and "已修改2026年度收入参数（防止返贫监测范围（元/人·年）：8,300 → 8,000" in out
    assert "下一次筛查起" in out
    (entry,) = policy_entries()
    assert (entry.username, entry.source, entry.after["monitoring_line"]) == (
        "county_admin",
        "cli",
        "8000.00",
    )


def test_the_command_line_refuses_a_village_cadre_and_a_new_year_without_a_line(
    regions, village_cadre, capsys
):
    code, _, err = run_cli(capsys, "income-policy", "set", "--year", "2026", "--line", "1", "--source", "x",
                           "--user", "village_a1")  # fmt: skip
    assert code == 1 and "只有县级管理员可以修改收入参数" in err
    code, _, err = run_cli(capsys, "income-policy", "set", "--year", "2030", "--source", BASIS)
    assert code == 1 and "2030年度还没有收入参数：请填写防止返贫监测范围" in err
    assert policy(2026).monitoring_line == Decimal("8300") and policy_entries() == []


def test_a_new_year_entered_by_the_operator_takes_over_that_years_incomes(regions, tmp_path, capsys):
    record = import_with_award(tmp_path, 2027)  # computed by 2026's parameters until 2027 has its own
    assert record.policy == policy(2026) and record.computed_per_capita == Decimal("18500.00")
    code, out, _ = run_cli(capsys, "income-policy", "set", "--year", "2027", "--line", "8600", "--awards", "exclude",
                           "--source", BASIS)  # fmt: skip
    assert code == 0 and "已新增2027年度收入参数" in out
    new = policy(2027)
    assert (new.monitoring_line, new.line_confirmed, new.divisor) == (Decimal("8600"), False, "annual")
    record.refresh_from_db()
    assert record.policy == new and record.computed_per_capita == Decimal("17500.00")
    (entry,) = policy_entries()
    assert entry.action == "create" and entry.username == f"os:{getpass.getuser()}"
