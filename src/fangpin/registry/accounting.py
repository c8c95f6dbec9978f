"""The unified income-and-expenditure accounting (收支核算) of one household: one set of numbers that both
the 防止返贫致贫 monitoring and 民政's social assistance read (2026年中央一号文件（八）; policy.md §13).

The income is the register's own computation (IncomeRecord.computed_net under the year's IncomePolicy:
the formula's switches live there), named by the regime's accounting: 家庭纯收入 under the transition
regime, 家庭可支配收入 under a "disposable" accounting. A disposable accounting adds the household's
刚性支出 (the regime's rigid items, from ExpenditureRecord) and the four tests both tracks need, each with
the line it compared against, where the line comes from, and whether it is 待核实. Every number of policy
is a rule parameter with an effective date (rules/catalogue/parameters.toml) or the year's 收入参数.

Unknown is never zero: without an income record, or with every rigid item empty, the figure and the tests
that need it are 未核算, so a household nobody asked is never reported as below or above a line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fangpin.regimes.regime import PENDING, RIGID_ITEMS, Regime, regime_for

from .income import policy_for
from .models import ExpenditureRecord, Household, IncomeRecord

CENT = Decimal("0.01")
NOT_ACCOUNTED = "未核算"
NOT_APPLICABLE = "不适用"
# labour abilities that leave a person unable to support the household (registry.choices.LABOUR_SKILLS)
NO_LABOUR = ("无劳动力", "丧失劳动力")
# the changes-dict keys of the rigid items, in the style of registry.facts ("e-medical", …)
# (the year is the facts' "income_year": one accounting, one year)
EXPENDITURE_PREFIX = "e-"

# the tests of a disposable accounting, in the order the page shows them
BELOW_DIBAO, BELOW_EDGE = "dibao", "dibao_edge"
RIGID_HARDSHIP, BELOW_LINE = "rigid_hardship", "monitoring_line"
TEST_LABELS = {
    BELOW_DIBAO: "低于低保标准",
    BELOW_EDGE: "低于低保边缘标准",
    RIGID_HARDSHIP: "刚性支出困难",
    BELOW_LINE: "低于防止返贫致贫监测范围",
}


@dataclass(frozen=True)
class Line:
    """A value of policy the accounting used: its amount, its 依据 and whether it is confirmed."""

    label: str
    value: Decimal | None
    source: str
    confirmed: bool
    unit: str = "money"  # money (元) | multiple (倍) | share (%)

    @property
    def pending(self) -> bool:
        return not self.confirmed

    @property
    def shown(self) -> str:
        if self.value is None:
            return "未配置"
        if self.unit == "multiple":
            return f"{self.value.normalize():f}倍"
        if self.unit == "share":
            return f"{(self.value * 100).normalize():f}%"
        return _money(self.value)


@dataclass(frozen=True)
class Test:
    """One test of the accounting: `result` is None when what it needs is 未核算 (or a line is missing)."""

    code: str
    label: str
    result: bool | None
    basis: str  # the comparison as a sentence, with the values used
    lines: tuple[Line, ...]

    @property
    def pending(self) -> bool:
        return any(line.pending for line in self.lines)

    @property
    def shown(self) -> str:
        if self.result is None:
            return NOT_ACCOUNTED
        return "是" if self.result else "否"


@dataclass(frozen=True)
class RigidItem:
    code: str
    label: str
    amount: Decimal | None


@dataclass
class HouseholdAccount:
    """A household's 收支核算 for one year under one regime's accounting (code, version named)."""

    household: Household
    year: int | None
    day: dt.date
    regime: Regime
    income: IncomeRecord | None
    net: Decimal | None
    per_capita: Decimal | None
    divisor: int | None
    rigid: list[RigidItem] = field(default_factory=list)
    rigid_total: Decimal | None = None
    expenditure: ExpenditureRecord | None = None
    rigid_share: Decimal | None = None  # rigid ÷ household income; None when not accounted or not applicable
    share_applicable: bool = True  # False when the household income is ≤ 0 (then counted as exceeding)
    per_capita_after_rigid: Decimal | None = None
    tests: list[Test] = field(default_factory=list)

    @property
    def disposable(self) -> bool:
        return self.regime.accounting.formula == "disposable"

    @property
    def accounting_code(self) -> str:
        return self.regime.accounting.code

    @property
    def accounting_version(self) -> str:
        return self.regime.accounting.version

    @property
    def income_label(self) -> str:
        return "家庭可支配收入" if self.disposable else "家庭纯收入"

    @property
    def per_capita_label(self) -> str:
        return "人均可支配收入" if self.disposable else "人均纯收入"

    @property
    def rigid_share_shown(self) -> str:
        if not self.share_applicable:
            return f"{NOT_APPLICABLE}（家庭收入≤0，按超过比例计）"
        if self.rigid_share is None:
            return NOT_ACCOUNTED
        return f"{(self.rigid_share * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"

    def test(self, code: str) -> Test | None:
        return next((t for t in self.tests if t.code == code), None)

    def passed(self, code: str) -> bool:
        found = self.test(code)
        return bool(found and found.result)


def _money(value: Decimal | None) -> str:
    if value is None:
        return NOT_ACCOUNTED
    return f"{value:,.0f} 元" if value == value.to_integral_value() else f"{value:,.2f} 元"


def _parameter(name: str, label: str, day: dt.date, province: str, unit: str = "money") -> Line:
    from fangpin.rules.parameters import value_on  # rules reads the register: imported here, not above

    row = value_on(name, day, province)
    if row is None:
        return Line(label, None, f"未配置参数 {name}", False, unit)
    return Line(label, Decimal(str(row.value)), row.source, row.confirmed, unit)


def _monitoring_line(day: dt.date, province: str) -> Line:
    policy = policy_for(day.year, province)
    if policy is None:
        return Line("防止返贫致贫监测范围", None, "未配置收入参数", False)
    return Line(f"{policy.year}年度防止返贫致贫监测范围", policy.monitoring_line,
                policy.line_source or "收入参数", policy.line_confirmed)  # fmt: skip


def _mark(line: Line) -> str:
    return f"{line.label}{line.shown}" + (f"（{PENDING}）" if line.pending else "")


def _below(code: str, amount: Decimal | None, line: Line, *extra: Line, what: str) -> Test:
    lines = (line, *extra)
    if amount is None or line.value is None:
        missing = what if amount is None else line.label
        return Test(code, TEST_LABELS[code], None, f"{missing}{NOT_ACCOUNTED}", lines)
    result = amount < line.value
    basis = f"{what}{_money(amount)}{'低于' if result else '不低于'}{_mark(line)}"
    return Test(code, TEST_LABELS[code], result, basis, lines)


def latest_year(household: Household, day: dt.date | None = None) -> int | None:
    """The year the accounting is for by default: the household's latest income year up to `day`'s year
    (the same year the 2026 screening rules read, rules/catalogue/65_joint_monitoring.toml)."""
    incomes = household.incomes.filter(year__lte=(day or timezone.localdate()).year)
    return incomes.order_by("-year").values_list("year", flat=True).first()


def _recorded(income: Any) -> bool:
    """An income record whose main components are all empty is unknown, not zero income (formats §1; the
    income rules' `COALESCE(wage, business, property, transfer) IS NOT NULL`)."""
    return income is not None and any(
        getattr(income, name) is not None for name in ("wage", "business", "property", "transfer")
    )


def account(household: Household, year: int | None = None, regime: Regime | None = None,
            day: dt.date | None = None) -> HouseholdAccount:  # fmt: skip
    """The household's 收支核算 of `year` (its latest income year by default) under `regime` (the one in
    force on `day`, today by default); the parameters are those in force on `day`."""
    day = day or timezone.localdate()
    regime = regime or regime_for(day)
    province = household.region_code[:2]
    year = year or latest_year(household, day)
    income = household.incomes.filter(year=year).first() if year else None
    recorded = _recorded(income)
    net = income.computed_net if recorded else None
    per_capita = income.computed_per_capita if recorded else None
    result = HouseholdAccount(household=household, year=year, day=day, regime=regime, income=income, net=net,
                              per_capita=per_capita, divisor=income.divisor_size if income else None)  # fmt: skip
    if regime.accounting.formula != "disposable":
        return result  # the transition regime: 人均纯收入 only, as fangpin has always shown it

    expenditure = household.expenditures.filter(year=year).first() if year else None
    result.expenditure = expenditure
    result.rigid = [
        RigidItem(item, RIGID_ITEMS[item], getattr(expenditure, item) if expenditure else None)
        for item in regime.accounting.rigid_items
    ]
    known = [item.amount for item in result.rigid if item.amount is not None]
    result.rigid_total = sum(known, Decimal(0)) if known else None
    if result.rigid_total is not None and net is not None:
        if net <= 0:
            result.share_applicable = False
        else:
            result.rigid_share = result.rigid_total / net
        if result.divisor:
            result.per_capita_after_rigid = ((net - result.rigid_total) / result.divisor).quantize(
                CENT, ROUND_HALF_UP
            )

    dibao = _parameter("dibao_standard", "农村低保标准", day, province)
    multiple = _parameter("dibao_edge_multiple", "低保边缘倍数", day, province, "multiple")
    share = _parameter("rigid_expense_share", "刚性支出占家庭收入比例", day, province, "share")
    average = _parameter("rural_disposable_income_prev_year", "上年度农村居民人均可支配收入", day, province)
    edge_value = (
        (dibao.value * multiple.value).quantize(CENT)
        if dibao.value is not None and multiple.value is not None
        else None
    )
    edge = Line(f"低保边缘标准（低保标准的{multiple.shown}）", edge_value,
                f"{dibao.source}；{multiple.source}", dibao.confirmed and multiple.confirmed)  # fmt: skip
    income_what = result.per_capita_label
    result.tests = [
        _below(BELOW_DIBAO, per_capita, dibao, what=income_what),
        _below(BELOW_EDGE, per_capita, edge, dibao, multiple, what=income_what),
        _rigid_hardship(result, share, average),
        _below(BELOW_LINE, per_capita, _monitoring_line(day, province), what=income_what),
    ]
    return result


def _rigid_hardship(result: HouseholdAccount, share: Line, average: Line) -> Test:
    """刚性支出困难 (民政): rigid spending above the set share of household income AND per-capita income
    below last year's local rural per-capita disposable income. An income ≤ 0 counts as exceeding the
    share (a ratio to nothing means nothing); no rigid spending at all is no rigid hardship."""
    lines = (share, average)
    label = TEST_LABELS[RIGID_HARDSHIP]
    if result.rigid_total is None or result.net is None or result.per_capita is None:
        missing = "刚性支出" if result.rigid_total is None else result.income_label
        return Test(RIGID_HARDSHIP, label, None, f"{missing}{NOT_ACCOUNTED}", lines)
    if share.value is None or average.value is None:
        missing = share.label if share.value is None else average.label
        return Test(RIGID_HARDSHIP, label, None, f"{missing}{NOT_ACCOUNTED}", lines)
    if not result.share_applicable:
        exceeds = result.rigid_total > 0
        share_said = f"家庭收入≤0，刚性支出{_money(result.rigid_total)}" + (
            "按超过比例计" if exceeds else "为零"
        )
    else:
        exceeds = result.rigid_share > share.value
        share_said = (f"刚性支出占家庭收入{result.rigid_share_shown}，{'超过' if exceeds else '未超过'}"
                      f"{share.label}{share.shown}" + (f"（{PENDING}）" if share.pending else ""))  # fmt: skip
    low = result.per_capita < average.value
    income_said = (
        f"{result.per_capita_label}{_money(result.per_capita)}{'低于' if low else '不低于'}{_mark(average)}"
    )
    return Test(RIGID_HARDSHIP, label, exceeds and low, f"{share_said}；{income_said}", lines)


# ---- referrals to 民政 -----------------------------------------------------------------------------


def _works(member: Any) -> bool:
    return member.labour_skill not in NO_LABOUR


def suggest_referrals(result: HouseholdAccount) -> list[tuple[str, str]]:
    """The 转介民政 a verification proposes from the accounting, each with its reason; the verifier decides
    and 民政 decides after them. Only the regime's referral kinds, only under a disposable accounting, and
    not a kind every member already receives (Member.dibao / tekun)."""
    regime = result.regime
    if not (regime.joint_intake.enabled and result.disposable):
        return []
    members = list(result.household.members.all())
    suggested: list[tuple[str, str]] = []
    on_dibao = bool(members) and all(m.dibao for m in members)
    below_dibao, below_edge = result.test(BELOW_DIBAO), result.test(BELOW_EDGE)
    if below_dibao and below_dibao.result and not on_dibao:
        suggested.append(("低保", below_dibao.basis))
    elif below_edge and below_edge.result and not on_dibao:
        suggested.append(("低保边缘", below_edge.basis))
    # 特困: nobody in the household can work, so nobody in it can support the others (a 法定赡养抚养扶养
    # 义务人 living elsewhere is for the home visit to find out, and is said so)
    if members and all(not _works(m) for m in members) and not all(m.tekun for m in members):
        skills = "、".join(sorted({m.labour_skill for m in members}))
        suggested.append(("特困", f"全户{len(members)}人均为{skills}，户内无有劳动能力的赡养、抚养、扶养人"
                                 "（户外法定义务人情况须入户核实）"))  # fmt: skip
    hardship = result.test(RIGID_HARDSHIP)
    if hardship and hardship.result:
        suggested.append(("临时救助", f"刚性支出困难：{hardship.basis}"))
    return [(kind, reason) for kind, reason in suggested if kind in regime.joint_intake.referral_kinds]


# ---- as stored and shown ---------------------------------------------------------------------------------


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def snapshot(result: HouseholdAccount) -> dict[str, Any]:
    """The accounting as plain data: what a verification stores once (monitoring Clue.accounting) and
    what the pages show (monitoring/_accounting.html): figures, each test with its lines (值, 依据,
    待核实), the suggested referrals, the accounting's code and version and the regime."""
    return {
        "regime": result.regime.code, "regime_label": result.regime.short_label,
        "accounting": result.accounting_code, "version": result.accounting_version,
        "label": result.regime.accounting.label, "confirmed": result.regime.accounting.confirmed,
        "year": result.year, "day": result.day.isoformat(), "disposable": result.disposable,
        "income_label": result.income_label, "per_capita_label": result.per_capita_label,
        "net": _num(result.net), "per_capita": _num(result.per_capita), "divisor": result.divisor,
        "rigid": [[item.code, item.label, _num(item.amount)] for item in result.rigid],
        "rigid_total": _num(result.rigid_total), "rigid_share": result.rigid_share_shown,
        "per_capita_after_rigid": _num(result.per_capita_after_rigid),
        "expenditure_version": result.expenditure.accounting_version if result.expenditure else "",
        "tests": [{"code": t.code, "label": t.label, "result": t.result, "shown": t.shown, "basis": t.basis,
                   "pending": t.pending,
                   "lines": [[line.label, line.shown, line.source, line.confirmed] for line in t.lines]}
                  for t in result.tests],
        "suggested": [[kind, reason] for kind, reason in suggest_referrals(result)],
    }  # fmt: skip


def condensed(value: Any) -> Any:
    """A stored accounting (a snapshot) as one line, for the change history; any other value as it is."""
    if not (isinstance(value, dict) and "version" in value and "tests" in value):
        return value
    per_capita = Decimal(value["per_capita"]) if value.get("per_capita") else None
    rigid = Decimal(value["rigid_total"]) if value.get("rigid_total") else None
    parts = [f"{value.get('per_capita_label', '人均收入')}{_money(per_capita)}"]
    if value.get("disposable"):
        parts.append(f"刚性支出{_money(rigid)}")
    return f"收支核算：{'，'.join(parts)}（{value.get('label', '')}，版本 {value['version']}）"


def card(household: Household, day: dt.date | None = None) -> dict[str, Any] | None:
    """The household page's 收支核算 card, where both accountings apply: under a disposable accounting,
    for a household in 民政's tracks (referred, or a member on 低保 or 特困) or with a rigid-expenditure
    record; None otherwise (the transition regime's page is unchanged)."""
    regime = regime_for(day or timezone.localdate())
    if regime.accounting.formula != "disposable":
        return None
    civil = (
        household.referrals.exists()
        or household.members.filter(dibao=True).exists()
        or household.members.filter(tekun=True).exists()
    )
    if not civil and not household.expenditures.exists():
        return None
    return snapshot(account(household, regime=regime, day=day))


# ---- recording the rigid expenditure ------------------------------------------------------------------


def expenditure_keys(regime: Regime) -> list[str]:
    """The changes-dict keys of the rigid items the regime's accounting asks for."""
    return [EXPENDITURE_PREFIX + item for item in regime.accounting.rigid_items]


@transaction.atomic
def apply_expenditure(household: Household, changes: dict[str, Any], *, regime: Regime,
                      source: str = "入户核查") -> list[str]:  # fmt: skip
    """Save the rigid items found at a home verification ("e-medical", … of the facts' "income_year") through
    the audited model, stamping the accounting version they were taken under; returns what changed, in
    Chinese, for the verification record. An item not in the changes is left as it is."""
    items = {key[len(EXPENDITURE_PREFIX) :]: value for key, value in changes.items()
             if key.startswith(EXPENDITURE_PREFIX)}  # fmt: skip
    if not items:
        return []
    unknown = [item for item in items if item not in regime.accounting.rigid_items]
    if unknown:
        raise ValidationError(
            f"{regime.accounting.label}不核算{'、'.join(RIGID_ITEMS.get(i, i) for i in unknown)}"
        )
    if any(value is not None and value < 0 for value in items.values()):
        raise ValidationError("刚性支出不能为负数")
    year = changes.get("income_year") or latest_year(household) or timezone.localdate().year - 1
    record = household.expenditures.filter(year=year).first() or ExpenditureRecord(
        household=household, region_code=household.region_code, year=year
    )
    said = []
    for item, value in items.items():
        if getattr(record, item) != value:
            label = ExpenditureRecord._meta.get_field(item).verbose_name
            said.append(f"{year}年{label}：{_shown(getattr(record, item))} → {_shown(value)}")
            setattr(record, item, value)
    if said:
        record.source, record.accounting_version = source, regime.accounting.version
        record.save()
    return said


def _shown(value: Decimal | None) -> str:
    return "未填写" if value is None else str(value)
