"""One county, the same data, under the 2025 and the 2026 regime (issue 11): what each regime decides
differently — the categories, who is flagged, who is referred to 民政 — and nothing else.

The county is the standard three households plus two 一般农户 the 2026 regime is about: 周家 (9,000 元 per
person: above the monitoring line of both years, below the 低保边缘 line) and 吴家 (11,000 元 per person,
but 20,000 元 of medical costs a year: 刚性支出困难). Income and rigid spending are the same for the two
income years the two screenings read, so the regime is the only thing that changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from fangpin.monitoring import actions
from fangpin.monitoring.forms import OpenCaseForm
from fangpin.monitoring.models import Referral
from fangpin.regimes.regime import regime_for
from fangpin.registry.accounting import account, suggest_referrals
from fangpin.registry.importer import import_register
from fangpin.registry.models import ExpenditureRecord, Household
from fangpin.rules.actions import run_screening
from fangpin.rules.models import Finding
from tests import builders

pytestmark = pytest.mark.django_db

IN_2025 = dt.datetime(2025, 11, 14, 2, 0, tzinfo=dt.UTC)
IN_2026 = dt.datetime(2026, 11, 13, 2, 0, tzinfo=dt.UTC)
ONLY_2026_RULES = {"RIGID_EXPENDITURE_DIFFICULTY", "GENERAL_BELOW_DIBAO_EDGE"}


def county_rows() -> list[dict[str, object]]:
    zhou = builders.family("H005", builders.VILLAGE_A1, [("周立新", builders.pid(71, dt.date(1978, 4, 4)), "户主", "男"),
                                                         ("孙梅", builders.pid(82, dt.date(1980, 8, 8)), "配偶", "女")],
                           wage=14000, business=6000, expense=2000)  # fmt: skip
    wu = builders.family("H006", builders.VILLAGE_A2, [("吴德海", builders.pid(91, dt.date(1968, 1, 9)), "户主", "男"),
                                                       ("郑兰", builders.pid(102, dt.date(1970, 3, 3)), "配偶", "女"),
                                                       ("吴小军", builders.pid(113, dt.date(2000, 5, 5)), "之子", "男")],
                         wage=30000, business=4000, expense=1000)  # fmt: skip
    return builders.standard_rows() + zhou + wu


@pytest.fixture
def county(regions, tmp_path):
    path = builders.write_xlsx(tmp_path / "county.xlsx", county_rows())
    for year in (2024, 2025):  # the income years the 2025 and the 2026 screening read: the same figures
        result = import_register(path, year=year)
        assert result.ok, [str(p) for p in result.problems]
    wu = Household.objects.get(household_no="H006")
    for year in (2024, 2025):
        ExpenditureRecord.objects.create(household=wu, region_code=wu.region_code, year=year,
                                         medical=Decimal(20000), source="入户核查")  # fmt: skip
    return {h.household_no: h for h in Household.objects.all()}


def flagged(day: dt.date) -> set[tuple[str, str]]:
    run = run_screening(as_of=day)
    return {
        (f.rule_id, f.household.household_no)
        for f in Finding.objects.filter(last_run=run).select_related("household")
    }


def test_who_is_flagged_differs_only_by_the_2026_rules(county, time_machine):
    time_machine.move_to(IN_2025)
    before = flagged(IN_2025.date())
    time_machine.move_to(IN_2026)
    after = flagged(IN_2026.date())
    assert {rule for rule, _ in after - before} <= ONLY_2026_RULES, after - before
    assert before - after == set(), before - after
    assert ("RIGID_EXPENDITURE_DIFFICULTY", "H006") in after
    assert ("GENERAL_BELOW_DIBAO_EDGE", "H005") in after
    assert not {rule for rule, _ in before} & ONLY_2026_RULES
    # the monitored 脱贫户 below the line is not flagged as "not monitored" by either regime
    assert not any(no == "H002" and rule in ONLY_2026_RULES for rule, no in after)


def test_the_categories_and_the_tracks_of_the_two_regimes(county, time_machine):
    time_machine.move_to(IN_2025)
    old = regime_for()
    old_choices = [value for value, _ in OpenCaseForm().fields["proposed_category"].choices]
    time_machine.move_to(IN_2026)
    new = regime_for()
    new_choices = [value for value, _ in OpenCaseForm().fields["proposed_category"].choices]
    assert (old.code, new.code) == ("2025", "2026")
    # the monitoring categories stay (待核实 for 2026); 2026 adds the 农村社会救助 categories monitored alongside
    assert old_choices == new_choices == ["脱贫不稳定户", "边缘易致贫户", "突发严重困难户"]
    assert not new.categories_confirmed
    assert old.assistance_categories == ()
    assert new.assistance_categories == ("低保", "低保边缘", "刚性支出困难", "特困", "临时救助")
    assert (old.object_label, new.object_label) == ("监测对象", "防止返贫致贫对象")


def test_who_is_referred_to_civil_affairs_differs(county, village_cadre, county_staff, time_machine):
    zhou, wu = county["H005"], county["H006"]

    time_machine.move_to(IN_2025)
    assert suggest_referrals(account(zhou)) == [] and suggest_referrals(account(wu)) == []
    assert account(wu).rigid_total is None  # the transition accounting reads no rigid spending
    clue = actions.report_clue(user=village_cadre, household=zhou, source="cadre", summary="收入偏低")
    with pytest.raises(ValidationError, match="没有转介民政"):
        actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="入户核实",
                            referral_kinds=["低保边缘"])  # fmt: skip
    actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="入户核实")
    clue.refresh_from_db()
    assert clue.regime == "2025" and not Referral.objects.exists()

    time_machine.move_to(IN_2026)
    assert [kind for kind, _ in suggest_referrals(account(zhou))] == ["低保边缘"]
    assert [kind for kind, _ in suggest_referrals(account(wu))] == ["临时救助"]
    assert account(wu).rigid_total == Decimal(20000)
    again = actions.report_clue(user=village_cadre, household=zhou, source="cadre", summary="收入偏低")
    actions.verify_clue(user=village_cadre, clue=again, outcome="confirmed", note="入户核实，一次核查两项工作",
                        referral_kinds=["低保边缘"])  # fmt: skip
    again.refresh_from_db()
    referral = Referral.objects.get()
    assert (again.regime, referral.regime, referral.kinds, referral.household_id) == ("2026", "2026", ["低保边缘"],
                                                                                        zhou.pk)  # fmt: skip
    # the one verification also opens the identification: both tracks from the same home visit
    case = actions.open_case(user=village_cadre, household=zhou, source="", proposed_category="边缘易致贫户",
                             risk_types="因病", clue=again)  # fmt: skip
    assert case.regime == "2026"
    first = actions.open_case(user=county_staff, household=county["H001"], source="cadre",
                              proposed_category="边缘易致贫户", risk_types="因病")  # fmt: skip
    assert first.regime == "2026"
