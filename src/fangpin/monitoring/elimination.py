"""Risk elimination (policy §8): the criteria evaluated from the data, each shown as met or not, and
风险消除回退. The numbers (months) come from procedure.toml, the monitoring line from IncomePolicy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fangpin.audit.models import Action, AuditEntry
from fangpin.registry import income
from fangpin.registry.models import Household
from fangpin.registry.status import SECURE, guarantees
from fangpin.rules.models import WARNING_FAMILIES
from fangpin.rules.parameters import value_on

from .models import Case, Reversion
from .procedure import ELIMINATION, config, procedure

NATURAL = "自然消除"
NO_LABOUR = ("丧失劳动力", "无劳动力")


@dataclass(frozen=True)
class Criterion:
    label: str
    met: bool
    detail: str


def months_between(month: str, today: dt.date) -> int | None:
    """Whole months from a YYYYMM month to today's month."""
    if len(month) != 6 or not month.isdigit():
        return None
    return today.year * 12 + today.month - (int(month[:4]) * 12 + int(month[4:]))


def _shift_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 - months
    return day.replace(year=total // 12, month=total % 12 + 1, day=min(day.day, 28))


def _income(household: Household, today: dt.date) -> Criterion:
    label = f"收入持续稳定（不少于{config().stable_income_months}个月）且人均纯收入高于当年监测范围"
    policy = income.policy_for(today.year, household.region_code[:2])
    record = household.incomes.order_by("-year").first()
    if policy is None or record is None or record.computed_per_capita is None:
        return Criterion(label, False, "没有收入记录或当年监测范围，无法判断")
    line = policy.monitoring_line
    if record.computed_per_capita <= line:
        return Criterion(label, False, f"{record.year}年人均纯收入{record.computed_per_capita}元，"
                                       f"不高于{today.year}年监测范围{line}元")  # fmt: skip
    # every value recorded for this income during the window must have been above the line: an income
    # raised above it only recently is not yet stable
    since = _shift_months(today, config().stable_income_months)
    changes = AuditEntry.objects.filter(model="registry.IncomeRecord", object_id=str(record.pk), action=Action.UPDATE,
                                        at__date__gte=since).order_by("seq")  # fmt: skip
    for entry in changes:
        for value in (
            (entry.before or {}).get("computed_per_capita"),
            (entry.after or {}).get("computed_per_capita"),
        ):
            if value is not None and Decimal(str(value)) <= line:
                return Criterion(label, False, f"{timezone.localtime(entry.at):%Y-%m-%d}记录的人均纯收入{value}元不高于"
                                               f"监测范围{line}元，收入高于监测范围未满{config().stable_income_months}个月")  # fmt: skip
    return Criterion(label, True, f"{record.year}年人均纯收入{record.computed_per_capita}元，高于监测范围{line}元，"
                                  f"近{config().stable_income_months}个月无低于监测范围的记录")  # fmt: skip


def _rigid_spending(household: Household, today: dt.date) -> Criterion:
    label = "大额刚性支出问题已稳定解决"
    name = "medical_self_pay_poverty" if household.household_type == "脱贫户" else "medical_self_pay_other"
    line = value_on(name, today, household.region_code[:2])
    spent = household.compliant_self_pay
    if line is not None and spent is not None and spent >= Decimal(str(line.value)):
        return Criterion(label, False, f"合规自付支出{spent}元，达到医疗自付预警线{line.value}元")
    pending = list(
        household.findings.filter(family__in=WARNING_FAMILIES, status="open").values_list(
            "message", flat=True
        )[:3]
    )
    if pending:
        return Criterion(label, False, f"尚有未核实的预警：{'；'.join(pending)}")
    return Criterion(label, True, "无未核实的医疗、教育、灾害等支出预警")


def _guarantees(household: Household, today: dt.date) -> Criterion:
    label = "“三保障”和饮水安全有保障"
    problems = [f"{g.name}{g.label}（{g.detail}）" for g in guarantees(household, household.members.all(), today)
                if g.state != SECURE]  # fmt: skip
    if problems:
        return Criterion(label, False, "；".join(problems))
    return Criterion(label, True, "义务教育、基本医疗、住房安全和饮水安全均有保障")


def _since_identification(household: Household, today: dt.date) -> Criterion:
    needed = config().months_since_identification
    label = f"识别纳入已满{needed}个月"
    months = months_between(household.identified_month, today)
    if months is None:
        return Criterion(label, False, "识别监测时间未填写")
    return Criterion(label, months >= needed, f"{household.identified_month[:4]}年{int(household.identified_month[4:])}月"
                                              f"识别，至今{months}个月")  # fmt: skip


def _measures(household: Household, today: dt.date, method: str) -> Criterion:
    label = "至少落实一项针对性帮扶措施"
    delivered = list(household.assistance.filter(start__lte=today).values_list("item", flat=True))
    if delivered:
        return Criterion(label, True, f"已落实：{'、'.join(delivered)}")
    if method == NATURAL:
        return Criterion(label, True, "自然消除，不要求帮扶措施")
    return Criterion(label, False, "尚未落实任何帮扶措施")


def _labour(household: Household) -> Criterion:
    label = "不是整户无劳动能力家庭"
    skills = [m.labour_skill for m in household.members.all() if m.labour_skill]
    if household.no_labour_household or (skills and all(s in NO_LABOUR for s in skills)):
        return Criterion(label, False, "整户无劳动能力，落实社会保障后继续监测，不标注风险消除")
    return Criterion(label, True, f"有劳动能力成员{sum(s not in NO_LABOUR for s in skills)}人")


def criteria(household: Household, method: str = "帮扶消除", today: dt.date | None = None) -> list[Criterion]:
    today = today or timezone.localdate()
    return [
        _income(household, today), _rigid_spending(household, today), _guarantees(household, today),
        _since_identification(household, today), _measures(household, today, method), _labour(household),
    ]  # fmt: skip


def require(household: Household, method: str) -> None:
    unmet = [f"{c.label}：{c.detail}" for c in criteria(household, method) if not c.met]
    if unmet:
        raise ValidationError(["不符合风险消除条件：", *unmet])


def can_revert(user: Any, household: Household) -> bool:
    approver = procedure(ELIMINATION).steps[-1]
    return (
        bool(household.risk_eliminated) and user.role in approver.owner and user.covers(household.region_code)
    )


@transaction.atomic
def revert(*, user: Any, household: Household, reason: str) -> Any:
    """风险消除回退: the elimination proved unstable; the household is monitored again from today."""
    if not can_revert(user, household):
        raise PermissionDenied("只有县级审定人员可以办理风险消除回退")
    if not reason.strip():
        raise ValidationError("回退须说明原因")
    case = (
        household.cases.filter(kind=Case.Kind.ELIMINATION, status=Case.Status.DONE)
        .order_by("-finished_at")
        .first()
    )
    household.risk_eliminated, household.eliminated_month, household.elimination_method = False, "", ""
    household.save()
    return Reversion.objects.create(household=household, region_code=household.region_code, case=case,
                                    reason=reason.strip(), by=user, at=timezone.now())  # fmt: skip
