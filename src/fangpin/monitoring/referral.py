"""转介民政 (joint intake, regime with `joint_intake`): one clue, one home verification and one 收支核算 serve
both the 防止返贫致贫 monitoring and 民政's social assistance. The verification may refer the household to
民政 for the regime's referral kinds (低保, 低保边缘, 特困, 临时救助), pre-ticked from the accounting's
suggestions with their reasons; 民政 decides and its decision is recorded back here.

Who: the verifier refers (capability `refer_to_civil_affairs`, in their region) and may withdraw a referral
民政 has not decided; 民政's 部门数据员 (Department.CIVIL, no region: the county the platform serves) or
the county's staff record 民政's decision (`record_civil_affairs_outcome`). Every row is audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from fangpin.accounts.roles import Department, Role
from fangpin.regimes.regime import PENDING, Regime, RegimeError, by_code
from fangpin.regions.models import Level, Region

from .models import Clue, Referral

REFER = "refer_to_civil_affairs"
RECORD = "record_civil_affairs_outcome"
VIEW = "view_referrals"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def joint(regime: Regime) -> bool:
    return regime.joint_intake.enabled


def regime_of(clue: Clue) -> Regime | None:
    try:
        return by_code(clue.regime) if clue.regime else None
    except RegimeError:
        return None


# ---- scope ---------------------------------------------------------------------------------------------


def civil_region(user: Any) -> Region | None:
    """The region whose referrals a 民政 officer works on: their own, or for a department account without
    one the one county the platform serves (a department officer of the county's 民政局)."""
    if user.region is not None:
        return user.region
    counties = list(Region.objects.filter(level=Level.COUNTY)[:2])
    return counties[0] if len(counties) == 1 else None


def is_civil_officer(user: Any) -> bool:
    return user.role == Role.DEPARTMENT and user.department == Department.CIVIL


def visible(user: Any) -> QuerySet[Referral]:
    """The referrals a user may see: the register's scope, or 民政's county for its data officer. Another
    department sees none."""
    if not getattr(user, "is_authenticated", False) or not user.can(VIEW):
        return Referral.objects.none()
    if user.role == Role.DEPARTMENT:
        region = civil_region(user) if is_civil_officer(user) else None
        return Referral.objects.in_region(region) if region is not None else Referral.objects.none()
    return Referral.objects.for_user(user)


def _records_for(user: Any, referral: Referral) -> bool:
    """Whether the user records 民政's decisions for this referral's place (whatever its status)."""
    if not user.can(RECORD):
        return False
    if user.role == Role.DEPARTMENT:
        region = civil_region(user) if is_civil_officer(user) else None
        return region is not None and region.contains(referral.region_code)
    return user.covers(referral.region_code)


def may_record(user: Any, referral: Referral) -> bool:
    return referral.status == Referral.Status.PENDING and _records_for(user, referral)


def may_withdraw(user: Any, referral: Referral) -> bool:
    return (user.can(REFER) and user.covers(referral.region_code)
            and referral.status == Referral.Status.PENDING)  # fmt: skip


# ---- operations ----------------------------------------------------------------------------------------


@transaction.atomic
def refer(*, user: Any, clue: Clue, kinds: list[str] | tuple[str, ...], note: str = "") -> Referral:
    """转介民政 from a verified clue: the kinds the verifier ticked, each with the accounting's reason, or
    the verifier's note for a kind the accounting did not suggest."""
    _require(user.can(REFER) and user.covers(clue.region_code), "当前账号不能为该户转介民政")
    regime = regime_of(clue)
    if regime is None or not joint(regime):
        raise ValidationError("该线索核查时的政策口径没有统筹监测和转介民政")
    if clue.status == Clue.Status.PENDING:
        raise ValidationError("入户核查后才能转介民政")
    kinds = list(dict.fromkeys(kinds))
    if not kinds:
        raise ValidationError("请选择转介事项")
    allowed = regime.joint_intake.referral_kinds
    if bad := [k for k in kinds if k not in allowed]:
        raise ValidationError(
            f"转介事项「{'、'.join(bad)}」不在{regime.short_label}的转介事项（{'、'.join(allowed)}）中"
        )
    suggested = dict((kind, reason) for kind, reason in clue.accounting.get("suggested", []))
    note = note.strip()
    unexplained = [k for k in kinds if k not in suggested]
    if unexplained and not note:
        raise ValidationError(f"收支核算未建议转介{'、'.join(unexplained)}，请在转介说明中写明理由")
    reasons = {k: suggested.get(k) or f"核查人说明：{note}" for k in kinds}
    try:
        with transaction.atomic():
            return Referral.objects.create(
                household=clue.household, region_code=clue.region_code, clue=clue, kinds=kinds, reasons=reasons,
                suggested=list(suggested), note=note, referred_by=user, referred_at=timezone.now(),
                regime=regime.code,
            )  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError("该户已有待民政审核的转介") from exc


@transaction.atomic
def record_outcome(*, user: Any, referral: Referral, included: bool, result_kind: str = "",
                   decided_on: dt.date, note: str = "") -> Referral:  # fmt: skip
    """民政's decision recorded back: 已纳入 one of the referred kinds, or 未纳入 with 民政's reason."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    _require(_records_for(user, referral), "只有民政部门数据员和县级业务人员可以录入民政审核结果")
    if referral.status != Referral.Status.PENDING:
        raise ValidationError(f"该转介已{referral.outcome_label}，不能再录入结果")
    if decided_on > timezone.localdate():
        raise ValidationError("认定日期不能晚于今天")
    if decided_on < timezone.localtime(referral.referred_at).date():
        raise ValidationError("认定日期不能早于转介日期")
    note = note.strip()
    if included:
        if result_kind not in referral.kinds:
            raise ValidationError(f"请选择纳入事项（转介事项：{'、'.join(referral.kinds)}）")
        referral.status, referral.result_kind = Referral.Status.INCLUDED, result_kind
    else:
        if not note:
            raise ValidationError("未纳入须填写民政审核意见")
        referral.status, referral.result_kind = Referral.Status.NOT_INCLUDED, ""
    referral.decided_on, referral.outcome_note = decided_on, note
    referral.outcome_by, referral.outcome_at = user, timezone.now()
    referral.save()
    return referral


@transaction.atomic
def withdraw(*, user: Any, referral: Referral, reason: str) -> Referral:
    """撤回: the household declined or the facts changed before 民政 decided; with a reason."""
    _require(may_withdraw(user, referral), "只有转介方可以撤回待民政审核的转介")
    if not reason.strip():
        raise ValidationError("撤回须说明理由")
    referral.status, referral.outcome_note = Referral.Status.WITHDRAWN, reason.strip()
    referral.outcome_by, referral.outcome_at = user, timezone.now()
    referral.save()
    return referral


# ---- counts by township ------------------------------------------------------------------------------


@dataclass
class TownshipCount:
    code: str
    name: str
    referred: int = 0
    pending: int = 0
    not_included: int = 0
    withdrawn: int = 0
    included: dict[str, int] = field(default_factory=dict)  # kind → 已纳入 count
    by_kind: dict[str, int] = field(default_factory=dict)  # kind → referred count

    @property
    def included_total(self) -> int:
        return sum(self.included.values())


def counts_by_township(referrals: QuerySet[Referral], kinds: tuple[str, ...]) -> list[TownshipCount]:
    """Referrals and 民政's outcomes per township (no names: counts only), townships in code order, with
    a 合计 row last."""
    names = dict(Region.objects.filter(level=Level.TOWNSHIP).values_list("code", "name"))
    rows: dict[str, TownshipCount] = {}
    total = TownshipCount("", "合计", included=dict.fromkeys(kinds, 0), by_kind=dict.fromkeys(kinds, 0))
    for region_code, status, referred, result in referrals.values_list("region_code", "status", "kinds",
                                                                       "result_kind").order_by():  # fmt: skip
        code = region_code[:9].ljust(12, "0")
        row = rows.get(code) or rows.setdefault(
            code, TownshipCount(code, names.get(code, code), included=dict.fromkeys(kinds, 0),
                                by_kind=dict.fromkeys(kinds, 0)))  # fmt: skip
        for target in (row, total):
            target.referred += 1
            for kind in referred:
                if kind in target.by_kind:  # the columns are the regime's kinds
                    target.by_kind[kind] += 1
            if status == Referral.Status.PENDING:
                target.pending += 1
            elif status == Referral.Status.NOT_INCLUDED:
                target.not_included += 1
            elif status == Referral.Status.WITHDRAWN:
                target.withdrawn += 1
            elif status == Referral.Status.INCLUDED and result in target.included:
                target.included[result] += 1
    return [*(rows[code] for code in sorted(rows)), total] if rows else []


def pending_marks(regime: Regime) -> str:
    """待核实 when the regime's joint intake or accounting is not yet from a published source."""
    return PENDING if not (regime.joint_intake.confirmed and regime.accounting.confirmed) else ""
