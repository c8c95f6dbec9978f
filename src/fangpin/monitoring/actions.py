"""The inbox and the cases: clues registered and verified at home (facts updated through the register),
cases walked through the configured steps (each done only by the role that owns it, in its region, with
its evidence checklist complete; returned with a reason; the notice period and its objections enforced;
elimination criteria re-checked at approval), and the clocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from fangpin.common.files import check_upload, save_upload, stamped
from fangpin.regimes.regime import current as current_regime
from fangpin.registry import accounting, facts
from fangpin.registry.models import Household
from fangpin.rules import actions as rule_actions
from fangpin.rules.models import WARNING_FAMILIES, Finding

from . import elimination, referral
from .models import Attachment, Case, CaseEvent, Clue, Objection, Outcome, Source
from .procedure import ELIMINATION, IDENTIFICATION, Step, config, procedure


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


ATTACHMENT_TYPES = (".jpg", ".jpeg", ".png", ".heic", ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ofd")


def check_uploads(uploads: list[tuple[str, UploadedFile]], *, kinds: Iterable[str] = (),
                  noun: str = "附件") -> None:  # fmt: skip
    """Refuse a file of the wrong type, content or size before anything is written. `kinds`: the material
    kinds the caller's model knows (monitoring's Attachment.Kind by default); `noun`: what its page calls
    a file (附件, or 材料 for the classification's evidence)."""
    limit = settings.FANGPIN_MAX_ATTACHMENT_MB  # the ceiling for every attachment; per type may be lower
    known = set(kinds or Attachment.Kind.values)
    for kind, upload in uploads:
        if kind not in known:
            raise ValidationError(f"{noun}“{upload.name}”的材料类型无效")
        if Path(upload.name).suffix.lower() not in ATTACHMENT_TYPES:
            raise ValidationError(
                f"{noun}“{upload.name}”的文件类型不支持，请上传照片（jpg、png）、PDF、OFD、Word 或 Excel 文件"
            )
        if (upload.size or 0) > limit * 1024 * 1024:
            raise ValidationError(f"{noun}“{upload.name}”超过{limit}MB，请压缩后再上传")
        check_upload(upload, "attachment")  # by content (a program renamed .jpg) and per-type size


def attach(*, user: Any, household: Household, upload: UploadedFile, kind: str, **links: Any) -> Attachment:
    """Store an uploaded photo or scan under MEDIA_ROOT/monitoring/<household>/ (never served directly)."""
    check_uploads([(kind, upload)])
    target = save_upload(
        upload, stamped(Path(settings.MEDIA_ROOT) / "monitoring" / str(household.pk), upload.name)
    )
    return Attachment.objects.create(
        household=household, region_code=household.region_code, kind=kind, name=Path(upload.name).name,
        path=str(target), size=upload.size or target.stat().st_size, uploaded_by=user, **links,
    )  # fmt: skip


# ---- the inbox -------------------------------------------------------------------------------------


@transaction.atomic
def report_clue(*, user: Any, household: Household, source: str, summary: str, reporter: str = "",
                uploads: list[tuple[str, UploadedFile]] = ()) -> Clue:  # fmt: skip
    """Register a self-application, a cadre's report or a hotline entry in the inbox."""
    _require(user.can("report_clues") and user.covers(household.region_code), "当前账号不能为该户登记线索")
    check_uploads(list(uploads))
    if source == Source.WARNING:
        raise ValidationError("预警线索由规则筛查产生，不能手工登记")
    if not summary.strip():
        raise ValidationError("请填写线索内容")
    if source == Source.SELF and not any(kind == Attachment.Kind.COMMITMENT for kind, _ in uploads):
        raise ValidationError("农户自主申报须上传申请人签字的承诺授权书扫描件")
    clue = Clue.objects.create(
        household=household, region_code=household.region_code, source=source, summary=summary.strip(),
        reporter=reporter.strip(), reported_by=user, reported_at=timezone.now(),
    )  # fmt: skip
    for kind, upload in uploads:
        attach(user=user, household=household, upload=upload, kind=kind, clue=clue)
    return clue


def clue_for_finding(finding: Finding, user: Any) -> Clue:
    """A warning from the rule engine enters the inbox as a clue the first time someone opens it."""
    if finding.family not in WARNING_FAMILIES:
        raise ValidationError("只有部门预警和收入监测线索进入线索库")
    clue = Clue.objects.filter(finding=finding).first()
    if clue is None:
        clue = Clue.objects.create(
            household=finding.household, region_code=finding.region_code, source=Source.WARNING,
            finding=finding, summary=finding.message, reporter=f"规则 {finding.rule_id}", reported_by=user,
            reported_at=timezone.now(),
        )  # fmt: skip
    return clue


@transaction.atomic
def verify_clue(*, user: Any, clue: Clue, outcome: str, note: str, changes: dict[str, Any] | None = None,
                uploads: list[tuple[str, UploadedFile]] = (), referral_kinds: list[str] | tuple[str, ...] = (),
                referral_note: str = "") -> Clue:  # fmt: skip
    """入户核查: the outcome, notes, the household facts found (saved through the register with
    history) and the photos and forms taken. Under a regime with a disposable accounting the rigid
    expenditure found ("e-<item>") is saved too and the 收支核算 is stored once on the clue; under joint
    intake the verifier may refer the household to 民政 (`referral_kinds`) in the same step."""
    _require(user.can("verify_warnings") and user.covers(clue.region_code), "当前账号不能核查该线索")
    check_uploads(list(uploads))
    if clue.status != Clue.Status.PENDING:
        raise ValidationError("该线索已核查")
    if outcome not in Outcome.values:
        raise ValidationError("请选择核查结果")
    if not note.strip():
        raise ValidationError("请填写核查情况")
    regime = current_regime()
    if referral_kinds and not referral.joint(regime):
        raise ValidationError(f"{regime.short_label}没有转介民政")
    changes = changes or {}
    said = facts.apply(clue.household, changes)
    if any(key.startswith(accounting.EXPENDITURE_PREFIX) for key in changes):
        said += accounting.apply_expenditure(clue.household, changes, regime=regime)
    for kind, upload in uploads:
        attach(user=user, household=clue.household, upload=upload, kind=kind, clue=clue)
    clue.outcome, clue.verified_by, clue.verified_at = outcome, user, timezone.now()
    clue.regime = regime.code
    if regime.accounting.formula == "disposable":
        clue.accounting = accounting.snapshot(accounting.account(clue.household, regime=regime))
    clue.verification_note = note.strip() + (f"\n更新信息：{'；'.join(said)}" if said else "")
    clue.status = Clue.Status.VERIFIED
    clue.save()
    if clue.finding_id:
        rule_actions.record_outcome(finding=clue.finding, user=user, outcome=outcome, note=note[:500])
    if referral_kinds:
        referral.refer(user=user, clue=clue, kinds=referral_kinds, note=referral_note)
    return clue


# ---- cases -----------------------------------------------------------------------------------------


def case_procedure(case: Case):  # type: ignore[no-untyped-def]
    return procedure(case.kind, case.regime)


def owns(user: Any, case: Case) -> bool:
    step = case_procedure(case).step(case.step)
    return case.status == Case.Status.OPEN and user.role in step.owner and user.covers(case.region_code)


def _event(case: Case, step: str, action: str, user: Any, at: dt.datetime, note: str = "",
           checklist: list[str] | tuple[str, ...] = ()) -> None:  # fmt: skip
    CaseEvent.objects.create(case=case, step=step, action=action, user=user, at=at, note=note,
                             checklist=list(checklist))  # fmt: skip


def _create(**fields: Any) -> Case:
    try:
        with transaction.atomic():
            return Case.objects.create(**fields)
    except IntegrityError as exc:
        raise ValidationError("该户已有正在办理的程序") from exc


@transaction.atomic
def open_case(*, user: Any, household: Household, source: str, proposed_category: str, risk_types: str,
              finding: Any = None, clue: Clue | None = None, green_channel: bool = False,
              note: str = "") -> Case:  # fmt: skip
    """Open an identification case. From a clue verified as at risk, its home verification stands for the
    first two steps (线索, 入户核查), done by the verifier at the verification's time."""
    _require(user.can("open_cases") and user.covers(household.region_code), "当前账号不能为该户发起识别程序")
    risks = [r for r in risk_types.split("、") if r]
    if not proposed_category or not risks:
        raise ValidationError("请选择拟认定类别和风险类型")
    regime = current_regime()
    if proposed_category not in regime.categories:
        raise ValidationError(f"按{regime.short_label}，拟认定类别应为{'、'.join(regime.categories)}之一")
    if len(risks) > 5:
        raise ValidationError("风险类型最多5项")
    if household.monitoring_category and not household.risk_eliminated:
        raise ValidationError("该户已是监测对象")
    if green_channel and not set(risks) & set(config().green_channel_risks):
        raise ValidationError(f"绿色通道仅适用于{'、'.join(config().green_channel_risks)}风险")
    if clue is not None:
        if (
            clue.household_id != household.pk
            or clue.status != Clue.Status.VERIFIED
            or clue.outcome != Outcome.CONFIRMED
        ):
            raise ValidationError("只有经入户核查确认有风险的线索可以发起识别程序")
        source, finding = clue.source, clue.finding
    now = timezone.now()
    steps = procedure(IDENTIFICATION, regime.code).steps
    verified = clue is not None
    case = _create(
        household=household, region_code=household.region_code, kind=Case.Kind.IDENTIFICATION, source=source,
        finding=finding, proposed_category=proposed_category, risk_types="、".join(risks),
        green_channel=green_channel, regime=regime.code, step=steps[2 if verified else 0].code, step_started_at=now, opened_by=user,
        opened_at=clue.reported_at if verified else now,
    )  # fmt: skip
    _event(case, steps[0].code, CaseEvent.Action.OPENED, user, case.opened_at, note)
    if verified:
        _event(case, steps[0].code, CaseEvent.Action.DONE, clue.reported_by, clue.reported_at,
               f"线索：{clue.summary}", steps[0].checklist)  # fmt: skip
        _event(case, steps[1].code, CaseEvent.Action.DONE, clue.verified_by, clue.verified_at,
               clue.verification_note, steps[1].checklist)  # fmt: skip
        clue.case, clue.status = case, Clue.Status.CASE
        clue.save()
    return case


@transaction.atomic
def open_elimination(*, user: Any, household: Household, method: str = "帮扶消除", note: str = "") -> Case:
    """Open a risk-elimination case: refused, with each unmet criterion named, unless §8 holds."""
    _require(user.can("open_cases") and user.covers(household.region_code), "当前账号不能为该户发起风险消除")
    if not household.monitoring_category or household.risk_eliminated:
        raise ValidationError("只有风险未消除的监测对象可以发起风险消除")
    elimination.require(household, method)
    now = timezone.now()
    regime = current_regime()
    first = procedure(ELIMINATION, regime.code).steps[0]
    case = _create(
        household=household, region_code=household.region_code, kind=Case.Kind.ELIMINATION, regime=regime.code,
        proposed_category=household.monitoring_category, risk_types=household.risk_types,
        elimination_method=method, step=first.code, step_started_at=now, opened_by=user, opened_at=now,
    )  # fmt: skip
    _event(case, first.code, CaseEvent.Action.OPENED, user, now, note)
    return case


def open_objections(case: Case) -> int:
    return case.objections.filter(answered_at__isnull=True).count()


@transaction.atomic
def advance(*, user: Any, case: Case, checklist: list[str], note: str = "") -> Case:
    flow = case_procedure(case)
    step = flow.step(case.step)
    _require(owns(user, case), f"“{step.label}”环节不由当前账号办理")
    missing = [item for item in step.checklist if item not in checklist]
    if missing:
        raise ValidationError(f"佐证清单未完成：{'；'.join(missing)}")
    now = timezone.now()
    if step.min_days and now - case.step_started_at < dt.timedelta(days=step.min_days):
        ends = timezone.localtime(case.step_started_at + dt.timedelta(days=step.min_days))
        raise ValidationError(
            f"{step.label}期不少于{step.min_days}天，{ends:%Y-%m-%d %H:%M}期满后才能进入下一环节"
        )
    if step.notice and (waiting := open_objections(case)):
        raise ValidationError(f"公示期间收到的异议还有{waiting}条未答复，答复后才能进入下一环节")
    following = flow.after(step.code)
    if following is None:
        # the household as it is now: its facts may have changed since the case was opened
        household = Household.objects.select_for_update().get(pk=case.household_id)
        if case.kind == Case.Kind.ELIMINATION:
            elimination.require(household, case.elimination_method)
    _event(case, step.code, CaseEvent.Action.DONE, user, now, note, checklist)
    if following is None:
        _finish(case, household, now)
    else:
        case.step, case.step_started_at = following.code, now
    case.save()
    return case


def _finish(case: Case, household: Household, now: dt.datetime) -> None:
    """纳入监测 or 风险消除: the household record changes through its audited save."""
    month = f"{timezone.localtime(now):%Y%m}"
    if case.kind == Case.Kind.IDENTIFICATION:
        household.monitoring_category = case.proposed_category
        household.risk_types = case.risk_types
        household.identified_month = month
        household.risk_eliminated, household.eliminated_month, household.elimination_method = False, "", ""
    else:
        household.risk_eliminated, household.eliminated_month = True, month
        household.elimination_method = case.elimination_method
    household.save()
    case.status, case.finished_at = Case.Status.DONE, now
    from fangpin.reports.actions import refresh_soon  # reports reads monitoring: imported here, not above

    refresh_soon()  # the summary tables, after the commit, in the worker


@transaction.atomic
def return_case(*, user: Any, case: Case, reason: str) -> Case:
    flow = case_procedure(case)
    step = flow.step(case.step)
    _require(owns(user, case), f"“{step.label}”环节不由当前账号办理")
    previous = flow.before(step.code)
    if previous is None:
        raise ValidationError("第一个环节无法退回")
    if not reason.strip():
        raise ValidationError("退回须说明理由")
    now = timezone.now()
    _event(case, step.code, CaseEvent.Action.RETURNED, user, now, reason)
    case.step, case.step_started_at = previous.code, now
    case.save()
    return case


@transaction.atomic
def close_case(*, user: Any, case: Case, reason: str) -> Case:
    """终止: the household withdrew, or the case proved unfounded; a county decision with a reason."""
    _require(user.role in ("county_staff", "county_admin") and user.covers(case.region_code)
             and case.status == Case.Status.OPEN, "只有县级业务人员可以终止程序")  # fmt: skip
    if not reason.strip():
        raise ValidationError("终止须说明理由")
    now = timezone.now()
    _event(case, case.step, CaseEvent.Action.CLOSED, user, now, reason)
    case.status, case.finished_at = Case.Status.CLOSED, now
    case.save()
    return case


# ---- the notice's objections -----------------------------------------------------------------------


def _in_notice(user: Any, case: Case) -> None:
    step = case_procedure(case).step(case.step)
    if not step.notice:
        raise ValidationError("只有公示期间可以登记和答复异议")
    _require(owns(user, case), "公示异议由公示环节的办理人员登记和答复")


@transaction.atomic
def record_objection(*, user: Any, case: Case, content: str, raised_by: str = "") -> Objection:
    _in_notice(user, case)
    if not content.strip():
        raise ValidationError("请填写异议内容")
    return Objection.objects.create(case=case, received_at=timezone.now(), raised_by=raised_by.strip(),
                                    content=content.strip(), recorded_by=user)  # fmt: skip


@transaction.atomic
def answer_objection(*, user: Any, objection: Objection, answer: str) -> Objection:
    _in_notice(user, objection.case)
    if not answer.strip():
        raise ValidationError("请填写调查核实和答复情况")
    objection.answer, objection.answered_by, objection.answered_at = answer.strip(), user, timezone.now()
    objection.save()
    return objection


# ---- clocks ----------------------------------------------------------------------------------------


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
    flow = case_procedure(case)
    step = flow.step(case.step)
    end = case.finished_at or now
    elapsed = (end - case.opened_at).total_seconds() / 86400
    step_elapsed = (now - case.step_started_at).total_seconds() / 86400
    due = case.step_started_at + dt.timedelta(days=step.days)
    open_ = case.status == Case.Status.OPEN
    return Clock(step, round(elapsed, 1), round(flow.total_days - elapsed, 1), round(step_elapsed, 1), due,
                 open_ and now > due, elapsed > flow.total_days)  # fmt: skip


def within_limit(case: Case) -> bool:
    return (case.finished_at - case.opened_at).days <= case_procedure(case).total_days


def timeliness(cases: Any) -> tuple[int, int]:
    """(identified within the limit, identified): the county's timeliness figure."""
    done = list(cases.filter(status=Case.Status.DONE, kind=Case.Kind.IDENTIFICATION))
    return sum(1 for c in done if within_limit(c)), len(done)


def todo(user: Any) -> dict[str, Any]:
    """The user's monitoring work for the home page: steps waiting on them, clues to verify."""
    cases = Case.objects.for_user(user).filter(status=Case.Status.OPEN).select_related("household")
    mine = [(case, clock(case)) for case in cases if owns(user, case)]
    mine.sort(key=lambda row: row[1].step_due)
    pending = (
        Clue.objects.for_user(user).filter(status=Clue.Status.PENDING).count()
        if user.can("verify_warnings")
        else 0
    )
    return {"my_steps": mine[:20], "my_step_count": len(mine), "pending_clues": pending}
