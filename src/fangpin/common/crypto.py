"""Field encryption for ID and phone numbers.

AES-256-GCM (authenticated) for the stored value and HMAC-SHA256 with a separate key for the
searchable hash beside it. The keys live in a key file outside the database. The file may hold several
encryption keys (after a rotation) and names the current one; every token records the key it was made
with ("g2:<key id>:…"; the first format "g1:…" was made with the file's original key). The HMAC key is
never rotated: department rosters and the audit log hold its hashes.

A missing key file is created only on a fresh install (no encrypted value in the database). With data
present, a missing or wrong key stops the process before anything is read or written: a new key beside
existing data would make every search by ID miss and every re-import duplicate people.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

LEGACY_PREFIX = "g1:"
TOKEN_PREFIX = "g2:"
KEY_FILE_FORMAT = 2


class KeyFileError(RuntimeError):
    """The key file is missing, unreadable or does not match the data; the message is for the operator."""


class UnknownKeyError(ValueError):
    """A token names a key the key file does not hold."""


def new_key_id() -> str:
    return base64.b32encode(os.urandom(5)).decode().lower()


def token_key_id(token: str, legacy_key_id: str) -> str:
    """The key a token was made with: named in a g2 token, the file's original key for g1."""
    if token.startswith(TOKEN_PREFIX):
        return token[len(TOKEN_PREFIX) :].split(":", 1)[0]
    return legacy_key_id


class FieldCipher:
    """Encrypts and hashes one kind of value ("id", "phone"); the kind is bound into both."""

    def __init__(
        self, enc_keys: dict[str, bytes], mac_key: bytes, key_id: str, legacy_key_id: str = ""
    ) -> None:
        self._aeads = {kid: AESGCM(key) for kid, key in enc_keys.items()}
        self._mac_key = mac_key
        self.key_id = key_id
        self.key_ids = tuple(enc_keys)
        self.legacy_key_id = legacy_key_id

    def encrypt(self, value: str, kind: str) -> str:
        if not value:
            return ""
        nonce = os.urandom(12)
        sealed = self._aeads[self.key_id].encrypt(nonce, value.encode(), f"{kind}:{self.key_id}".encode())
        return f"{TOKEN_PREFIX}{self.key_id}:" + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, kind: str) -> str:
        if not token:
            return ""
        if token.startswith(TOKEN_PREFIX):
            key_id, body = token[len(TOKEN_PREFIX) :].split(":", 1)
            aad = f"{kind}:{key_id}".encode()
        else:
            key_id, body, aad = self.legacy_key_id, token.removeprefix(LEGACY_PREFIX), kind.encode()
        aead = self._aeads.get(key_id)
        if aead is None:
            raise UnknownKeyError(key_id)
        raw = base64.b64decode(body)
        return aead.decrypt(raw[:12], raw[12:], aad).decode()

    def digest(self, value: str, kind: str) -> str:
        """Keyed hash for exact lookup and roster joins; a department may compute it too."""
        if not value:
            return ""
        return hmac.new(self._mac_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


# -- the key file -------------------------------------------------------------------------------------


@dataclass
class KeyFile:
    """The key file's content. `extra` keeps entries other parts of fangpin may add to the file."""

    current: str
    keys: dict[str, dict[str, str]]  # key id → {"encryption_key": base64, "created": date}
    hmac_key: str
    legacy_key_id: str = ""
    extra: dict[str, Any] | None = None

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> KeyFile:
        if "keys" not in payload:  # the first, single-key format: its tokens are all "g1:"
            rest = {k: v for k, v in payload.items() if k not in {"key_id", "encryption_key", "hmac_key"}}
            key_id = payload["key_id"]
            return cls(key_id, {key_id: {"encryption_key": payload["encryption_key"]}},
                       payload["hmac_key"], key_id, rest)  # fmt: skip
        known = {"format", "current", "keys", "hmac_key", "legacy_key_id"}
        keys = {kid: dict(entry) for kid, entry in payload["keys"].items()}
        if payload["current"] not in keys:
            raise KeyError(payload["current"])
        return cls(payload["current"], keys, payload["hmac_key"], payload.get("legacy_key_id", ""),
                   {k: v for k, v in payload.items() if k not in known})  # fmt: skip

    def dump(self) -> dict[str, Any]:
        payload: dict[str, Any] = dict(self.extra or {})
        payload.update(format=KEY_FILE_FORMAT, current=self.current, keys=self.keys, hmac_key=self.hmac_key)
        if self.legacy_key_id:
            payload["legacy_key_id"] = self.legacy_key_id
        return payload

    def cipher(self) -> FieldCipher:
        return FieldCipher(
            {kid: base64.b64decode(entry["encryption_key"]) for kid, entry in self.keys.items()},
            base64.b64decode(self.hmac_key),
            self.current,
            self.legacy_key_id,
        )

    def add_key(self) -> str:
        key_id = new_key_id()
        self.keys[key_id] = {
            "encryption_key": base64.b64encode(os.urandom(32)).decode(),
            "created": dt.date.today().isoformat(),
        }
        return key_id


def key_path() -> Path:
    return Path(settings.FANGPIN_KEY_FILE)


def read_key_file(path: Path | None = None) -> KeyFile:
    path = path or key_path()
    try:
        return KeyFile.parse(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyFileError(
            f"密钥文件 {path} 无法读取或已损坏。请从密钥备份中恢复该文件后再启动平台。"
        ) from exc


def write_key_file(keys: KeyFile, path: Path | None = None) -> None:
    """Atomically, 0600: a half-written key file would lose every key at once."""
    path = path or key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys.dump(), fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _create_key_file(path: Path) -> None:
    keys = KeyFile("", {}, base64.b64encode(os.urandom(32)).decode())
    keys.current = keys.add_key()
    write_key_file(keys, path)
    print(
        f"fangpin：已生成新的数据加密密钥 {path}\n"
        "         证件号码和电话号码用它加密。请立即把该文件备份到本机以外的安全位置"
        "（与数据备份分开保存）；\n"
        "         密钥丢失后已加密的号码将无法恢复。",
        file=sys.stderr,
    )


# -- the encrypted columns and the start-up check ------------------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    model: Any  # a Django model class
    field: str
    kind: str  # "id" or "phone": bound into each token

    @property
    def label(self) -> str:
        """In Chinese for messages: the masked sibling's name (a `*_enc` field may have none of its own)."""
        base = self.field.removesuffix("_enc")
        names = {f.attname: str(f.verbose_name) for f in self.model._meta.concrete_fields}
        name = names.get(f"{base}_masked") or names[self.field]
        if name.isascii():
            name = "证件号码" if self.kind == "id" else "电话号码"
        return f"{self.model._meta.verbose_name}的{name.removesuffix('（密文）')}"


def encrypted_columns() -> list[EncryptedColumn]:
    """Every `*_enc` column of every installed model, so a new one is checked and rotated too."""
    from django.apps import apps

    columns = []
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if f.attname.endswith("_enc"):
                kind = "id" if f.attname.startswith("id_number") else "phone"
                columns.append(EncryptedColumn(model, f.attname, kind))
    return columns


def sample_tokens() -> list[tuple[EncryptedColumn, str]]:
    """One stored token per encrypted column (cheap: LIMIT 1 each); none on a fresh or unmigrated database."""
    from django.db import connection

    tables = set(connection.introspection.table_names())
    samples = []
    for column in encrypted_columns():
        if column.model._meta.db_table not in tables:
            continue
        token = (
            column.model._base_manager.exclude(**{column.field: ""})
            .values_list(column.field, flat=True)
            .first()
        )
        if token:
            samples.append((column, token))
    return samples


def check_keys(keys: KeyFile, samples: list[tuple[EncryptedColumn, str]], path: Path) -> FieldCipher:
    field_cipher = keys.cipher()
    for column, token in samples:
        key_id = token_key_id(token, keys.legacy_key_id)
        try:
            field_cipher.decrypt(token, column.kind)
        except UnknownKeyError:
            raise KeyFileError(
                f"密钥文件 {path} 与数据库中的数据不符：数据库中的{column.label}是用密钥 {key_id or '（最初的密钥）'} "
                "加密的，而该文件中没有这个密钥。\n"
                "请从密钥备份中恢复正确的密钥文件（不要重新生成），然后再启动平台。"
            ) from None
        except (InvalidTag, ValueError, binascii.Error):
            raise KeyFileError(
                f"密钥文件 {path} 与数据库中的数据不符：用它无法解密数据库中的{column.label}"
                f"（密钥 {key_id or '（最初的密钥）'}）。\n"
                "这通常是放错了密钥文件或文件被改动。请从密钥备份中恢复正确的密钥文件，然后再启动平台。"
            ) from None
    return field_cipher


def missing_key_message(path: Path, samples: list[tuple[EncryptedColumn, str]]) -> str:
    labels = "、".join(dict.fromkeys(column.label for column, _ in samples))
    return (
        f"找不到数据加密密钥文件 {path}，但数据库中已有加密的数据（{labels}）。\n"
        "平台没有生成新密钥：新密钥无法解密已有的号码，按证件号码查找会查不到人，重新导入会产生重复人员。\n"
        "请从密钥备份中把密钥文件恢复到上述位置（或用环境变量 FANGPIN_KEY_FILE 指向它），然后再启动平台。"
    )


@lru_cache(maxsize=1)
def cipher() -> FieldCipher:
    """The field cipher, checked against the database once per process (one sample token per column)."""
    path = key_path()
    samples = sample_tokens()
    if not path.exists():
        if samples:
            raise KeyFileError(missing_key_message(path, samples))
        _create_key_file(path)
    return check_keys(read_key_file(path), samples, path)


def require_keys() -> None:
    """For process start-up (CLI commands, WSGI): stop with the Chinese message instead of a traceback."""
    try:
        cipher()
    except KeyFileError as exc:
        print(f"fangpin：{exc}", file=sys.stderr)
        raise SystemExit(3) from None
