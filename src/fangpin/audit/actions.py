"""Writing, verifying and replaying the audit log."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import OperationalError, models, transaction
from django.utils import timezone

from fangpin.common.bulk import insert_rows

from . import spool
from .context import Actor, current_actor
from .keys import AuditKeyError, AuditKeys, audit_keys
from .models import Action, AuditEntry, ChainHead, Scheme
from .triggers import trigger_problems

HASHED_FIELDS = (
    "seq", "at", "user_id", "username", "request_id", "source", "ip", "action", "model", "object_id",
    "object_repr", "household_id", "region_code", "before", "after", "detail", "prev_hash",
)  # fmt: skip


PLAIN = (str, int, bool, type(None))
SQLITE_BUSY_TIMEOUT_MS = 120_000  # as settings.DATABASES' init_command sets it


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


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _canonical(values: dict[str, Any], names: Iterable[str]) -> bytes:
    payload = {name: values[name] for name in names}
    payload["at"] = values["at"].astimezone(dt.UTC).isoformat()
    return _dump(payload).encode()


def compute_hash(values: dict[str, Any]) -> str:
    """The legacy scheme: plain SHA-256, which anyone with the database can recompute."""
    return hashlib.sha256(_canonical(values, HASHED_FIELDS)).hexdigest()


def compute_hmac(values: dict[str, Any], key: bytes) -> str:
    """The keyed scheme; the scheme itself is covered, so an entry cannot be relabelled as legacy."""
    return hmac.new(key, _canonical(values, (*HASHED_FIELDS, "scheme")), hashlib.sha256).hexdigest()


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


def _fields(pending: PendingEntry, actor: Actor, at: dt.datetime) -> dict[str, Any]:
    return {
        "at": at,
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
    }


def prepare(entries: list[PendingEntry]) -> list[dict[str, Any]]:
    """The entries' fields as `append` puts them on the chain, but for id, seq, prev_hash and entry_hash:
    an import plans its entries outside its write transaction and places them on the chain inside it."""
    actor, now = current_actor(), timezone.now()
    return [{**_fields(pending, actor, now), "scheme": Scheme.HMAC.value} for pending in entries]


_SLOT = secrets.token_hex(16)  # stands for a chain position's values in a template; no entry contains it
_SLOTTED = ("at", "prev_hash", "seq")  # in the canonical form's (sorted) key order
LinkTemplate = tuple[bytes, bytes, bytes, bytes]


def link_template(values: dict[str, Any]) -> LinkTemplate:
    """An entry's canonical bytes with the values its place on the chain gives (time, seq, prev_hash) cut
    out. Placing it is then a few concatenations and one HMAC instead of a JSON dump: an import plans
    100,000s of entries outside its write lock and places them inside it, after whatever others
    appended meanwhile, at the time it commits."""
    names = [name for name in (*HASHED_FIELDS, "scheme") if name not in _SLOTTED]
    payload = {name: values[name] for name in names} | dict.fromkeys(_SLOTTED, _SLOT)
    rest, pieces = _dump(payload), []
    for name in _SLOTTED:
        piece, slot, rest = rest.partition(f'"{name}":"{_SLOT}"')
        if not slot:  # the canonical form changed: a template would hash something else
            raise ValueError("audit entry template without its chain slots")
        pieces.append(piece)
    at, prev, seq = pieces  # what comes before each slot
    return (
        (at + '"at":"').encode(),
        ('"' + prev + '"prev_hash":"').encode(),
        ('"' + seq + '"seq":').encode(),
        rest.encode(),
    )


def link(template: LinkTemplate, at: dt.datetime, seq: int, prev_hash: str, key: bytes) -> str:
    """`compute_hmac` of the templated entry placed at `seq` after `prev_hash`, at time `at`."""
    head, after_at, after_prev, tail = template
    stamp = at.astimezone(dt.UTC).isoformat().encode()
    message = head + stamp + after_at + prev_hash.encode() + after_prev + str(seq).encode() + tail
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def append(entries: list[PendingEntry]) -> list[dict[str, Any]]:
    """Put entries on the chain in one transaction, after any the spool kept (audit.spool). Locking the head row
    serialises writers (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions do it at BEGIN)."""
    # the kept entries go on the chain with an outermost transaction only: its commit removes them from
    # the spool; inside a longer one (an import's chunks) they would be appended again and again
    kept = [] if transaction.get_connection().in_atomic_block else spool.waiting()
    if not entries and not kept:
        return []
    actor = current_actor()
    now = timezone.now()
    key = audit_keys().hmac_key  # before the transaction: a missing key stops here, nothing written
    fields = [{**values, "at": dt.datetime.fromisoformat(values["at"])} for _, values in kept]
    fields += [_fields(pending, actor, now) for pending in entries]
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().get(pk=1)
        rows = []
        seq, prev = head.seq, head.entry_hash
        for values in fields:
            seq += 1
            values = {"seq": seq, **values, "prev_hash": prev, "scheme": Scheme.HMAC.value}
            values["entry_hash"] = prev = compute_hmac(values, key)
            rows.append(values)
        insert_rows(AuditEntry, rows)
        ChainHead.objects.filter(pk=1).update(seq=seq, entry_hash=prev)
        if kept:
            transaction.on_commit(lambda: spool.remove([pk for pk, _ in kept]))
    return rows[len(kept) :]


@contextlib.contextmanager
def _waiting_at_most(milliseconds: int) -> Iterator[None]:
    """Wait for the chain's lock this long instead of the database's usual two minutes."""
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"SET lock_timeout = {int(milliseconds)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            elif connection.vendor == "postgresql":
                cursor.execute("RESET lock_timeout")


def record_soon(action: Action | str, **kwargs: Any) -> None:
    """For the bookkeeping of a page view (a login, a full view of a number): on the chain now if its
    lock comes within FANGPIN_AUDIT_WAIT_MS, else kept in the spool and put on the chain by the next
    append. Inside a transaction (which already waits for, or holds, the lock) it is appended as usual."""
    pending = PendingEntry(action=str(action), **kwargs)
    if transaction.get_connection().in_atomic_block:
        append([pending])
        return
    try:
        with _waiting_at_most(settings.FANGPIN_AUDIT_WAIT_MS):
            append([pending])
    except OperationalError:  # locked by a long transaction (an import): keep it, never wait for it
        spool.put(jsonable(_fields(pending, current_actor(), timezone.now())))


def flush_spool() -> int:
    """Put the kept entries on the chain (the worker, every minute); returns how many."""
    kept = len(spool.waiting())
    if kept:
        append([])
    return kept


def record(action: Action | str, **kwargs: Any) -> AuditEntry:
    return AuditEntry(**append([PendingEntry(action=str(action), **kwargs)])[0])


def record_sensitive_read(
    *, instance: models.Model, field_label: str, household_id: int | None, region_code: str = ""
) -> None:
    """Every full view of an ID or phone number leaves a line: who saw whose number, when."""
    record_soon(
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
    anchors: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class _Problems(list):
    """Stops collecting at the limit: a table rewritten from row 3 on would otherwise list 17,000 lines."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    @property
    def full(self) -> bool:
        return len(self) >= self.limit


def _keys_for_verify(problems: list[str]) -> AuditKeys | None:
    try:
        return audit_keys(create=False)
    except AuditKeyError:
        if AuditEntry.objects.exists():
            problems.append("审计密钥文件缺失或损坏，带密钥的记录无法校验（请从密钥备份中恢复审计密钥文件）")
        return None


VERIFY_FIELDS = (*HASHED_FIELDS, "scheme", "entry_hash")


def verify(limit: int | None = None, extra_anchors: Iterable[Any] = ()) -> VerifyResult:
    """Everything that could have been done to the log behind the application, each kind with its own
    line: triggers gone or altered, a row edited, deleted or inserted, the chain recomputed (HMAC without
    the key fails; with it, the anchors' hashes differ), the tail removed or the table emptied (the head
    row and the anchors outside the database say how far it went), the head row deleted or edited.
    Streams the log in seq order: memory stays flat however long it is."""
    from django.conf import settings

    from .anchors import read_anchors

    problems = _Problems(limit or settings.FANGPIN_AUDIT_VERIFY_MAX_PROBLEMS)
    problems.extend(trigger_problems())
    keys = _keys_for_verify(problems)
    anchors = read_anchors(keys, problems, extra=extra_anchors)
    by_seq: dict[int, list[Any]] = {}
    for anchor in anchors:
        by_seq.setdefault(anchor.seq, []).append(anchor)
    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        problems.append("链头记录不存在（被删除）：无法确认日志末尾是否完整")

    prev_hash, expected_seq, checked, keyed_seen = "0" * 64, 1, 0, False
    rows = AuditEntry.objects.order_by("seq").values(*VERIFY_FIELDS)
    for values in rows.iterator(chunk_size=5000):
        if problems.full:
            break
        checked += 1
        seq = values["seq"]
        if seq != expected_seq:
            problems.append(f"序号不连续：期望 #{expected_seq}，实际 #{seq}（有记录被删除或插入）")
        if values["prev_hash"] != prev_hash:
            problems.append(f"#{seq} 与前一条记录的链接不符（前一条记录被修改或删除）")
        scheme = values["scheme"]
        if scheme == Scheme.SHA256:
            if keyed_seen or (keys is not None and seq >= keys.keyed_from):
                problems.append(f"#{seq} 是无密钥的旧式哈希，却写在启用审计密钥之后（哈希链被降级重算）")
            elif compute_hash(values) != values["entry_hash"]:
                problems.append(f"#{seq} 的内容与其哈希不符（该记录被篡改）")
        elif scheme == Scheme.HMAC:
            keyed_seen = True
            if keys is not None and not hmac.compare_digest(
                compute_hmac(values, keys.hmac_key), values["entry_hash"]
            ):
                problems.append(f"#{seq} 的内容与其哈希不符（该记录被篡改，或哈希链被无密钥重算）")
        else:
            problems.append(f"#{seq} 的哈希方式无法识别（该记录被篡改）")
        for anchor in by_seq.get(seq, ()):
            if anchor.entry_hash != values["entry_hash"]:
                problems.append(
                    f"#{seq} 的哈希与{anchor.label}记录的不符（该记录或其前的记录被改动后，哈希链被重算）"
                )
        prev_hash, expected_seq = values["entry_hash"], seq + 1
    if problems.full:
        return VerifyResult(checked=checked, problems=list(problems), anchors=len(anchors))

    last_seq = expected_seq - 1
    if anchors and (furthest := max(anchors, key=lambda a: a.seq)).seq > last_seq:
        if checked == 0:
            problems.append(f"审计日志为空，但{furthest.label}记录当时已有 {furthest.count:,} 条：日志被清空")
        else:
            problems.append(
                f"{furthest.label}记录日志已到 #{furthest.seq}，数据库中最后一条为 #{last_seq}：末尾记录被删除"
            )
    if head is not None:
        if head.seq > last_seq:
            problems.append(f"链头为 #{head.seq}，最后一条记录为 #{last_seq}：末尾记录被删除")
        elif head.seq < last_seq or head.entry_hash != prev_hash:
            problems.append(f"链头（#{head.seq}）与最后一条记录（#{last_seq}）不符：链头记录被修改")
    return VerifyResult(checked=checked, problems=list(problems), anchors=len(anchors))


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
