"""Anchors: signed digests of the audit chain head, kept outside the database.

One small JSON file a day under FANGPIN_AUDIT_ANCHOR_DIR (in the data directory, so every backup
carries them; the audit administrator downloads them from the audit page and keeps them elsewhere).
Each holds the head's sequence number and hash, the entry count and the time, signed with the
Ed25519 key of the audit key file, and the public key, so the file can be checked on any machine.
Whoever rewrites the database cannot make the log agree with an anchor again: a removed tail or an
emptied table falls short of the anchor's seq, a recomputed chain has another hash at that seq.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.utils import timezone

from .keys import AuditKeyError, AuditKeys, audit_keys

PREFIX = "审计锚点-"
SIGNED_FIELDS = ("版本", "序号", "哈希", "条数", "时间", "公钥")
HOW_TO_CHECK = (
    "用「公钥」（Ed25519，Base64）核对「签名」（Base64）：被签名的是除「签名」「说明」「核对方法」以外各项，"
    "按键名排序、无空格、UTF-8 编码的 JSON。「序号」「哈希」应与审计日志中同一序号的记录一致。"
)


class AnchorRefused(RuntimeError):
    """The log does not verify: signing its head would vouch for a tampered log."""


@dataclass(frozen=True)
class Anchor:
    path: Path
    seq: int
    entry_hash: str
    count: int
    at_text: str
    public_key: str

    @property
    def label(self) -> str:
        return f"锚点「{self.path.name}」"

    @property
    def day(self) -> str:
        return self.path.stem.removeprefix(PREFIX)


def anchor_dir() -> Path:
    return Path(settings.FANGPIN_AUDIT_ANCHOR_DIR)


def _signed_bytes(payload: dict) -> bytes:
    signed = {name: payload[name] for name in SIGNED_FIELDS}
    return json.dumps(signed, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def write_anchor() -> Path:
    """Verify the log, then sign its head into today's anchor file (a later anchor the same day replaces
    the earlier one: it vouches for everything the earlier one did and more)."""
    from .actions import verify
    from .models import AuditEntry

    keys = audit_keys()
    result = verify()
    if not result.ok:
        raise AnchorRefused(
            "审计日志校验未通过，未写锚点：\n" + "\n".join(f"  - {p}" for p in result.problems)
        )
    last = AuditEntry.objects.order_by("-seq").values("seq", "entry_hash").first()
    now = timezone.localtime()
    payload: dict = {
        "版本": 1,
        "序号": last["seq"] if last else 0,
        "哈希": last["entry_hash"] if last else "0" * 64,
        "条数": result.checked,
        "时间": now.strftime("%Y年%m月%d日 %H:%M:%S"),
        "公钥": keys.public_key_b64,
    }
    payload["签名"] = base64.b64encode(keys.signing_key.sign(_signed_bytes(payload))).decode()
    payload["说明"] = (
        f"截至{payload['时间']}，审计日志共 {payload['条数']:,} 条，最后一条为 #{payload['序号']}。"
    )
    payload["核对方法"] = HOW_TO_CHECK
    folder = anchor_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PREFIX}{now:%Y%m%d}.json"
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def anchor_files() -> list[Path]:
    folder = anchor_dir()
    return sorted(folder.glob(f"{PREFIX}*.json")) if folder.is_dir() else []


def _parse(path: Path, keys: AuditKeys | None) -> tuple[Anchor | None, str]:
    """The anchor, or the Chinese reason it cannot be trusted."""
    name = f"锚点「{path.name}」"
    try:
        payload = json.loads(path.read_text())
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(payload["公钥"]))
        signature = base64.b64decode(payload["签名"])
        anchor = Anchor(
            path, int(payload["序号"]), str(payload["哈希"]), int(payload["条数"]), str(payload["时间"]),
            str(payload["公钥"]),
        )  # fmt: skip
        signed = _signed_bytes(payload)
    except (OSError, ValueError, KeyError, TypeError):
        return None, f"{name}无法读取或格式不对（文件被改动或损坏）"
    try:
        public.verify(signature, signed)
    except InvalidSignature:
        return None, f"{name}的签名不符（文件内容被改动）"
    if keys is not None and anchor.public_key != keys.public_key_b64:
        return None, f"{name}不是用本平台的审计密钥签名的（伪造的锚点，或审计密钥被更换）"
    return anchor, ""


def read_anchors(
    keys: AuditKeys | None, problems: list[str], extra: Iterable[Path | str] = ()
) -> list[Anchor]:
    """Every trustworthy anchor (the data directory's and any named ones); the others as problems."""
    anchors = []
    for path in [*anchor_files(), *(Path(p) for p in extra)]:
        anchor, problem = _parse(path, keys)
        if anchor is None:
            problems.append(problem)
        else:
            anchors.append(anchor)
    return anchors


def check_anchor_file(path: Path) -> tuple[Anchor | None, str]:
    """For the audit page: an anchor file's signature against this platform's key."""
    try:
        keys = audit_keys(create=False)
    except AuditKeyError:  # without the key the embedded public key still checks the signature
        keys = None
    return _parse(path, keys)


def anchor_day(anchor: Anchor) -> dt.date | None:
    try:
        return dt.datetime.strptime(anchor.day, "%Y%m%d").date()
    except ValueError:
        return None
