"""The audit key file: an HMAC key that keys the chain and an Ed25519 key that signs the anchors.

It lives outside the database (FANGPIN_AUDIT_KEY_FILE), so whoever can edit the database alone can
neither recompute the chain nor forge an anchor. It is created on first use only while the log is
empty: a new key beside existing entries would make every earlier entry look forged, or, worse, let a
lost key be replaced silently.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


class AuditKeyError(RuntimeError):
    """The audit key file is missing beside existing entries, or unreadable. The message is for people."""


@dataclass(frozen=True)
class AuditKeys:
    hmac_key: bytes
    signing_key: Ed25519PrivateKey
    # the seq the first keyed entry got (entries before it may be plain SHA-256): a legacy entry at or
    # after it is a downgraded, recomputed chain
    keyed_from: int

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def public_key_b64(self) -> str:
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()


def key_path() -> Path:
    return Path(settings.FANGPIN_AUDIT_KEY_FILE)


def _parse(path: Path) -> AuditKeys:
    try:
        payload = json.loads(path.read_text())
        signing = base64.b64decode(payload["signing_key"])
        return AuditKeys(
            hmac_key=base64.b64decode(payload["hmac_key"]),
            signing_key=Ed25519PrivateKey.from_private_bytes(signing),
            keyed_from=int(payload["keyed_from"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AuditKeyError(
            f"审计密钥文件 {path} 无法读取或已损坏。请从密钥备份中恢复该文件后再使用平台。"
        ) from exc


def _write_new(path: Path, keyed_from: int) -> None:
    """O_EXCL: two processes starting at once must not each write a different key."""
    signing = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    payload = {
        "hmac_key": base64.b64encode(os.urandom(32)).decode(),
        "signing_key": base64.b64encode(signing).decode(),
        "keyed_from": keyed_from,
        "created": dt.date.today().isoformat(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process won the race: its key is the key
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())


def missing_key_message(path: Path, entries: int) -> str:
    return (
        f"找不到审计密钥文件 {path}，但审计日志中已有 {entries:,} 条记录。\n"
        "平台没有生成新密钥：新密钥会使已有记录无法校验，也会掩盖密钥丢失或日志被改写。\n"
        "请从密钥备份中把审计密钥文件恢复到上述位置（或用环境变量 FANGPIN_AUDIT_KEY_FILE 指向它）。"
    )


@lru_cache(maxsize=4)
def _load(path_text: str) -> AuditKeys:
    return _parse(Path(path_text))


def audit_keys(*, create: bool = True) -> AuditKeys:
    """The keys, created on first use while the log is empty; AuditKeyError otherwise."""
    path = key_path()
    if not path.exists():
        from .models import AuditEntry

        entries = AuditEntry.objects.count()
        if entries or not create:
            raise AuditKeyError(missing_key_message(path, entries))
        _write_new(path, keyed_from=1)
    return _load(str(path))


def start_keyed_chain() -> Path:
    """`fangpin audit init-key`: an installation whose log predates the keyed chain (plain SHA-256 entries
    only) gets its key; the next entry is the first keyed one. Refused once any keyed entry exists."""
    from .models import AuditEntry, ChainHead, Scheme

    path = key_path()
    if path.exists():
        raise AuditKeyError(f"审计密钥文件 {path} 已存在，无需再生成。")
    if AuditEntry.objects.filter(scheme=Scheme.HMAC).exists():
        raise AuditKeyError(missing_key_message(path, AuditEntry.objects.count()))
    head = ChainHead.objects.filter(pk=1).first()
    _write_new(path, keyed_from=(head.seq if head else 0) + 1)
    _load.cache_clear()
    return path


def clear_cache() -> None:
    _load.cache_clear()
