"""The encrypted stream of a backup archive: scrypt-derived key, AES-256-GCM in fixed-size chunks.

Layout: MAGIC, a 4-byte header length, a JSON header (salt, scrypt cost, chunk size, passphrase check),
then chunks of `chunk` plaintext bytes sealed with a 16-byte tag. The nonce is the chunk number plus a
last-chunk flag (STREAM construction, one fresh key per archive from the random salt) and the header is
the associated data of every chunk, so a reordered, dropped, altered or truncated chunk, or a changed
header, fails authentication. The last chunk is always shorter than a full one (empty if need be): a
file that ends on a full chunk has been cut. Memory stays at one chunk whatever the archive's size.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"FANGPIN-BACKUP\x00\x01"
TAG = 16
MAX_HEADER = 4096
MAX_CHUNK = 64 * 1024 * 1024


class ArchiveError(Exception):
    """An archive that cannot be trusted or opened; the message is for the operator, in Chinese."""


DAMAGED = "备份文件已损坏或被改动（校验未通过），不能用于恢复。请换用另一份备份。"
TRUNCATED = "备份文件不完整或已损坏（可能在复制或传输时被截断），不能用于恢复。请换用另一份备份。"


def _derive(passphrase: str, salt: bytes, log2n: int, r: int, p: int) -> tuple[bytes, bytes]:
    material = Scrypt(salt=salt, length=64, n=2**log2n, r=r, p=p).derive(passphrase.encode())
    return material[:32], hashlib.sha256(b"fangpin-backup-check" + material[32:]).digest()


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only file object that seals what it is given chunk by chunk into `out`."""

    def __init__(self, out: BinaryIO, passphrase: str, *, chunk: int, log2n: int) -> None:
        salt = os.urandom(16)
        key, check = _derive(passphrase, salt, log2n, 8, 1)
        header = json.dumps({
            "format": 1, "kdf": "scrypt", "salt": base64.b64encode(salt).decode(), "log2n": log2n, "r": 8,
            "p": 1, "chunk": chunk, "check": base64.b64encode(check).decode(),
        }).encode()  # fmt: skip
        self._ad = MAGIC + len(header).to_bytes(4, "big") + header
        out.write(self._ad)
        self._out, self._aead, self._chunk = out, AESGCM(key), chunk
        self._buf = bytearray()
        self._index = 0

    def write(self, data: bytes) -> int:
        self._buf += data
        while len(self._buf) >= self._chunk:
            self._emit(bytes(self._buf[: self._chunk]), last=False)
            del self._buf[: self._chunk]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        self._out.write(self._aead.encrypt(_nonce(self._index, last), plain, self._ad))
        self._index += 1

    def close(self) -> None:
        self._emit(bytes(self._buf), last=True)  # shorter than a chunk, possibly empty
        self._buf.clear()


class DecryptingReader:
    """A read-only file object over an archive; raises ArchiveError on any fault, never returns bad data."""

    def __init__(self, source: BinaryIO, passphrase: str, *, max_log2n: int) -> None:
        if source.read(len(MAGIC)) != MAGIC:
            raise ArchiveError("该文件不是 fangpin 备份文件（或文件开头已损坏）。")
        size = int.from_bytes(source.read(4), "big")
        raw = source.read(size) if 0 < size <= MAX_HEADER else b""
        try:
            header = json.loads(raw)
            salt, check = base64.b64decode(header["salt"]), base64.b64decode(header["check"])
            log2n, r, p, chunk = (int(header[k]) for k in ("log2n", "r", "p", "chunk"))
        except (ValueError, KeyError, TypeError):
            raise ArchiveError(DAMAGED) from None
        if not (10 <= log2n <= max_log2n and 1 <= r <= 32 and 1 <= p <= 16 and 0 < chunk <= MAX_CHUNK):
            raise ArchiveError(DAMAGED)
        key, expected = _derive(passphrase, salt, log2n, r, p)
        if not hmac.compare_digest(check, expected):
            raise ArchiveError("备份口令不正确（或备份文件开头已损坏），无法打开备份。")
        self._ad = MAGIC + size.to_bytes(4, "big") + raw
        self._source, self._aead, self._chunk = source, AESGCM(key), chunk
        self._buf = b""
        self._pos = 0
        self._index = 0
        self.finished = False

    def _next(self) -> bytes:
        blob = self._source.read(self._chunk + TAG)
        if not blob:
            raise ArchiveError(TRUNCATED)  # ended on a full chunk: the final one is missing
        last = len(blob) < self._chunk + TAG
        try:
            plain = self._aead.decrypt(_nonce(self._index, last), blob, self._ad)
        except InvalidTag:
            raise ArchiveError(TRUNCATED if last else DAMAGED) from None
        if last and self._source.read(1):
            raise ArchiveError(DAMAGED)
        self._index += 1
        self.finished = last
        return plain

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = [self._buf[self._pos :]]
            while not self.finished:
                parts.append(self._next())
            self._buf, self._pos = b"", 0
            return b"".join(parts)
        while len(self._buf) - self._pos < n and not self.finished:
            self._buf = self._buf[self._pos :] + self._next()
            self._pos = 0
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def drain(self) -> None:
        """Read to the authenticated end, so a cut after the last member is noticed too."""
        while not self.finished:
            self._next()
        self._buf, self._pos = b"", 0
