"""Issuing and revoking a cadre's Collect token, and receiving a phone's submission: applied through
the same audited action as the web form (assistance.record_visit, actions.report_clue,
actions.verify_clue), or, for a visit or a verification, kept as a conflict when the household changed
since the phone's copy, until the village applies it (the same action again, as the official who made
it; for a verification with a choice per fact changed on both sides) or rejects it with a reason."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from lxml import etree

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.common.crypto import cipher
from fangpin.common.files import save_upload, stamped
from fangpin.monitoring import assistance
from fangpin.monitoring.actions import attach, check_uploads, report_clue, verify_clue
from fangpin.monitoring.models import Attachment, Clue, Outcome, Source
from fangpin.registry.models import Household

from . import entities, verification, xforms
from .models import FieldConflict, FieldSubmission, FieldToken

FIELD_ROLES = assistance.VISITING_ROLES  # who may carry a phone with households on it
# who may see the cadres' sync status and revoke a token of someone in their region (a lost phone)
OVERSEEING_ROLES = (Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY_STAFF, Role.COUNTY_ADMIN)
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    """The keyed hash under which a token is stored (the data key's HMAC: a database alone cannot be
    searched for a guessed token)."""
    return cipher().digest(token, "field_token")


@transaction.atomic
def issue_token(*, user: User) -> tuple[FieldToken, str]:
    """A new token for the user's phone; the user's earlier tokens stop working (one phone at a time).
    Returns the row and the token, which is never stored and shown only now."""
    if user.role not in FIELD_ROLES or not user.region_id:
        raise PermissionDenied("只有帮扶责任人、村级和乡镇人员可以使用手机采集")
    for old in FieldToken.objects.filter(user=user, revoked_at__isnull=True):
        _revoke(old, user)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = FieldToken.objects.create(user=user, token_hash=token_hash(token), created_by=user)
    return row, token


def _revoke(row: FieldToken, by: User) -> None:
    row.revoked_at, row.revoked_by = timezone.now(), by
    row.save()


def may_oversee(user: Any, cadre: User) -> bool:
    return user.role in OVERSEEING_ROLES and cadre.region is not None and user.covers(cadre.region.code)


@transaction.atomic
def revoke_token(*, user: Any, token: FieldToken) -> FieldToken:
    """Stop a token at once: its owner, or the village/township/county over the owner's region."""
    if token.user_id != user.pk and not may_oversee(user, token.user):
        raise PermissionDenied("当前账号不能停用该采集令牌")
    if token.revoked_at is None:
        _revoke(token, user)
    return token


def authenticate(token: str) -> FieldToken | None:
    """The live token for a URL, or None: unknown, revoked, or its user disabled or moved to a role
    without field work."""
    if not token or len(token) > 100:
        return None
    row = FieldToken.objects.filter(token_hash=token_hash(token)).select_related("user__region").first()
    if row is None or row.revoked_at is not None:
        return None
    user = row.user
    if not user.is_active or user.role not in FIELD_ROLES or user.region_id is None:
        return None
    return row


def touch(row: FieldToken, device_id: str = "") -> None:
    """The phone synced: an UPDATE without the audit signal (the sync is no change of any record)."""
    devices = list(row.devices)
    if device_id and device_id not in devices:
        devices.append(device_id[:80])
    FieldToken.objects.filter(pk=row.pk).update(last_sync_at=timezone.now(), devices=devices)


def collect_settings(server_url: str, project: str = "防贫走访") -> str:
    """The payload of a Collect configuration QR code: the settings JSON, zlib-compressed, base64."""
    payload = {"general": {"server_url": server_url, "username": "", "password": ""},
               "admin": {}, "project": {"name": project}}  # fmt: skip
    return base64.b64encode(zlib.compress(json.dumps(payload, ensure_ascii=False).encode())).decode()


# ---- submissions -------------------------------------------------------------------------------------


class Refused(Exception):
    """A submission refused, with the HTTP status and the message Collect shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Received:
    submission: FieldSubmission
    created: bool
    message: str


@dataclass(frozen=True)
class Instance:
    form_id: str
    version: str
    instance_id: str
    values: dict[str, str]


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def parse_instance(xml: bytes) -> Instance:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Refused(400, "提交内容不是有效的XML") from exc
    values = {}
    for element in root.iter():
        if isinstance(element.tag, str) and len(element) == 0:
            values.setdefault(etree.QName(element).localname, (element.text or "").strip())
    instance_id = values.get("instanceID", "")
    if not instance_id or len(instance_id) > 80:
        raise Refused(400, "提交内容缺少实例编号（instanceID）")
    return Instance(root.get("id", ""), root.get("version", ""), instance_id, values)


# the capability each form's action asks for (report_clue's, verify_clue's rule): a phone never offers a
# form whose every submission would be refused
FORM_CAPABILITY = {xforms.CLUE: "report_clues", xforms.VERIFY: "verify_warnings"}


def forms_for(user: User) -> list[str]:
    """The form ids a user's phone gets."""
    return [f for f in xforms.FORMS if f not in FORM_CAPABILITY or user.can(FORM_CAPABILITY[f])]


def _record_links(submission: FieldSubmission) -> dict[str, Any]:
    """The record a submission's photos belong to, once it is one (a visit, a clue, a verified clue)."""
    if submission.visit_id:
        return {"visit": submission.visit}
    if submission.clue_id:
        return {"clue": submission.clue}
    if submission.verified_clue_id and submission.status == FieldSubmission.Status.APPLIED:
        return {"clue": submission.verified_clue}
    return {}


def _media_names(submission: FieldSubmission) -> set[str]:
    links = _record_links(submission)
    if links:
        return set(Attachment.objects.filter(**links).values_list("name", flat=True))
    return {m["name"] for m in submission.media}


def _add_media(
    submission: FieldSubmission, household: Household, user: User, media: list[UploadedFile]
) -> None:
    """Files not yet kept for the instance (Collect sends large media over several requests)."""
    have = _media_names(submission)
    new = [f for f in media if Path(f.name).name not in have]
    check_uploads([(Attachment.Kind.PHOTO, f) for f in new])
    links = _record_links(submission)
    if links:
        for upload in new:
            attach(user=user, household=household, upload=upload, kind=Attachment.Kind.PHOTO, **links)
        return
    folder = Path(settings.MEDIA_ROOT) / "field" / str(submission.pk)
    kept = [{"name": Path(f.name).name, "path": str(save_upload(f, stamped(folder, f.name)))} for f in new]
    if kept:
        submission.media = [*submission.media, *kept]
        submission.save()


def _visited_on(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise Refused(400, "走访日期无效") from exc


def _verified_clue(user: User, household: Household, values: dict[str, str]) -> Clue:
    """The pending clue a verification is about, checked before anything is kept: the household's, in
    the user's scope, still 待核查; and the answers verify_clue would refuse, refused now (a conflict
    must hold a verification that can be applied)."""
    text = values.get("clue", "")
    clue = None
    if text.isdigit():
        # locked: two phones verifying the same clue at once, the second is refused
        clue = (
            Clue.objects.for_user(user).select_for_update().filter(pk=int(text), household=household).first()
        )
    if clue is None:
        raise Refused(403, "该线索不是本户的，或不在您的管辖范围内")
    if clue.status != Clue.Status.PENDING:
        by = f"由{clue.verified_by}" if clue.verified_by else ""
        day = f"于{timezone.localtime(clue.verified_at):%Y-%m-%d}" if clue.verified_at else ""
        raise Refused(409, f"该线索已{day}{by}核查，本次核查未入库；如有新情况请另行报送线索")
    if values.get("outcome", "") not in Outcome.values:
        raise Refused(400, "请选择核查结果")
    if not values.get("verification_note", "").strip():
        raise Refused(400, "请填写核查情况")
    return clue


@transaction.atomic
def receive(*, token: FieldToken, xml: bytes, media: list[UploadedFile]) -> Received:
    """One POST of a form instance. The same instance again with identical XML adds its media; with
    different XML it is refused (409). A household outside the user's phone list is refused; one whose
    register facts changed after the phone's copy is kept as a conflict, never applied (a clue changes no
    fact: it is never one). A verification of a clue no longer pending is refused, nothing kept."""
    user = token.user
    instance = parse_instance(xml)
    if instance.form_id not in forms_for(user):
        raise Refused(400, f"未知表单“{instance.form_id}”")
    digest = hashlib.sha256(xml).hexdigest()
    existing = FieldSubmission.objects.select_for_update().filter(instance_id=instance.instance_id).first()
    if existing is not None:
        if existing.user_id != user.pk:
            raise Refused(403, "该实例编号已由其他采集人提交")
        if existing.xml_sha256 != digest:
            raise Refused(409, "该记录已提交过，且内容不同：不能覆盖已接收的提交")
        _add_media(existing, existing.household, user, media)
        return Received(existing, False, "已接收（重复提交，补充的照片已保存）")

    values = instance.values
    household = None
    if values.get("household", "").isdigit():
        household = entities.field_households(user).filter(pk=int(values["household"])).first()
    if household is None:
        raise Refused(403, "该户不在您的走访名单中，或已不在您的管辖范围内")
    current = entities.version_of(household)
    submitted = values.get("household_version", "")
    if instance.form_id == xforms.CLUE:
        submitted = current  # the household's facts are not what a clue is about
    clue = None
    if instance.form_id == xforms.VERIFY:
        clue = _verified_clue(user, household, values)
        try:
            found = verification.diffs(values, household)
        except verification.BadAnswer as exc:
            raise Refused(400, str(exc)) from exc
    submission = FieldSubmission.objects.create(
        household=household, region_code=household.region_code, token=token, user=user,
        form_id=instance.form_id, form_version=instance.version[:32], instance_id=instance.instance_id,
        xml_sha256=digest, xml=xml.decode("utf-8", "replace"), device_id=values.get("deviceid", "")[:80],
        gps=values.get("location", "")[:80], household_version=submitted[:24], verified_clue=clue,
        status=FieldSubmission.Status.APPLIED if submitted == current else FieldSubmission.Status.CONFLICT,
    )  # fmt: skip
    touch(token, submission.device_id)
    if submission.status == FieldSubmission.Status.CONFLICT:
        FieldConflict.objects.create(household=household, region_code=household.region_code,
                                     submission=submission, submitted_version=submitted[:24],
                                     current_version=current)  # fmt: skip
        _add_media(submission, household, user, media)
        return Received(submission, True, "已接收：该户信息在您上次同步后有变更，本次记录待村里核对后入库")
    check_uploads([(Attachment.Kind.PHOTO, f) for f in media])
    if instance.form_id == xforms.CLUE:
        try:
            submission.clue = report_clue(user=user, household=household, source=Source.CADRE,
                                          summary=values.get("summary", ""),
                                          uploads=[(Attachment.Kind.PHOTO, f) for f in media])  # fmt: skip
        except PermissionDenied as exc:
            raise Refused(403, str(exc)) from exc
        submission.save()
        return Received(submission, True, "已接收，线索已报送到线索库")
    if instance.form_id == xforms.VERIFY:
        try:
            verify_clue(user=user, clue=clue, outcome=values["outcome"], note=values["verification_note"],
                        changes=verification.with_year(values, verification.changes(found)),
                        uploads=[(Attachment.Kind.PHOTO, f) for f in media])  # fmt: skip
        except PermissionDenied as exc:
            raise Refused(403, str(exc)) from exc
        return Received(submission, True, "已接收，入户核查已入库")
    try:
        visit = assistance.record_visit(
            user=user, household=household, visited_on=_visited_on(values.get("visited_on", "")),
            changes_note=values.get("changes_note", ""), notes=values.get("notes", ""),
            uploads=[(Attachment.Kind.PHOTO, f) for f in media],
        )  # fmt: skip
    except PermissionDenied as exc:
        raise Refused(403, str(exc)) from exc
    submission.visit = visit
    submission.save()
    return Received(submission, True, "已接收，走访记录已入库")


# ---- conflicts ---------------------------------------------------------------------------------------


def conflicts_for(user: Any) -> Any:
    """The conflicts of the households a village, township or county user covers."""
    if user.role not in OVERSEEING_ROLES:
        return FieldConflict.objects.none()
    return FieldConflict.objects.for_user(user)


def _kept_photos(submission: FieldSubmission) -> list[File]:
    return [File(open(m["path"], "rb"), name=m["name"]) for m in submission.media]


def conflict_facts(conflict: FieldConflict) -> list[verification.Diff]:
    """A verification's facts the phone changed, beside the register now (empty for a visit)."""
    if conflict.submission.form_id != xforms.VERIFY:
        return []
    values = parse_instance(conflict.submission.xml.encode()).values
    return verification.diffs(values, conflict.household)


def _apply_verification(submission: FieldSubmission, conflict: FieldConflict, picks: dict[str, str],
                        photos: list[File]) -> None:  # fmt: skip
    """verify_clue as the official who verified: the facts nobody changed since the sync from the phone,
    each contested one as the village picked; refused whole when a contested fact has no pick (the
    register changed again after the page was shown)."""
    clue = Clue.objects.select_for_update().get(pk=submission.verified_clue_id)
    if clue.status != Clue.Status.PENDING:
        raise ValidationError("该线索已核查，手机上的这次核查不能再入库，只能选择不采用")
    values = parse_instance(submission.xml.encode()).values
    found = verification.diffs(values, conflict.household)
    unpicked = [d.label for d in found if d.contested and picks.get(d.key) not in (verification.PHONE,
                                                                                   verification.CURRENT)]  # fmt: skip
    if unpicked:
        raise ValidationError(
            f"请逐项选择采用手机值或保留现值：{'、'.join(unpicked)}（如页面已过期，请刷新）"
        )
    try:
        verify_clue(user=submission.user, clue=clue, outcome=values.get("outcome", ""),
                    note=values.get("verification_note", ""),
                    changes=verification.with_year(values, verification.changes(found, picks)),
                    uploads=[(Attachment.Kind.PHOTO, f) for f in photos])  # fmt: skip
    except PermissionDenied as exc:
        raise ValidationError("采集人已不能核查该线索，不能按其核查入库；请选择不采用并说明原因") from exc

    def decision(d: verification.Diff) -> str:
        if not d.contested:
            return "同步后台账未变，按手机填报"
        return "采用手机值" if picks[d.key] == verification.PHONE else "保留现值"

    conflict.fields = [d.shown() | {"decision": decision(d)} for d in found]


@transaction.atomic
def resolve_conflict(*, user: Any, conflict: FieldConflict, apply: bool, reason: str = "",
                     picks: dict[str, str] | None = None) -> FieldConflict:  # fmt: skip
    """采用: the phone's visit recorded now through record_visit, as the cadre who made it (the audit
    line names the user who applied it), against the household's current facts; a verification through
    verify_clue, each fact changed on both sides as `picks` says ({"h-dangerous_house": "phone" or
    "current"}); 不采用: kept with the reason. Either way once: the row is locked and a resolved conflict
    is refused."""
    conflict = (
        FieldConflict.objects.select_for_update().select_related("submission__user", "household")
        .get(pk=conflict.pk)
    )  # fmt: skip
    if user.role not in OVERSEEING_ROLES or not user.covers(conflict.region_code):
        raise PermissionDenied("当前账号不能处理该户的手机采集冲突")
    if conflict.resolved_at is not None:
        raise ValidationError("该冲突已处理，不能重复处理")
    submission = conflict.submission
    if apply:
        values = parse_instance(submission.xml.encode()).values
        photos = _kept_photos(submission)
        try:
            if submission.form_id == xforms.VERIFY:
                _apply_verification(submission, conflict, picks or {}, photos)
            else:
                visited_on = _visited_on(values.get("visited_on", ""))
                submission.visit = assistance.record_visit(
                    user=submission.user, household=conflict.household, visited_on=visited_on,
                    changes_note=values.get("changes_note", ""), notes=values.get("notes", ""),
                    uploads=[(Attachment.Kind.PHOTO, f) for f in photos],
                )  # fmt: skip
        except Refused as exc:
            raise ValidationError(str(exc)) from exc
        except PermissionDenied as exc:
            raise ValidationError("采集人已不负责该户，不能按其走访记录入库；请选择不采用并说明原因") from exc
        finally:
            for f in photos:
                f.close()
        # the photos are the visit's (the clue's) attachments now: the copies kept go once committed
        kept = [Path(m["path"]) for m in submission.media]
        transaction.on_commit(lambda: [p.unlink(missing_ok=True) for p in kept])
        submission.media = []
        submission.status = FieldSubmission.Status.APPLIED
        conflict.decision = FieldConflict.Decision.APPLIED
    else:
        if not reason.strip():
            raise ValidationError("请填写不采用的原因")
        submission.status = FieldSubmission.Status.REJECTED
        conflict.decision, conflict.reason = FieldConflict.Decision.REJECTED, reason.strip()
    submission.save()
    conflict.resolved_at, conflict.resolved_by = timezone.now(), user
    conflict.save()
    return conflict


def status_rows(user: Any) -> list[dict[str, Any]]:
    """Per cadre of the user's region: last sync, submissions received, conflicts waiting."""
    from django.db.models import Count, Max, Q

    cadres = (
        assistance.cadres_in(user.region).filter(field_tokens__isnull=False).distinct()
        .select_related("region").order_by("region__code", "username")
    )  # fmt: skip
    tokens = dict(
        FieldToken.objects.filter(user__in=cadres).values_list("user").annotate(Max("last_sync_at"))
    )
    counts = {
        row["user"]: row
        for row in FieldSubmission.objects.filter(user__in=cadres).values("user").annotate(
            n=Count("id"), waiting=Count("id", filter=Q(conflict__resolved_at__isnull=True, status="conflict")))
    }  # fmt: skip
    active = set(
        FieldToken.objects.filter(user__in=cadres, revoked_at__isnull=True).values_list("user", flat=True)
    )
    return [{"cadre": c, "active": c.pk in active, "last_sync": tokens.get(c.pk),
             "submissions": counts.get(c.pk, {}).get("n", 0), "conflicts": counts.get(c.pk, {}).get("waiting", 0)}
            for c in cadres]  # fmt: skip
