"""Writing, verifying and replaying the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from fangpin.common.bulk import insert_rows

from .context import current_actor
from .models import Action, AuditEntry, ChainHead

HASHED_FIELDS = (
    "seq", "at", "user_id", "username", "request_id", "source", "ip", "action", "model", "object_id",
    "object_repr", "household_id", "region_code", "before", "after", "detail", "prev_hash",
)  # fmt: skip


PLAIN = (str, int, bool, type(None))


def jsonable(value: Any) -> Any:
    """Snapshot values as JSON that reads back identically on SQLite and PostgreSQL."""
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def logged_field(attname: str) -> bool:
    """Ciphertext never enters the log (the mask shows what changed); of the keyed hashes only the ID's
    is kept, so an audit administrator can find every entry about a person from an ID number."""
    return not attname.endswith("_enc") and (not attname.endswith("_hash") or attname == "id_number_hash")


@lru_cache(maxsize=64)
def _logged_attnames(model: type[models.Model], exclude: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        f.attname for f in model._meta.concrete_fields if f.attname not in exclude and logged_field(f.attname)
    )


def snapshot(
    instance: models.Model, exclude: Iterable[str] = (), *, drop_empty: bool = False
) -> dict[str, Any]:
    """Column values of a row for before/after. `drop_empty` leaves out empty values: a create entry
    then holds only what was set, which is a third of the row for a typical member."""
    data = {
        name: jsonable(getattr(instance, name)) for name in _logged_attnames(type(instance), tuple(exclude))
    }
    if drop_empty:
        return {k: v for k, v in data.items() if v not in (None, "", {}, [])}
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def compute_hash(values: dict[str, Any]) -> str:
    payload = {name: values[name] for name in HASHED_FIELDS}
    payload["at"] = values["at"].astimezone(dt.UTC).isoformat()
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class PendingEntry:
    """An entry before it is placed on the chain."""

    action: str
    model: str = ""
    object_id: str = ""
    object_repr: str = ""
    household_id: int | None = None
    region_code: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def append(entries: list[PendingEntry]) -> list[dict[str, Any]]:
    """Put entries on the chain in one transaction. Locking the head row serialises writers
    (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions do it at BEGIN)."""
    if not entries:
        return []
    actor = current_actor()
    now = timezone.now()
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().get(pk=1)
        rows = []
        seq, prev = head.seq, head.entry_hash
        for pending in entries:
            seq += 1
            values = {
                "seq": seq,
                "at": now,
                "user_id": actor.user_id,
                "username": actor.username,
                "request_id": actor.request_id,
                "source": actor.source,
                "ip": actor.ip,
                "action": pending.action,
                "model": pending.model,
                "object_id": str(pending.object_id),
                "object_repr": pending.object_repr[:200],
                "household_id": pending.household_id,
                "region_code": pending.region_code,
                "before": pending.before,
                "after": pending.after,
                "detail": pending.detail[:500],
                "prev_hash": prev,
            }
            values["entry_hash"] = prev = compute_hash(values)
            rows.append(values)
        insert_rows(AuditEntry, rows)
        ChainHead.objects.filter(pk=1).update(seq=seq, entry_hash=prev)
    return rows


def record(action: Action | str, **kwargs: Any) -> AuditEntry:
    return AuditEntry(**append([PendingEntry(action=str(action), **kwargs)])[0])


def record_sensitive_read(
    *, instance: models.Model, field_label: str, household_id: int | None, region_code: str = ""
) -> AuditEntry:
    """Every full view of an ID or phone number leaves a line: who saw whose number, when."""
    return record(
        Action.SENSITIVE_READ,
        model=instance._meta.label,
        object_id=str(instance.pk),
        object_repr=str(instance),
        household_id=household_id,
        region_code=region_code,
        detail=f"查看完整{field_label}",
    )


@dataclass
class VerifyResult:
    checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(limit: int = 20) -> VerifyResult:
    """Recompute every hash and link. Any edited, inserted or deleted entry is reported."""
    problems: list[str] = []
    prev_hash, expected_seq, checked = "0" * 64, 1, 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=5000):
        checked += 1
        values = {name: getattr(entry, name) for name in HASHED_FIELDS}
        if entry.seq != expected_seq:
            problems.append(f"序号不连续：期望 #{expected_seq}，实际 #{entry.seq}（有记录被删除或插入）")
        if entry.prev_hash != prev_hash:
            problems.append(f"#{entry.seq} 与前一条记录的链接不符（前一条记录被修改或删除）")
        if compute_hash(values) != entry.entry_hash:
            problems.append(f"#{entry.seq} 的内容与其哈希不符（该记录被篡改）")
        prev_hash, expected_seq = entry.entry_hash, entry.seq + 1
        if len(problems) >= limit:
            break
    head = ChainHead.objects.get(pk=1)
    if not problems and (head.seq != expected_seq - 1 or head.entry_hash != prev_hash):
        problems.append(f"链头（#{head.seq}）与最后一条记录（#{expected_seq - 1}）不符：末尾记录被删除")
    return VerifyResult(checked=checked, problems=problems)


def replay(entries: Iterable[AuditEntry]) -> dict[tuple[str, str], dict[str, Any]]:
    """Rebuild rows from their create/update/delete entries (the as-of history)."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        key = (entry.model, entry.object_id)
        if entry.action == Action.CREATE:
            state[key] = dict(entry.after or {})
        elif entry.action == Action.UPDATE:
            state.setdefault(key, {}).update(entry.after or {})
        elif entry.action == Action.DELETE:
            state.pop(key, None)
    return state


def household_as_of(household_id: int, at: dt.datetime) -> dict[tuple[str, str], dict[str, Any]]:
    entries = AuditEntry.objects.filter(
        household_id=household_id,
        at__lte=at,
        action__in=[Action.CREATE, Action.UPDATE, Action.DELETE],
    ).order_by("seq")
    return replay(entries)
