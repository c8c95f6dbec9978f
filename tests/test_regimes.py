"""政策口径 (regimes) as configuration: chosen by province and effective date, a province's own file
before the national one, every decision keeping the regime it was taken under, the rules of a regime."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fangpin.monitoring import actions
from fangpin.monitoring.forms import OpenCaseForm
from fangpin.regimes.regime import RegimeError, by_code, for_province, regime_for
from fangpin.registry.models import Household
from fangpin.rules.actions import enabled_rules, run_screening
from fangpin.rules.models import Finding, ScreeningRun

pytestmark = pytest.mark.django_db

BEFORE = dt.datetime(2025, 12, 20, 2, 0, tzinfo=dt.UTC)
AFTER = dt.datetime(2026, 8, 3, 2, 0, tzinfo=dt.UTC)

# a province that starts the 2026 regime in July, with one category and a 20-day identification
PROVINCE_2026 = """
code = "2026"
label = "本省常态化防止返贫致贫机制"
short_label = "本省常态化口径（2026年7月起）"
province = "14"
from = "2026-07-01"
object_label = "防止返贫致贫对象"
categories = ["边缘易致贫户"]
assistance_categories = ["低保", "低保边缘", "特困"]
population = "rural"
procedure_file = "procedures/20-day.toml"
excluded_rules = ["DQ_NO_PHONE"]

[standard]
label = "本省认定标准"
income = "disposable"
line = "monitoring_line"
confirmed = true

[accounting]
code = "province_2026"
label = "本省收支核算口径"
version = "2026.7"
formula = "disposable"
rigid_items = ["medical"]
confirmed = true

[joint_intake]
enabled = true
referral_kinds = ["低保", "特困"]

[classification]
enabled = false
"""


@pytest.fixture
def province_files(settings, tmp_path):
    """The province's regime directory: its 2026 file and the 20-day procedure that file names."""
    from fangpin.monitoring import procedure

    directory = tmp_path / "regimes"
    directory.mkdir()
    (directory / "2026.toml").write_text(PROVINCE_2026, encoding="utf-8")
    shipped = Path(procedure.__file__).with_name("procedure.toml").read_text(encoding="utf-8")
    (directory / "procedures").mkdir()  # beside, not among, the regime files
    (directory / "procedures" / "20-day.toml").write_text(
        shipped.replace("total_days = 15", "total_days = 20", 1), encoding="utf-8"
    )
    settings.FANGPIN_REGIMES_DIR = str(directory)
    return directory


def test_the_shipped_regimes_follow_the_calendar_and_2025_is_todays_behaviour():
    assert regime_for(dt.date(2024, 5, 1)).code == "2025"
    assert regime_for(dt.date(2025, 12, 31)).code == "2025"
    assert regime_for(dt.date(2026, 1, 1)).code == "2026"
    old, new = by_code("2025"), by_code("2026")
    # the transition regime: no joint work with 民政, no classification, the national system's population
    assert not old.joint_intake.enabled and not old.classification.enabled and not old.whole_population
    assert old.pending() == [] and old.accounting.formula == "net_income"
    # 2026: 农村社会救助对象 monitored together, the whole rural population, what is not yet published marked
    assert new.assistance_categories == ("低保", "低保边缘", "刚性支出困难", "特困", "临时救助")
    assert new.joint_intake.enabled and new.classification.enabled and new.whole_population
    assert "认定标准" in new.pending() and "监测对象类别" in new.pending()
    assert [c.label for c in new.classification.classes] == ["稳定脱贫户", "持续帮扶户", "兜底保障户"]
    with pytest.raises(RegimeError, match="适用的政策口径"):
        regime_for(dt.date(2020, 6, 1))


def test_a_province_file_replaces_the_national_regime_and_may_move_its_start(province_files):
    assert regime_for(dt.date(2026, 3, 1)).code == "2025"  # the province has not switched yet
    mine = regime_for(dt.date(2026, 8, 1))
    assert (mine.code, mine.province, mine.categories) == ("2026", "14", ("边缘易致贫户",))
    assert [r.province for r in for_province()] == ["*", "14"]
    # another province still runs the national 2026 regime from January
    assert regime_for(dt.date(2026, 3, 1), province="61").province == "*"


def test_a_regime_file_with_a_mistake_is_refused_by_name(settings, tmp_path):
    (tmp_path / "bad.toml").write_text(
        PROVINCE_2026.replace('categories = ["边缘易致贫户"]', 'categories = ["困难户"]'), encoding="utf-8"
    )
    settings.FANGPIN_REGIMES_DIR = str(tmp_path)
    with pytest.raises(RegimeError, match=r"bad\.toml.*困难户"):
        for_province()
    (tmp_path / "bad.toml").write_text(textwrap.dedent(PROVINCE_2026).replace("[standard]", "[standards]"),
                                       encoding="utf-8")  # fmt: skip
    with pytest.raises(RegimeError, match="缺少配置项 standard"):
        regime_for(dt.date(2026, 8, 1))


def test_a_case_keeps_the_regime_it_was_opened_under_and_its_procedure(
    register, county_staff, province_files, time_machine
):
    time_machine.move_to(BEFORE)
    first = Household.objects.get(household_no="H001")
    old = actions.open_case(user=county_staff, household=first, source="cadre",
                            proposed_category="脱贫不稳定户", risk_types="因病")  # fmt: skip
    time_machine.move_to(AFTER)
    # under the province's 2026 regime only its one category may be decided, on the form and in the action
    assert [value for value, _ in OpenCaseForm().fields["proposed_category"].choices] == ["边缘易致贫户"]
    second = Household.objects.get(household_no="H003")
    with pytest.raises(ValidationError, match="边缘易致贫户"):
        actions.open_case(user=county_staff, household=second, source="cadre",
                          proposed_category="脱贫不稳定户", risk_types="因病")  # fmt: skip
    new = actions.open_case(user=county_staff, household=second, source="cadre",
                            proposed_category="边缘易致贫户", risk_types="因病")  # fmt: skip
    old.refresh_from_db()
    assert (old.regime, new.regime) == ("2025", "2026")
    assert actions.case_procedure(old).total_days == 15
    assert actions.case_procedure(new).total_days == 20  # the province's own procedure file
    assert actions.clock(old).remaining_days == 15 - (AFTER - BEFORE).days


def test_the_case_page_names_its_regime(register, village_cadre, client, time_machine):
    time_machine.move_to(BEFORE)
    household = Household.objects.get(household_no="H001")
    case = actions.open_case(user=village_cadre, household=household, source="cadre",
                             proposed_category="边缘易致贫户", risk_types="因病")  # fmt: skip
    time_machine.move_to(AFTER)
    client.force_login(village_cadre)
    page = client.get(reverse("monitoring:case", args=[case.pk]), SERVER_NAME="localhost").content.decode()
    assert "办理口径：过渡期口径（2021–2025年）" in page


def test_rules_of_one_regime_run_only_under_it_and_a_run_records_its_regime(register, settings, tmp_path):
    (tmp_path / "county.toml").write_text(
        """
[[rule]]
id = "COUNTY_2026_NO_TOILET"
name = "无卫生厕所（常态化口径）"
explanation = "2026年起按常态化口径检查改厕。"
family = "数据质量"
severity = "提示"
level = "household"
regimes = ["2026"]
evidence = ["head_name"]
message = "户主{head_name}家尚未改厕"
sql = "SELECT household_key, head_name FROM household WHERE sanitary_toilet = FALSE"
""",
        encoding="utf-8",
    )
    settings.FANGPIN_RULES_DIR = str(tmp_path)
    Household.objects.filter(household_no="H003").update(sanitary_toilet=False)
    assert "COUNTY_2026_NO_TOILET" not in {r.id for r in enabled_rules(dt.date(2025, 6, 30))}
    assert "COUNTY_2026_NO_TOILET" in {r.id for r in enabled_rules(dt.date(2026, 6, 30))}
    old = run_screening(as_of=dt.date(2025, 6, 30))
    assert old.regime == "2025" and "COUNTY_2026_NO_TOILET" not in old.rule_counts
    assert not Finding.objects.filter(rule_id="COUNTY_2026_NO_TOILET").exists()
    new = run_screening(as_of=dt.date(2026, 6, 30))
    assert new.regime == "2026" and new.rule_counts["COUNTY_2026_NO_TOILET"] == 1
    assert ScreeningRun.objects.filter(regime="2026").count() == 1


def test_a_regime_may_exclude_a_shipped_rule(register, province_files):
    assert "DQ_NO_PHONE" in {r.id for r in enabled_rules(dt.date(2026, 3, 1))}
    assert "DQ_NO_PHONE" not in {r.id for r in enabled_rules(dt.date(2026, 8, 1))}


def test_every_shipped_rule_names_only_configured_regimes():
    from fangpin.rules.catalogue import load_catalogue

    codes = {r.code for r in for_province()}
    assert all(set(rule.regimes) <= codes for rule in load_catalogue())


def test_the_regime_page_shows_both_regimes_in_chinese_with_what_is_pending(register, village_cadre, client):
    client.force_login(village_cadre)
    page = client.get(reverse("regimes:index"), SERVER_NAME="localhost").content.decode()
    assert "当前执行：常态化口径（2026年起）" in page
    assert "过渡期口径（2021–2025年）" in page and "待核实" in page
    assert "低保、低保边缘、刚性支出困难、特困、临时救助" in page
    for internal in ("disposable", "net_income", "registered", "safety_net", "UNCONFIRMED"):
        assert internal not in page
