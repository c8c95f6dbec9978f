"""Issuing and revoking a cadre's Collect token, and receiving a phone's submission: applied through
the same audited action as the web form (assistance.record_visit, actions.report_clue), or, for a visit,
kept as a conflict when the household changed since the phone's copy, until the village applies it
(record_visit again, as the cadre who made it) or rejects it with a reason."""

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
from fangpin.monitoring.actions import attach, check_uploads, report_clue
from fangpin.monitoring.models import Attachment, Source
from fangpin.registry.models import Household

from . import entities, xforms
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


def forms_for(user: User) -> list[str]:
    """The form ids a user's phone gets: the clue form only for who may register a clue (report_clue's
    rule), so a phone never offers a form whose every submission would be refused."""
    return [f for f in xforms.FORMS if f != xforms.CLUE or user.can("report_clues")]


def _record_links(submission: FieldSubmission) -> dict[str, Any]:
    """The record a submission's photos belong to, once it is one (a visit or a clue)."""
    if submission.visit_id:
        return {"visit": submission.visit}
    if submission.clue_id:
        return {"clue": submission.clue}
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


@transaction.atomic
def receive(*, token: FieldToken, xml: bytes, media: list[UploadedFile]) -> Received:
    """One POST of a form instance. The same instance again with identical XML adds its media; with
    different XML it is refused (409). A household outside the user's phone list is refused; one whose
    register facts changed after the phone's copy is kept as a conflict, never applied (a clue changes no
    fact: it is never one)."""
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
    submission = FieldSubmission.objects.create(
        household=household, region_code=household.region_code, token=token, user=user,
        form_id=instance.form_id, form_version=instance.version[:32], instance_id=instance.instance_id,
        xml_sha256=digest, xml=xml.decode("utf-8", "replace"), device_id=values.get("deviceid", "")[:80],
        gps=values.get("location", "")[:80], household_version=submitted[:24],
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


@transaction.atomic
def resolve_conflict(*, user: Any, conflict: FieldConflict, apply: bool, reason: str = "") -> FieldConflict:
    """采用: the phone's visit recorded now through record_visit, as the cadre who made it (the audit
    line names the user who applied it), against the household's current facts; 不采用: kept with the
    reason. Either way once: the row is locked and a resolved conflict is refused."""
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
        # the photos are the visit's attachments now: the copies kept for the conflict go once committed
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
