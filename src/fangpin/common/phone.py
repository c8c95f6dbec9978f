"""Phone numbers: normalisation, validation and masking."""

from __future__ import annotations

import re
import unicodedata

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalise_phone(raw: object) -> tuple[str, str]:
    """Return (value, error). An empty cell is not an error: a phone is optional."""
    if raw is None:
        return "", ""
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        raw = str(int(raw))
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    if not text:
        return "", ""
    if text.startswith("+86"):
        text = text[3:]
    if MOBILE.match(text) or LANDLINE.match(text):
        return text, ""
    return "", f"联系电话「{text}」不是11位手机号码或固定电话"


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    # other lengths (a landline, or a faulty number kept as it is): at least half is hidden
    keep_start, keep_end = (3, 2) if len(value) >= 10 else (1, 1)
    return value[:keep_start] + "*" * max(len(value) - keep_start - keep_end, 1) + value[-keep_end:]
