"""Field encryption for ID and phone numbers.

AES-256-GCM (authenticated) for the stored value and HMAC-SHA256 with a separate key for the
searchable hash beside it. Both keys live in a key file outside the database; it is created on
first use with a clear message, because losing it makes every stored number unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

TOKEN_PREFIX = "g1:"


class KeyFileError(RuntimeError):
    pass


class FieldCipher:
    """Encrypts and hashes one kind of value ("id", "phone"); the kind is bound into both."""

    def __init__(self, enc_key: bytes, mac_key: bytes, key_id: str) -> None:
        self._aead = AESGCM(enc_key)
        self._mac_key = mac_key
        self.key_id = key_id

    def encrypt(self, value: str, kind: str) -> str:
        if not value:
            return ""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), kind.encode())
        return TOKEN_PREFIX + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, kind: str) -> str:
        if not token:
            return ""
        raw = base64.b64decode(token.removeprefix(TOKEN_PREFIX))
        return self._aead.decrypt(raw[:12], raw[12:], kind.encode()).decode()

    def digest(self, value: str, kind: str) -> str:
        """Keyed hash for exact lookup and roster joins; a department may compute it too."""
        if not value:
            return ""
        return hmac.new(self._mac_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "key_id": base64.b32encode(os.urandom(5)).decode().lower(),
        "encryption_key": base64.b64encode(os.urandom(32)).decode(),
        "hmac_key": base64.b64encode(os.urandom(32)).decode(),
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh)
    os.replace(tmp, path)
    print(
        f"fangpin: 已生成新的数据加密密钥 {path}\n"
        "         证件号码和电话号码用它加密。请立即备份到数据库以外的安全位置；\n"
        "         密钥丢失后已加密的号码将无法恢复。(A new encryption key was created; back it up.)",
        file=sys.stderr,
    )


@lru_cache(maxsize=1)
def cipher() -> FieldCipher:
    path = Path(settings.FANGPIN_KEY_FILE)
    if not path.exists():
        _create_key_file(path)
    try:
        payload = json.loads(path.read_text())
        return FieldCipher(
            base64.b64decode(payload["encryption_key"]),
            base64.b64decode(payload["hmac_key"]),
            payload["key_id"],
        )
    except (OSError, ValueError, KeyError) as exc:
        raise KeyFileError(f"密钥文件 {path} 无法读取或已损坏：{exc}") from exc
