"""Walking a case through the procedure: each step done only by the role that owns it, in its region,
with its evidence checklist complete; returned with a reason; the notice period enforced; the clocks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Case, CaseEvent
from .procedure import Step, procedure


def owns(user: Any, case: Case) -> bool:
    step = procedure().step(case.step)
    return case.status == Case.Status.OPEN and user.role in step.owner and user.covers(case.region_code)


@transaction.atomic
def open_case(*, user: Any, household: Any, source: str, proposed_category: str, risk_types: str,
              finding: Any = None, green_channel: bool = False, note: str = "") -> Case:  # fmt: skip
    if not user.can("open_cases") or not user.covers(household.region_code):
        raise PermissionDenied("当前账号不能为该户发起识别程序")
    now = timezone.now()
    first = procedure().steps[0]
    try:
        with transaction.atomic():
            case = Case.objects.create(
                household=household, region_code=household.region_code, source=source, finding=finding,
                proposed_category=proposed_category, risk_types=risk_types, green_channel=green_channel,
                step=first.code, step_started_at=now, opened_by=user, opened_at=now,
            )  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError("该户已有正在办理的识别程序") from exc
    CaseEvent.objects.create(
        case=case, step=first.code, action=CaseEvent.Action.OPENED, user=user, at=now, note=note
    )
    return case


@transaction.atomic
def advance(*, user: Any, case: Case, checklist: list[str], note: str = "") -> Case:
    step = procedure().step(case.step)
    if not owns(user, case):
        raise PermissionDenied(f"“{step.label}”环节不由当前账号办理")
    missing = [item for item in step.checklist if item not in checklist]
    if missing:
        raise ValidationError(f"佐证清单未完成：{'；'.join(missing)}")
    now = timezone.now()
    if step.min_days and now - case.step_started_at < dt.timedelta(days=step.min_days):
        raise ValidationError(f"{step.label}期不少于{step.min_days}天，期满后才能进入下一环节")
    CaseEvent.objects.create(case=case, step=step.code, action=CaseEvent.Action.DONE, user=user, at=now,
                             note=note, checklist=list(checklist))  # fmt: skip
    following = procedure().after(step.code)
    if following is None:
        _include(case, now)
    else:
        case.step, case.step_started_at = following.code, now
    case.save()
    return case


def _include(case: Case, now: dt.datetime) -> None:
    """纳入监测: the household takes the approved category and risks, identified this month."""
    household = case.household
    household.monitoring_category = case.proposed_category
    household.risk_types = case.risk_types
    household.identified_month = f"{timezone.localtime(now):%Y%m}"
    household.risk_eliminated = False
    household.save()  # audited with before and after, like every change of the register
    case.status, case.finished_at = Case.Status.DONE, now


@transaction.atomic
def return_case(*, user: Any, case: Case, reason: str) -> Case:
    step = procedure().step(case.step)
    if not owns(user, case):
        raise PermissionDenied(f"“{step.label}”环节不由当前账号办理")
    previous = procedure().before(step.code)
    if previous is None:
        raise ValidationError("第一个环节无法退回")
    if not reason.strip():
        raise ValidationError("退回须说明理由")
    now = timezone.now()
    CaseEvent.objects.create(
        case=case, step=step.code, action=CaseEvent.Action.RETURNED, user=user, at=now, note=reason
    )
    case.step, case.step_started_at = previous.code, now
    case.save()
    return case


@dataclass(frozen=True)
class Clock:
    step: Step
    elapsed_days: float
    remaining_days: float
    step_elapsed_days: float
    step_due: dt.datetime
    step_overdue: bool
    overdue: bool


def clock(case: Case, now: dt.datetime | None = None) -> Clock:
    now = now or timezone.now()
    step = procedure().step(case.step)
    end = case.finished_at or now
    elapsed = (end - case.opened_at).total_seconds() / 86400
    step_elapsed = (now - case.step_started_at).total_seconds() / 86400
    due = case.step_started_at + dt.timedelta(days=step.days)
    open_ = case.status == Case.Status.OPEN
    return Clock(step, round(elapsed, 1), round(procedure().total_days - elapsed, 1), round(step_elapsed, 1), due,
                 open_ and now > due, elapsed > procedure().total_days)  # fmt: skip


def timeliness(cases: Any) -> tuple[int, int]:
    """(finished within the limit, finished): the county's timeliness figure."""
    done = [c for c in cases.filter(status=Case.Status.DONE)]
    within = sum(1 for c in done if (c.finished_at - c.opened_at).days <= procedure().total_days)
    return within, len(done)
