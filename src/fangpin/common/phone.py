"""Phone numbers: normalisation, validation and masking."""

from __future__ import annotations

import math
import re
import unicodedata

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
MASK_MAX_LENGTH = 20  # the *_phone_masked columns hold 20 characters


def normalise_phone(raw: object) -> tuple[str, str]:
    """Return (value, error). An empty cell is not an error: a phone is optional."""
    if raw is None:
        return "", ""
    if isinstance(raw, float) and not math.isfinite(raw):  # int() of NaN/inf raises, not a refusal
        return "", "联系电话不是11位手机号码或固定电话"
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        raw = str(int(raw))
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    if not text:
        return "", ""
    if text.startswith("+86"):
        text = text[3:]
    # ASCII only: `\d` also matches ١ or ９-like digits of other scripts, which no phone dials
    if text.isascii() and (MOBILE.match(text) or LANDLINE.match(text)):
        return text, ""
    return "", f"联系电话「{mask_phone(text)}」不是11位手机号码或固定电话"


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    # other lengths (a landline, or a faulty number kept as it is): at least half is hidden
    keep_start, keep_end = (3, 2) if len(value) >= 10 else (1, 1)
    # a faulty cell kept as it is may be long: the stars stop where the masked columns (20) end
    stars = min(max(len(value) - keep_start - keep_end, 1), MASK_MAX_LENGTH - keep_start - keep_end)
    return value[:keep_start] + "*" * stars + value[-keep_end:]
