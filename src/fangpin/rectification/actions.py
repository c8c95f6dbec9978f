"""The status flow of an item: 待整改 → 整改中 → 申请销号 → 已销号, with 退回 from review.

Who may do what: the units in whose scope the item lies work on it (start, progress, evidence, apply);
only the reviewing role of the level that owns the batch closes it or returns it, with a reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from fangpin.common.files import check_upload, save_upload, stamped
from fangpin.regions.models import Region

from .models import Batch, Event, Item, Status


def can_work_on(user: Any, item: Item) -> bool:
    return user.can("work_rectification") and user.covers(item.region_code)


def can_review(user: Any, batch: Batch) -> bool:
    """The owning level reviews: a reviewing role whose region is the batch's region (or above it)."""
    return (
        user.can("review_rectification")
        and user.covers(batch.region_code)
        and user.region.level <= batch.region.level
    )


def _event(item: Item, kind: str, user: Any, note: str = "", upload: UploadedFile | None = None) -> Event:
    event = Event(item=item, kind=kind, user=user, note=note)
    if upload is not None:
        target = save_upload(
            upload, stamped(Path(settings.MEDIA_ROOT) / "rectification" / str(item.pk), upload.name)
        )
        event.file_path, event.file_name = str(target), upload.name
    event.save()
    return event


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


@transaction.atomic
def create_batch(*, user: Any, name: str, source: str, region: Region, received_on: Any = None) -> Batch:
    _require(
        user.can("review_rectification") and user.covers(region.code), "当前账号不能在该层级建立问题批次"
    )
    return Batch.objects.create(name=name, source=source, region=region, region_code=region.code, created_by=user,
                                **({"received_on": received_on} if received_on else {}))  # fmt: skip


@transaction.atomic
def add_item(*, user: Any, batch: Batch, **fields: Any) -> Item:
    _require(can_review(user, batch), "只有批次所属层级可以登记问题")
    region = fields.pop("region")
    _require(batch.region.contains(region.code), "问题涉及的区域不在本批次的层级范围内")
    number = fields.pop("number", None) or (batch.items.count() + 1)
    item = Item.objects.create(batch=batch, number=number, region=region, region_code=region.code, **fields)
    _event(item, Event.Kind.CREATED, user)
    return item


@transaction.atomic
def report_progress(*, user: Any, item: Item, note: str, upload: UploadedFile | None = None) -> Item:
    """A progress update (and optionally an evidence file). The first one starts the rectification."""
    _require(can_work_on(user, item), "当前账号不能报送该问题的整改进展")
    if item.status not in (Status.PENDING, Status.IN_PROGRESS):
        raise ValidationError(f"问题状态为{item.get_status_display()}，不能报送进展")
    if upload is not None:
        check_upload(upload, "evidence")  # by content and size, before anything is written
    if item.status == Status.PENDING:
        item.status = Status.IN_PROGRESS
        _event(item, Event.Kind.STARTED, user)
    if note:
        item.progress = f"{timezone.localdate():%Y-%m-%d} {note}"
        _event(item, Event.Kind.PROGRESS, user, note)
    if upload is not None:
        _event(item, Event.Kind.EVIDENCE, user, "佐证材料", upload)
    item.save()
    return item


@transaction.atomic
def apply_for_closure(*, user: Any, item: Item, result: str) -> Item:
    _require(can_work_on(user, item), "当前账号不能为该问题申请销号")
    if item.status != Status.IN_PROGRESS:
        raise ValidationError("只有整改中的问题可以申请销号")
    if not item.events.filter(kind=Event.Kind.EVIDENCE).exclude(file_path="").exists():
        raise ValidationError("申请销号前须上传整改佐证材料")
    if not result.strip():
        raise ValidationError("请填写完成情况")
    item.status, item.result = Status.APPLIED, result
    item.save()
    _event(item, Event.Kind.APPLIED, user, result)
    return item


@transaction.atomic
def close(*, user: Any, item: Item, note: str = "") -> Item:
    _require(can_review(user, item.batch), "只有批次所属层级的审核人员可以销号")
    if item.status != Status.APPLIED:
        raise ValidationError("只有申请销号的问题可以销号")
    item.status, item.closed_at = Status.CLOSED, timezone.now()
    item.save()
    _event(item, Event.Kind.CLOSED, user, note)
    return item


@transaction.atomic
def return_item(*, user: Any, item: Item, reason: str) -> Item:
    _require(can_review(user, item.batch), "只有批次所属层级的审核人员可以退回")
    if item.status != Status.APPLIED:
        raise ValidationError("只有申请销号的问题可以退回")
    if not reason.strip():
        raise ValidationError("退回须说明理由")
    item.status = Status.IN_PROGRESS
    item.save()
    _event(item, Event.Kind.RETURNED, user, reason)
    return item


def ledger_counts(items: Any) -> dict[str, Any]:
    """Counts of a set of items and its 清零 percentage (closed / all)."""
    from django.db.models import Count, Q

    today = timezone.localdate()
    counts = items.aggregate(
        total=Count("id"),
        closed=Count("id", filter=Q(status=Status.CLOSED)),
        applied=Count("id", filter=Q(status=Status.APPLIED)),
        overdue=Count("id", filter=~Q(status=Status.CLOSED) & Q(deadline__lt=today)),
    )
    counts["open"] = counts["total"] - counts["closed"]
    counts["cleared_percent"] = (
        round(100 * counts["closed"] / counts["total"], 1) if counts["total"] else None
    )
    return counts


@transaction.atomic
def extend_to_scope(*, user: Any, item: Item) -> int:
    """举一反三: run the item's rule over the register and link every household in the user's scope
    where it fires, so the same problem is fixed everywhere, not only where the inspector looked."""
    from fangpin.registry.models import Household
    from fangpin.rules.actions import run_screening
    from fangpin.rules.catalogue import rule_by_id
    from fangpin.rules.models import Finding

    _require(can_work_on(user, item) or can_review(user, item.batch), "当前账号不能对该问题举一反三")
    rule = rule_by_id(item.rule_id)
    if rule is None:
        raise ValidationError("该问题没有关联规则，无法自动举一反三")
    run = run_screening(rules=[rule])
    households = (
        Household.objects.for_user(user)
        .filter(findings__rule_id=rule.id, findings__status=Finding.Status.OPEN)
        .distinct()
    )
    item.households.add(*households)
    count = households.count()
    _event(
        item,
        Event.Kind.LINKED,
        user,
        f"按规则{rule.id}（{rule.name}）筛查批次#{run.pk}，在本级范围内关联{count}户同类问题",
    )
    return count


def proposed_closure(item: Item) -> str:
    """When the linked rule no longer fires for any of the item's households, say so (with the run)."""
    from fangpin.rules.models import Finding, ScreeningRun

    if not item.rule_id or item.status == Status.CLOSED or not item.households.exists():
        return ""
    still = Finding.objects.filter(rule_id=item.rule_id, household__in=item.households.all(),
                                   status=Finding.Status.OPEN)  # fmt: skip
    if still.exists():
        return ""
    latest = ScreeningRun.objects.exclude(finished_at=None).filter(rule_counts__has_key=item.rule_id).first()
    when = f"筛查批次#{latest.pk}（{latest.as_of}）" if latest else "最近一次筛查"
    return (
        f"建议销号：{when}中，关联规则{item.rule_id}对本问题关联的{item.households.count()}户已不再发现问题。"
    )
