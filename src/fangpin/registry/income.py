"""Per-capita net income by policy §4, with the formula's open points taken from IncomePolicy."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .models import IncomePolicy

ZERO = Decimal("0")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class IncomeResult:
    net: Decimal
    per_capita: Decimal | None
    divisor: int | None
    discrepancy: Decimal | None  # reported − computed, when beyond the policy's tolerance


def policy_for(year: int, province_code: str | None = None) -> IncomePolicy | None:
    """The year's parameters; until a province issues a new value the previous year's applies."""
    province_code = province_code or settings.FANGPIN_PROVINCE_CODE
    return IncomePolicy.objects.filter(province_code=province_code, year__lte=year).order_by("-year").first()


def _v(values: dict[str, Decimal | None], name: str) -> Decimal:
    return values.get(name) or ZERO


def compute(
    values: dict[str, Decimal | None],
    *,
    policy: IncomePolicy | None,
    annual_size: int | None,
    current_size: int | None,
    member_count: int,
    claims_income: Decimal | None = None,
) -> IncomeResult:
    """家庭纯收入 = 工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营性支出, adjusted by the policy's switches;
    家庭人均纯收入 = 家庭纯收入 / 家庭人口数 (the divisor the policy names, falling back to the other)."""
    treatment = IncomePolicy.Treatment
    gross = _v(values, "wage") + _v(values, "business") + _v(values, "property") + _v(values, "transfer")
    expense = _v(values, "business_expense")
    awards = _v(values, "industry_award") + _v(values, "employment_award")
    subsidy = _v(values, "special_subsidy")
    if policy is not None:
        if policy.awards_treatment == treatment.INCOME:
            gross += awards
        elif policy.awards_treatment == treatment.OFFSET_EXPENSE:
            expense = max(expense - awards, ZERO)
        if policy.special_subsidy_treatment == treatment.INCOME:
            gross += subsidy
        elif policy.special_subsidy_treatment == treatment.OFFSET_EXPENSE:
            expense = max(expense - subsidy, ZERO)
        if policy.claims_counted and claims_income:
            gross += claims_income
    net = (gross - expense).quantize(CENT)
    if policy is not None and policy.divisor == IncomePolicy.Divisor.CURRENT:
        divisor = current_size or annual_size or member_count or None
    else:
        divisor = annual_size or current_size or member_count or None
    per_capita = (net / divisor).quantize(CENT, ROUND_HALF_UP) if divisor else None
    reported = values.get("reported_per_capita")
    discrepancy = None
    if reported is not None and per_capita is not None:
        tolerance = policy.tolerance if policy is not None else Decimal("1.00")
        if abs(reported - per_capita) > tolerance:
            discrepancy = (reported - per_capita).quantize(CENT)
    return IncomeResult(net=net, per_capita=per_capita, divisor=divisor, discrepancy=discrepancy)
