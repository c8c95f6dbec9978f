"""Parsing of single cells the way county files really hold them (formats §1)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

YES = frozenset({"是", "Y", "YES", "1", "√", "✓", "TRUE", "有"})
NO = frozenset({"否", "N", "NO", "0", "×", "✗", "X", "FALSE", "无"})
EXCEL_EPOCH = dt.date(1899, 12, 30)
# integer digits a number cell may have before `money` refuses it: within Decimal's default 28-digit
# precision once quantized to cents; each column then checks its own database bound (registry.columns)
MAX_NUMBER_DIGITS = 20
DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
MONTH_PATTERNS = (
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月$"),
)


SECRET_DIGITS = re.compile(r"\d{7,}")


class CellError(ValueError):
    """A cell that cannot be read; the message is Chinese and goes straight to the clerk."""


def shown(value: str, limit: int = 20) -> str:
    """A cell's text as a message may quote it: long digit runs (an ID or a phone typed into the
    wrong column) are masked, and long text is cut, so a message never carries a number in clear."""
    masked = SECRET_DIGITS.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:], value)
    return masked if len(masked) <= limit else masked[:limit] + "…"


def text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, dt.datetime):
        return raw.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    # U+0000 (an .xlsx may carry it as _x0000_): PostgreSQL stores it in neither text nor jsonb, and no
    # clerk means it, so it is dropped here where every cell is read
    return unicodedata.normalize("NFKC", str(raw)).replace("\x00", "").strip()


def yes_no(raw: object) -> bool | None:
    """是/否, Y/N, 1/0, √/×; empty means unknown (None), never "no"."""
    if isinstance(raw, bool):
        return raw
    value = text(raw).upper()
    if not value:
        return None
    if value in YES:
        return True
    if value in NO:
        return False
    raise CellError(f"「{shown(text(raw))}」不是是/否值（可填：是/否、Y/N、1/0、√/×）")


def money(raw: object, *, allow_negative: bool = False) -> Decimal | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = Decimal(str(raw))
    else:
        cleaned = text(raw).replace(",", "").replace("，", "").removesuffix("元").removesuffix("亩").strip()
        if not cleaned:
            return None
        try:
            value = Decimal(cleaned)
        except InvalidOperation as exc:
            raise CellError(f"「{shown(text(raw))}」不是数字") from exc
    if not value.is_finite():
        raise CellError(f"「{shown(text(raw))}」不是数字")
    if value < 0 and not allow_negative:
        raise CellError(f"不能为负数（{shown(str(value))}）")
    if value.adjusted() >= MAX_NUMBER_DIGITS:
        # `1e30` or an ID typed into an amount: quantize would raise InvalidOperation (not a CellError)
        raise CellError(f"数值过大（超过{MAX_NUMBER_DIGITS}位整数）")
    return value.quantize(Decimal("0.01"))


def integer(raw: object) -> int | None:
    value = money(raw)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise CellError(f"「{shown(text(raw))}」应为整数")
    return int(value)


def date(raw: object) -> dt.date | None:
    """2024-03-05, 2024/3/5, 20240305, 2024年3月5日, an Excel serial number or a real date cell."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 2958466:
        if raw >= 19000101:  # 20240305 typed as a number
            raw = str(int(raw))
        else:
            return EXCEL_EPOCH + dt.timedelta(days=int(raw))
    value = text(raw).split(" ")[0]
    for pattern in DATE_PATTERNS:
        if match := pattern.match(value):
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError as exc:
                raise CellError(f"「{shown(value)}」不是有效日期") from exc
    raise CellError(f"「{shown(value)}」不是可识别的日期（如 2024-03-05、2024/3/5、20240305、2024年3月5日）")


def month(raw: object) -> str:
    """The national system's YYYYMM (识别监测时间/消除监测时间); returns '' for empty."""
    if raw is None or raw == "":
        return ""
    if isinstance(raw, dt.date):
        return f"{raw:%Y%m}"
    value = text(raw)
    for pattern in MONTH_PATTERNS:
        if match := pattern.match(value):
            year, mon = int(match.group(1)), int(match.group(2))
            if 1 <= mon <= 12 and 1900 < year < 2200:
                return f"{year:04d}{mon:02d}"
    try:
        return f"{date(raw):%Y%m}"
    except CellError:
        raise CellError(f"「{shown(value)}」不是年月（应为 YYYYMM，如 202403）") from None


def split_list(raw: object) -> list[str]:
    """Measures in one cell separated by commas or 、."""
    value = text(raw)
    if not value:
        return []
    return [part.strip() for part in re.split(r"[,，、;；]", value) if part.strip()]
