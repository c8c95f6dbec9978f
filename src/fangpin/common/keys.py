"""Key rotation and key status: `fangpin keys rotate | status | retire`.

Rotation adds an encryption key, re-encrypts every `*_enc` column with it in one transaction (all or
nothing) and makes it current. The HMAC key stays: the keyed hashes are the join key of department
rosters and are quoted by the audit log, so a new HMAC key would orphan both.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Value, When
from django.db.models.functions import Substr

from fangpin.audit.actions import record
from fangpin.audit.models import Action

from .crypto import (
    TOKEN_PREFIX,
    EncryptedColumn,
    KeyFileError,
    cipher,
    encrypted_columns,
    key_path,
    read_key_file,
    write_key_file,
)

KEY_ID_LENGTH = 8  # crypto.new_key_id: base32 of 5 random bytes
LEGACY = ""  # the key id a "g1:" token (no id in the token) stands for in counts


def _key_counts(column: EncryptedColumn) -> Counter[str]:
    """How many values of one column each key encrypts (by the key id in the token; "" for g1 tokens)."""
    start = len(TOKEN_PREFIX) + 1
    key_id = Case(
        When(**{f"{column.field}__startswith": TOKEN_PREFIX},
             then=Substr(column.field, start, KEY_ID_LENGTH)),
        default=Value(LEGACY), output_field=CharField(),
    )  # fmt: skip
    rows = (
        column.model._base_manager.exclude(**{column.field: ""})
        .annotate(kid=key_id)
        .values("kid")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Counter({row["kid"]: row["n"] for row in rows})


@dataclass
class KeyStatus:
    current: str
    legacy_key_id: str
    key_ids: list[str]
    created: dict[str, str]
    counts: Counter[str]  # key id → values, over every column

    def uses(self, key_id: str) -> int:
        return self.counts.get(key_id, 0) + (
            self.counts.get(LEGACY, 0) if key_id == self.legacy_key_id else 0
        )


def key_status() -> KeyStatus:
    cipher()  # the same start-up check: a wrong key file is reported, not counted
    keys = read_key_file()
    counts: Counter[str] = Counter()
    for column in encrypted_columns():
        counts.update(_key_counts(column))
    created = {kid: entry.get("created", "") for kid, entry in keys.keys.items()}
    return KeyStatus(keys.current, keys.legacy_key_id, list(keys.keys), created, counts)


@dataclass
class Rotation:
    old_key_id: str
    new_key_id: str
    values: int


def rotate_keys() -> Rotation:
    """Re-encrypt everything with a new key. The new key is saved in the key file before any value is
    re-encrypted with it, so no crash can leave a value whose key is not on disk."""
    old_cipher = cipher()
    path = key_path()
    keys = read_key_file(path)
    old_key_id = keys.current
    new_key_id = keys.add_key()
    write_key_file(keys, path)  # the new key is on disk, not yet current
    keys.current = new_key_id
    new_cipher = keys.cipher()
    chunk = settings.FANGPIN_KEY_ROTATE_CHUNK_SIZE
    total = 0
    try:
        with transaction.atomic():
            for column in encrypted_columns():
                total += _reencrypt(column, old_cipher.decrypt, new_cipher.encrypt, chunk)
            record(
                Action.UPDATE,
                model="密钥",
                object_id=new_key_id,
                object_repr=f"数据加密密钥 {new_key_id}",
                detail=f"轮换数据加密密钥：由 {old_key_id} 换为 {new_key_id}，重新加密 {total} 个号码"
                "（用于查找的哈希密钥未变）",
            )
    except BaseException:
        del keys.keys[new_key_id]  # nothing uses it: leave the file as it was
        keys.current = old_key_id
        write_key_file(keys, path)
        raise
    write_key_file(keys, path)
    cipher.cache_clear()
    return Rotation(old_key_id, new_key_id, total)


def _reencrypt(column: EncryptedColumn, decrypt, encrypt, chunk: int) -> int:  # type: ignore[no-untyped-def]
    """Walk the column by primary key, `chunk` rows at a time: a 250,000-person register never sits in memory."""
    table = connection.ops.quote_name(column.model._meta.db_table)
    name = connection.ops.quote_name(column.model._meta.get_field(column.field).column)
    pk = connection.ops.quote_name(column.model._meta.pk.column)
    rows = column.model._base_manager.exclude(**{column.field: ""}).order_by("pk")
    done, last = 0, None
    with connection.cursor() as cursor:
        while True:
            page = rows.filter(pk__gt=last) if last is not None else rows
            batch = list(page.values_list("pk", column.field)[:chunk])
            if not batch:
                return done
            updates = [(encrypt(decrypt(token, column.kind), column.kind), key) for key, token in batch]
            # plain UPDATEs: the audit signals would log each row; the rotation is one audited operation
            cursor.executemany(f"UPDATE {table} SET {name} = %s WHERE {pk} = %s", updates)
            done += len(batch)
            last = batch[-1][0]


def retire_key(key_id: str) -> None:
    """Remove a key no value uses any more (after a rotation). Refused while anything still needs it."""
    status = key_status()
    if key_id not in status.key_ids:
        raise KeyFileError(f"密钥文件中没有密钥 {key_id}。")
    if key_id == status.current:
        raise KeyFileError(f"密钥 {key_id} 是当前密钥，不能停用；请先轮换密钥。")
    if used := status.uses(key_id):
        raise KeyFileError(f"仍有 {used} 个号码用密钥 {key_id} 加密，不能停用；请先轮换密钥。")
    keys = read_key_file()
    with transaction.atomic():
        record(
            Action.UPDATE,
            model="密钥",
            object_id=key_id,
            object_repr=f"数据加密密钥 {key_id}",
            detail=f"停用数据加密密钥 {key_id}（已没有号码用它加密）",
        )
        del keys.keys[key_id]
        if keys.legacy_key_id == key_id:
            keys.legacy_key_id = ""
        write_key_file(keys)
    cipher.cache_clear()
