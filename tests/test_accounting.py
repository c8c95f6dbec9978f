"""The unified 收支核算 (registry.accounting) on hand-made households: the transition regime's 人均纯收入
alone, the 2026 disposable accounting with its rigid expenditure and four tests (values, lines, 待核实),
unknown never read as zero, an income of zero or less, parameters switching by date, the referrals it
suggests, and the accounting version stored with the expenditure it recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from fangpin.audit.models import AuditEntry
from fangpin.regimes.regime import by_code
from fangpin.registry import accounting
from fangpin.registry.accounting import BELOW_DIBAO, BELOW_EDGE, BELOW_LINE, RIGID_HARDSHIP, account
from fangpin.registry.importer import import_register
from fangpin.registry.models import ExpenditureRecord, Household
from fangpin.rules.models import RuleParameter

from . import builders

pytestmark = pytest.mark.django_db

DAY_2025, DAY_2026 = dt.date(2025, 11, 3), dt.date(2026, 5, 4)
NEW, OLD = by_code("2026"), by_code("2025")


@pytest.fixture
def county(regions, tmp_path):
    """Four households: H101 两口之家 8,000 元/人; H102 一人户 4,000 元; H103 亏损 (net −2,000); H104 两位
    无劳动力的老人 5,000 元/人."""
    old = dt.date(1950, 1, 1)
    rows = (
        builders.family("H101", builders.VILLAGE_A1, [("孙立", builders.pid(101), "户主", "男"),
                        ("周芳", builders.pid(102), "配偶", "女")], wage=12000, business=6000, expense=2000)
        + builders.family("H102", builders.VILLAGE_A1, [("钱进", builders.pid(103), "户主", "男")],
                          wage=3000, business=2000, expense=1000)
        + builders.family("H103", builders.VILLAGE_A2, [("吴海", builders.pid(104), "户主", "男")],
                          wage=0, business=1000, expense=3000)
        + builders.family("H104", builders.VILLAGE_B1, [("郑老汉", builders.pid(105, old), "户主", "男"),
                          ("郑大娘", builders.pid(106, old), "配偶", "女")], wage=0, business=11000, expense=1000)
    )  # fmt: skip
    for row in rows:
        if row["户编号"] == "H104":
            row["劳动技能"] = "无劳动力" if row["姓名"] == "郑老汉" else "丧失劳动力"
    result = import_register(builders.write_xlsx(tmp_path / "county.xlsx", rows))
    assert result.ok, [str(p) for p in result.problems]
    return {h.household_no: h for h in Household.objects.all()}


def spent(household: Household, **items: Decimal | None) -> ExpenditureRecord:
    year = household.incomes.get().year
    return ExpenditureRecord.objects.create(household=household, region_code=household.region_code, year=year,
                                            accounting_version="2026.1", **items)  # fmt: skip


def test_the_transition_regime_accounts_the_per_capita_net_income_only(county):
    h101 = county["H101"]
    spent(h101, medical=Decimal("9000"))
    result = account(h101, day=DAY_2025)
    assert (result.regime.code, result.accounting_code, result.accounting_version) == (
        "2025",
        "net_income_2021",
        "2021.1",
    )
    assert (result.net, result.per_capita, result.divisor) == (Decimal("16000.00"), Decimal("8000.00"), 2)
    assert result.per_capita_label == "人均纯收入" and result.income_label == "家庭纯收入"
    # today's behaviour: no rigid expenditure read, no tests, nothing referred
    assert result.rigid == [] and result.rigid_total is None and result.tests == []
    assert accounting.suggest_referrals(result) == []
    assert accounting.card(h101, day=DAY_2025) is None  # the household page is unchanged


def test_the_disposable_accounting_reads_rigid_spending_and_runs_the_four_tests(county):
    h101 = county["H101"]
    spent(h101, medical=Decimal("9000"), education=None, disability_care=Decimal("0"))
    result = account(h101, day=DAY_2026)
    assert (result.regime.code, result.accounting_code, result.accounting_version) == (
        "2026",
        "disposable_2026",
        "2026.1",
    )
    assert result.per_capita_label == "人均可支配收入" and result.per_capita == Decimal("8000.00")
    assert [(i.label, i.amount) for i in result.rigid] == [("医疗", Decimal("9000")), ("教育", None),
                                                           ("残疾康复护理", Decimal("0"))]  # fmt: skip
    assert result.rigid_total == Decimal("9000")  # the known items; 教育 unknown is not read as 0
    assert result.rigid_share_shown == "56.3%"  # 9,000 ÷ 16,000
    assert result.per_capita_after_rigid == Decimal("3500.00")  # (16,000 − 9,000) ÷ 2
    shown = {t.code: (t.result, t.pending) for t in result.tests}
    # 低保 6,600 (待核实), 边缘 6,600×1.5 = 9,900, 刚性支出 >50% (待核实) and 8,000 < 18,000, 监测范围 2026: 8,300
    assert shown == {BELOW_DIBAO: (False, True), BELOW_EDGE: (True, True), RIGID_HARDSHIP: (True, True),
                     BELOW_LINE: (True, True)}  # fmt: skip
    edge = result.test(BELOW_EDGE)
    assert "9,900 元" in edge.basis and "8,000 元" in edge.basis and "待核实" in edge.basis
    assert [line.value for line in edge.lines] == [Decimal("9900.00"), Decimal("6600"), Decimal("1.5")]
    assert result.test(BELOW_LINE).lines[0].label == "2026年度防止返贫致贫监测范围"
    assert accounting.suggest_referrals(result) == [
        ("低保边缘", edge.basis), ("临时救助", f"刚性支出困难：{result.test(RIGID_HARDSHIP).basis}"),
    ]  # fmt: skip
    card = accounting.card(h101, day=DAY_2026)
    assert (
        card["version"] == "2026.1"
        and card["rigid_total"] == "9000.00"
        and card["expenditure_version"] == "2026.1"
    )
    assert [t["shown"] for t in card["tests"]] == ["否", "是", "是", "是"]


def test_unknown_is_never_zero(county):
    h101, h102 = county["H101"], county["H102"]
    # no expenditure record: the rigid test is 未核算, not 否
    result = account(h101, day=DAY_2026)
    assert result.rigid_total is None and result.rigid_share_shown == "未核算"
    assert result.per_capita_after_rigid is None and result.test(RIGID_HARDSHIP).shown == "未核算"
    assert result.test(BELOW_EDGE).result is True  # the income tests still run
    # a record whose every item is empty is the same as none
    spent(h101)
    assert account(h101, day=DAY_2026).test(RIGID_HARDSHIP).result is None
    # known zero spending is known: no hardship
    ExpenditureRecord.objects.filter(household=h101).update(medical=Decimal("0"))
    zero = account(h101, day=DAY_2026)
    assert zero.rigid_total == Decimal("0") and zero.rigid_share_shown == "0.0%"
    assert zero.test(RIGID_HARDSHIP).result is False
    # no income record at all: every test 未核算, and no referral suggested from nothing
    h102.incomes.all().delete()
    nothing = account(h102, day=DAY_2026)
    assert nothing.year is None and nothing.per_capita is None
    assert [t.shown for t in nothing.tests] == ["未核算"] * 4
    assert accounting.suggest_referrals(nothing) == []


def test_an_income_of_zero_or_less_has_no_share_and_counts_as_exceeding(county):
    h103 = county["H103"]
    spent(h103, medical=Decimal("500"))
    result = account(h103, day=DAY_2026)
    assert result.net == Decimal("-2000.00") and result.rigid_share is None and not result.share_applicable
    assert result.rigid_share_shown.startswith("不适用")
    hardship = result.test(RIGID_HARDSHIP)
    assert hardship.result is True and "按超过比例计" in hardship.basis
    assert result.test(BELOW_DIBAO).result is True
    assert [kind for kind, _ in accounting.suggest_referrals(result)] == ["低保", "临时救助"]
    # with nothing spent there is no rigid hardship, whatever the income
    ExpenditureRecord.objects.filter(household=h103).update(medical=Decimal("0"))
    assert account(h103, day=DAY_2026).test(RIGID_HARDSHIP).result is False


def test_the_parameters_are_those_in_force_on_the_day(county):
    h101 = county["H101"]
    RuleParameter.objects.create(name="dibao_standard", province_code="14", effective_from=dt.date(2026, 7, 1),
                                 value=8400, confirmed=True, source="晋民发〔2026〕测试号")  # fmt: skip
    before, after = account(h101, day=dt.date(2026, 6, 30)), account(h101, day=dt.date(2026, 7, 1))
    assert before.test(BELOW_DIBAO).result is False and before.test(BELOW_DIBAO).pending
    dibao = after.test(BELOW_DIBAO)
    assert dibao.result is True and not dibao.pending and dibao.lines[0].source == "晋民发〔2026〕测试号"
    assert after.test(BELOW_EDGE).lines[0].value == Decimal("12600.00")  # 8,400 × 1.5
    assert [k for k, _ in accounting.suggest_referrals(before)] == ["低保边缘"]
    assert [k for k, _ in accounting.suggest_referrals(after)] == ["低保"]


def test_special_hardship_needs_every_member_without_labour_and_not_already_supported(county):
    h104 = county["H104"]
    result = account(h104, day=DAY_2026)  # 5,000 元/人: below 低保 too
    suggested = dict(accounting.suggest_referrals(result))
    assert list(suggested) == ["低保", "特困"] and "全户2人均为丧失劳动力、无劳动力" in suggested["特困"]
    wife = h104.members.get(name="郑大娘")
    wife.labour_skill = "弱劳动力或半劳动力"
    wife.save()
    assert [k for k, _ in accounting.suggest_referrals(account(h104, day=DAY_2026))] == ["低保"]
    # a household already on 低保 and 特困 is not referred for them again
    wife.labour_skill = "无劳动力"
    wife.save()
    h104.members.update(dibao=True, tekun=True)
    assert accounting.suggest_referrals(account(h104, day=DAY_2026)) == []
    # and the household page shows the accounting because it is in 民政's tracks
    assert accounting.card(h104, day=DAY_2026)["per_capita"] == "5000.00"
    assert accounting.card(county["H102"], day=DAY_2026) is None  # neither referred, supported nor recorded


def test_recording_rigid_spending_stores_the_version_and_is_audited(county):
    h101 = county["H101"]
    said = accounting.apply_expenditure(h101, {"e-medical": Decimal("7200"), "e-education": None}, regime=NEW)
    record = h101.expenditures.get()
    assert said == ["2025年医疗支出（个人负担）：未填写 → 7200"]
    assert (record.year, record.medical, record.education, record.source, record.accounting_version) == (
        2025, Decimal("7200.00"), None, "入户核查", "2026.1")  # fmt: skip
    entry = AuditEntry.objects.get(model="registry.ExpenditureRecord", household_id=h101.pk)
    assert entry.action == "create" and Decimal(entry.after["medical"]) == 7200
    assert accounting.apply_expenditure(h101, {"e-medical": Decimal("7200")}, regime=NEW) == []  # unchanged
    accounting.apply_expenditure(h101, {"e-medical": Decimal("6000")}, regime=NEW)
    assert AuditEntry.objects.filter(model="registry.ExpenditureRecord", action="update").count() == 1
    # the transition accounting records no rigid spending, and a negative amount is refused
    with pytest.raises(ValidationError, match="不核算医疗"):
        accounting.apply_expenditure(h101, {"e-medical": Decimal("1")}, regime=OLD)
    with pytest.raises(ValidationError, match="不能为负数"):
        accounting.apply_expenditure(h101, {"e-education": Decimal("-1")}, regime=NEW)


def test_an_income_record_with_every_component_empty_is_not_accounted_as_zero(register, time_machine):
    """As the income rules read it: no figures is unknown, so rigid spending alone is no 刚性支出困难."""
    import datetime as dt
    from decimal import Decimal

    from fangpin.registry.accounting import RIGID_HARDSHIP, account
    from fangpin.registry.models import ExpenditureRecord, Household

    time_machine.move_to(dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC))
    household = Household.objects.get(household_no="H001")
    record = household.incomes.order_by("-year").first()
    household.incomes.filter(pk=record.pk).update(wage=None, business=None, property=None, transfer=None,
                                                  computed_net=Decimal(0), computed_per_capita=Decimal(0))  # fmt: skip
    ExpenditureRecord.objects.create(household=household, region_code=household.region_code, year=record.year,
                                     medical=Decimal(9000))  # fmt: skip
    result = account(household)
    assert result.net is None and result.per_capita is None
    assert result.test(RIGID_HARDSHIP).result is None  # 未核算, not 刚性支出困难
