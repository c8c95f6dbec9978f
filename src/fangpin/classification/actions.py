"""The classification of 原建档立卡脱贫人口 as business operations: started by the village for its 脱贫户
(one by one or the whole village) only where the regime in force includes it, walked through the
regime's steps by the roles that own them in their region with the checklist complete, returned one
step with a reason, approved by the county (final class, regime, carried-over measures), and the
clocks of the regime's step days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from fangpin.common.files import save_upload, stamped
from fangpin.monitoring import assistance
from fangpin.monitoring.actions import check_uploads as check_monitoring_uploads
from fangpin.monitoring.models import Measure
from fangpin.regimes.regime import ClassStep, Regime, by_code
from fangpin.regimes.regime import current as current_regime
from fangpin.regions.models import Region
from fangpin.registry.models import Household

from . import facts as assessed
from .models import OPEN_STATUSES, Assessment, AssessmentAttachment, AssessmentEvent

COUNTY_ROLES = ("county_staff", "county_admin")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def regime_of(assessment: Assessment) -> Regime:
    return by_code(assessment.regime)


def enabled_regime() -> Regime:
    """The regime in force, refused when classification is not part of it."""
    regime = current_regime()
    if not regime.classification.enabled:
        raise ValidationError(f"按{regime.short_label}，原建档立卡脱贫人口分类管理不在本口径的工作内容中")
    return regime


def current_step(assessment: Assessment) -> ClassStep:
    return regime_of(assessment).classification.step(assessment.step)


def owns(user: Any, assessment: Assessment) -> bool:
    """The role of the current step, inside its region, on an assessment still being worked on."""
    step = current_step(assessment)
    return assessment.is_open and user.role in step.owner and user.covers(assessment.region_code)


def may_start(user: Any, regime: Regime | None = None) -> bool:
    regime = regime or current_regime()
    return regime.classification.enabled and user.role in regime.classification.steps[0].owner


def _event(assessment: Assessment, step: ClassStep, action: str, user: Any, at: dt.datetime, note: str = "",
           checklist: list[str] | tuple[str, ...] = (), class_label: str = "") -> None:  # fmt: skip
    AssessmentEvent.objects.create(assessment=assessment, step=step.code, step_label=step.label, action=action,
                                   user=user, at=at, note=note, checklist=list(checklist),
                                   class_label=class_label)  # fmt: skip


def _refresh_facts(assessment: Assessment, household: Household, regime: Regime) -> assessed.Suggestion:
    items, signals = assessed.gather(household)
    suggestion = assessed.suggest(regime, signals)
    assessment.facts, assessment.signals, assessment.facts_at = items, signals, timezone.now()
    assessment.suggested_class, assessment.suggestion_reason = suggestion.code, suggestion.text
    return suggestion


def _check_household(user: Any, household: Household, regime: Regime) -> None:
    first = regime.classification.steps[0]
    _require(user.role in first.owner and user.covers(household.region_code),
             f"“{first.label}”由{'、'.join(_role_labels(first.owner))}为本辖区的户发起")  # fmt: skip
    if household.household_type != regime.classification.population:
        raise ValidationError(f"只有{regime.classification.population}参加分类评估")


def _role_labels(roles: tuple[str, ...]) -> list[str]:
    from fangpin.accounts.roles import Role

    return [Role(r).label for r in roles]


def _create(household: Household, user: Any, regime: Regime, note: str) -> Assessment:
    now = timezone.now()
    first = regime.classification.steps[0]
    assessment = Assessment(household=household, region_code=household.region_code, regime=regime.code,
                            step=first.code, step_started_at=now, started_by=user, started_at=now)  # fmt: skip
    suggestion = _refresh_facts(assessment, household, regime)
    assessment.proposed_class = suggestion.code or regime.classification.classes[0].code
    try:
        with transaction.atomic():
            assessment.save()
    except IntegrityError as exc:
        raise ValidationError("该户已有正在办理的分类评估") from exc
    _event(assessment, first, AssessmentEvent.Action.OPENED, user, now, note,
           class_label=suggestion.label and f"系统建议：{suggestion.label}")  # fmt: skip
    return assessment


@transaction.atomic
def start(*, user: Any, household: Household, note: str = "") -> Assessment:
    """发起分类评估 for one 脱贫户: facts gathered, the class suggested, at the village's step."""
    regime = enabled_regime()
    _check_household(user, household, regime)
    return _create(household, user, regime, note)


@dataclass(frozen=True)
class BatchResult:
    started: int
    already_open: int
    already_decided: int


@transaction.atomic
def start_village(*, user: Any, village: Region) -> BatchResult:
    """为本村全部脱贫户发起分类评估: every 脱贫户 of the village without an assessment being worked on or
    approved under the regime in force (a closed one may be started again)."""
    regime = enabled_regime()
    first = regime.classification.steps[0]
    _require(village.level == 5 and user.role in first.owner and user.covers(village.code),
             "只能为本村的脱贫户批量发起分类评估")  # fmt: skip
    households = list(Household.objects.in_region(village).filter(household_type=regime.classification.population)
                      .order_by("household_no"))  # fmt: skip
    open_ids = set(Assessment.objects.filter(household__in=households, status__in=OPEN_STATUSES)
                   .values_list("household_id", flat=True))  # fmt: skip
    decided_ids = set(Assessment.objects.filter(household__in=households, status=Assessment.Status.APPROVED,
                                                regime=regime.code).values_list("household_id", flat=True))  # fmt: skip
    started = 0
    for household in households:
        if household.pk in open_ids or household.pk in decided_ids:
            continue
        _create(household, user, regime, "本村批量发起")
        started += 1
    return BatchResult(started, len(open_ids), len(decided_ids - open_ids))


def check_uploads(uploads: list[tuple[str, UploadedFile]]) -> None:
    """The monitoring attachments' rules (type, content and size, before anything is written), for the
    kinds of evidence an assessment keeps."""
    check_monitoring_uploads(uploads, kinds=AssessmentAttachment.Kind.values, noun="材料")


@transaction.atomic
def attach(
    *, user: Any, assessment: Assessment, uploads: list[tuple[str, UploadedFile]]
) -> list[AssessmentAttachment]:
    """Evidence for the current step, by its owner: stored under MEDIA_ROOT/classification/<household>/."""
    _require(owns(user, assessment), f"“{current_step(assessment).label}”环节的材料由本环节办理人员上传")
    if not uploads:
        raise ValidationError("请选择要上传的材料")
    check_uploads(uploads)
    saved = []
    for kind, upload in uploads:
        target = save_upload(upload, stamped(Path(settings.MEDIA_ROOT) / "classification"
                                             / str(assessment.household_id), upload.name))  # fmt: skip
        saved.append(AssessmentAttachment.objects.create(
            household_id=assessment.household_id, region_code=assessment.region_code, assessment=assessment,
            kind=kind, name=Path(upload.name).name, path=str(target), size=upload.size or target.stat().st_size,
            step=assessment.step, uploaded_by=user,
        ))  # fmt: skip
    return saved


def _class_option(regime: Regime, code: str) -> Any:
    codes = [c.code for c in regime.classification.classes]
    if code not in codes:
        labels = "、".join(c.label for c in regime.classification.classes)
        raise ValidationError(f"按{regime.short_label}，分类类别应为{labels}之一")
    return regime.classification.option(code)


@transaction.atomic
def advance(*, user: Any, assessment: Assessment, checklist: list[str], note: str = "", class_code: str = "",
            reason: str = "", carried: list[int] | None = None) -> Assessment:  # fmt: skip
    """Complete the current step. The village's (first) step sets the proposed class, with a reason when
    it differs from the system's suggestion, and needs the evidence uploaded; the county's (last) step
    decides the final class and which running measures carry over."""
    # the row locked and read again: two officials on the same step must not both complete it
    Assessment.objects.select_for_update().filter(pk=assessment.pk).exists()
    assessment.refresh_from_db()
    regime = regime_of(assessment)
    flow = regime.classification
    step = flow.step(assessment.step)
    _require(owns(user, assessment), f"“{step.label}”环节不由当前账号办理")
    missing = [item for item in step.checklist if item not in checklist]
    if missing:
        raise ValidationError(f"佐证清单未完成：{'；'.join(missing)}")
    now = timezone.now()
    following = flow.after(step.code)
    first = step.code == flow.steps[0].code
    option = _class_option(regime, class_code or assessment.proposed_class)
    label = option.label
    if first:
        household = Household.objects.get(pk=assessment.household_id)
        _refresh_facts(assessment, household, regime)  # the facts as the village sees them at its decision
        if option.code != assessment.suggested_class and not reason.strip():
            raise ValidationError("拟定类别与系统建议不同，请说明分类理由")
        if not assessment.attachments.filter(step=step.code).exists():
            raise ValidationError("请先上传分类评估表或佐证材料")
        assessment.proposed_class, assessment.reason = option.code, reason.strip()
    elif following is None:
        if option.code != assessment.proposed_class and not reason.strip():
            raise ValidationError("审定类别与拟定类别不同，请说明理由")
        _decide(assessment, user, option, carried, now)
        label = option.label
    elif class_code and class_code != assessment.proposed_class:
        raise ValidationError("审核环节不能改变拟定类别，如有不同意见请退回并说明理由")
    text = "；".join(filter(None, [note.strip(), reason.strip() and f"理由：{reason.strip()}"]))
    _event(assessment, step, AssessmentEvent.Action.APPROVED if following is None else AssessmentEvent.Action.DONE,
           user, now, text, checklist, label)  # fmt: skip
    if following is not None:
        assessment.step, assessment.step_started_at = following.code, now
        assessment.status = Assessment.Status.OPEN
    assessment.save()
    return assessment


def _decide(
    assessment: Assessment, user: Any, option: Any, carried: list[int] | None, now: dt.datetime
) -> None:
    """县级审定: the final class as the regime names it, and the carry-over list made explicit. A class
    that exits ends no measure by itself: what is not carried over ends today, by the county's decision."""
    if carried is None:
        raise ValidationError("请明确延续的帮扶措施（可不选，表示全部结束）")
    household = Household.objects.get(pk=assessment.household_id)
    running = assessed.running_measures(household, timezone.localdate())
    ids = {m.pk for m in running}
    unknown = set(carried) - ids
    if unknown:
        raise ValidationError("延续的帮扶措施须为该户正在实施的措施")
    ending = [m for m in running if m.pk not in set(carried)]
    if ending and not option.exits:
        names = "、".join(m.item for m in ending)
        raise ValidationError(f"{option.label}不退出帮扶政策，正在实施的措施应全部延续（未选：{names}）")
    for measure in ending:
        assistance.end_measure(
            user=user, measure=Measure.objects.get(pk=measure.pk), end=timezone.localdate()
        )
    assessment.carried_measures = sorted(set(carried))
    assessment.ended_measures = [m.pk for m in ending]
    assessment.final_class, assessment.final_class_label, assessment.final_exits = (
        option.code,
        option.label,
        option.exits,
    )
    assessment.decided_by, assessment.decided_at, assessment.finished_at = user, now, now
    assessment.status = Assessment.Status.APPROVED


@transaction.atomic
def return_assessment(*, user: Any, assessment: Assessment, reason: str) -> Assessment:
    """退回: one step back with the reason, shown to the step that gets it again."""
    flow = regime_of(assessment).classification
    step = flow.step(assessment.step)
    _require(owns(user, assessment), f"“{step.label}”环节不由当前账号办理")
    codes = [s.code for s in flow.steps]
    index = codes.index(step.code)
    if index == 0:
        raise ValidationError("第一个环节无法退回")
    if not reason.strip():
        raise ValidationError("退回须说明理由")
    now = timezone.now()
    _event(assessment, step, AssessmentEvent.Action.RETURNED, user, now, reason.strip())
    assessment.step, assessment.step_started_at = flow.steps[index - 1].code, now
    assessment.status = Assessment.Status.RETURNED
    assessment.save()
    return assessment


def may_close(user: Any, assessment: Assessment) -> bool:
    return assessment.is_open and user.role in COUNTY_ROLES and user.covers(assessment.region_code)


@transaction.atomic
def close(*, user: Any, assessment: Assessment, reason: str) -> Assessment:
    """终止: started by mistake (the household is no 脱贫户, has moved away); a county decision with a reason."""
    _require(may_close(user, assessment), "只有县级业务人员可以终止分类评估")
    if not reason.strip():
        raise ValidationError("终止须说明理由")
    now = timezone.now()
    _event(assessment, current_step(assessment), AssessmentEvent.Action.CLOSED, user, now, reason.strip())
    assessment.status, assessment.finished_at = Assessment.Status.CLOSED, now
    assessment.save()
    return assessment


# ---- clocks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    step: ClassStep
    total_days: int
    elapsed_days: float
    remaining_days: float
    step_elapsed_days: float
    step_due: dt.datetime
    step_overdue: bool
    overdue: bool


def clock(assessment: Assessment, now: dt.datetime | None = None) -> Clock:
    """Elapsed and remaining days of the whole assessment and of its step, by the regime's days."""
    now = now or timezone.now()
    flow = regime_of(assessment).classification
    step = flow.step(assessment.step)
    end = assessment.finished_at or now
    elapsed = (end - assessment.started_at).total_seconds() / 86400
    step_elapsed = ((assessment.finished_at or now) - assessment.step_started_at).total_seconds() / 86400
    due = assessment.step_started_at + dt.timedelta(days=step.days)
    open_ = assessment.is_open
    return Clock(step, flow.total_days, round(elapsed, 1), round(flow.total_days - elapsed, 1),
                 round(step_elapsed, 1), due, open_ and now > due, open_ and elapsed > flow.total_days)  # fmt: skip


def overdue_filter(now: dt.datetime | None = None) -> Any:
    """A Q of the open assessments past their step's or their whole limit, per configured regime (so the
    list and the progress table count in the database, not row by row)."""
    from django.db.models import Q

    from fangpin.regimes.regime import for_province

    now = now or timezone.now()
    q = Q(pk__in=[])
    for regime in for_province():
        flow = regime.classification
        if not flow.steps:
            continue
        mine = Q(regime=regime.code)
        late = Q(started_at__lt=now - dt.timedelta(days=flow.total_days))
        for step in flow.steps:
            late |= Q(step=step.code, step_started_at__lt=now - dt.timedelta(days=step.days))
        q |= mine & late
    return Q(status__in=OPEN_STATUSES) & q
