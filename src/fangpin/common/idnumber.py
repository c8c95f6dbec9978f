"""公民身份号码 (GB 11643-1999) normalisation and validation, with Excel damage detection.

Nothing here "repairs" a damaged number by guessing: damage is reported so that a clerk fixes the
source file. The one conversion that is exact (15 → 18 digits) is done and reported.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
DISABILITY_CATEGORIES = "1234567"  # 视力 听力 言语 肢体 智力 精神 多重
DISABILITY_GRADES = "1234"
MASK_MAX_STARS = 16  # Member.id_number_masked holds 24 characters: 4 + 16 + 4


class IdFault:
    """Kinds of faulty numbers. The national system holds them as they are, so an import keeps them
    (encrypted) and the screening lists them; only `CHECKSUM` and `OLD15` still name one person."""

    MISSING = "id_missing"
    CHECKSUM = "id_checksum"
    EXCEL_NUMBER = "id_excel_number"  # stored as a number by Excel: 1.40826E+17, digits lost
    EXCEL_TRUNCATED = "id_excel_truncated"  # rounded to 15 significant digits: …000
    OLD15 = "id_old15"
    INVALID = "id_invalid"  # wrong length, characters, birth date, placeholder


# A number with one of these faults cannot identify anybody: `1.40826E+17` is shared by many people.
UNUSABLE_FAULTS = {IdFault.MISSING, IdFault.EXCEL_NUMBER, IdFault.EXCEL_TRUNCATED, IdFault.INVALID}


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class IdResult:
    """Outcome of reading one 证件号码 cell: the canonical value or the reason it was refused."""

    value: str = ""
    error: str = ""
    note: str = ""  # e.g. a 15→18 conversion, reported to the user but not an error
    fault: str = ""  # the kind of fault (IdFault), also set for a converted 15-digit number
    text: str = ""  # what the cell held, normalised: kept (encrypted) when the number is faulty

    @property
    def ok(self) -> bool:
        return not self.error


def _birth_date(digits8: str) -> dt.date | None:
    try:
        return dt.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


def birth_date_of(id18: str) -> dt.date | None:
    return _birth_date(id18[6:14]) if len(id18) >= 14 else None


def gender_of(id18: str) -> str:
    """男 for an odd sequence digit, 女 for an even one (GB 11643)."""
    return "男" if int(id18[16]) % 2 == 1 else "女"


def normalise_id(raw: object, *, allow_disability_card: bool = False) -> IdResult:
    """Read an ID cell as a clerk's file really holds it: text, a float Excel made, full-width digits.

    A faulty number comes back with `error` (the reason, in Chinese, never quoting the number),
    `fault` (its kind) and `text` (what the cell held): the importer decides whether to refuse it
    or keep it as a finding."""
    if raw is None or isinstance(raw, bool):
        return IdResult(
            error="证件号码为空" if raw is None else "证件号码不是有效的号码", fault=IdFault.MISSING
        )
    if isinstance(raw, float) and not math.isfinite(raw):  # int() of NaN/inf raises, not a refusal
        return IdResult(error="证件号码不是有效的号码", fault=IdFault.INVALID, text=str(raw))
    if isinstance(raw, float | int):
        # Excel keeps 15 significant digits: an 18-digit number stored as a number has lost its tail.
        as_int = int(raw)
        if as_int >= 10**15:
            return IdResult(
                error="证件号码被Excel存成了数字，末尾数字已丢失；请将该列设为文本后重新导出",
                fault=IdFault.EXCEL_NUMBER,
                text=str(as_int),
            )
        raw = str(as_int)
    text = unicodedata.normalize("NFKC", str(raw)).replace("\x00", "").strip().replace(" ", "").upper()
    text = text.lstrip("'")  # Excel's text-prefix apostrophe

    def faulty(error: str, fault: str = IdFault.INVALID) -> IdResult:
        return IdResult(error=error, fault=fault, text=text)

    if not text:
        return IdResult(error="证件号码为空", fault=IdFault.MISSING)
    if not text.isascii():
        # str.isdigit() is true for ١ (Arabic-Indic) or 𐩀 (Kharosthi): such a "valid" number would be
        # stored beside its ASCII twin as another person, and int() of some of them raises
        return faulty("证件号码含有非法字符")
    if SCIENTIFIC.match(text):
        return faulty("证件号码是科学计数法，已被Excel损坏；请将该列设为文本后重新导出", IdFault.EXCEL_NUMBER)
    if text.startswith("999999"):
        return faulty("证件号码为占位号码（999999开头），不是有效号码")
    if len(text) == 15 and text.isdigit():
        birth = _birth_date("19" + text[6:12])
        if birth is None:
            return faulty("15位证件号码中的出生日期无效")
        first17 = text[:6] + "19" + text[6:]
        converted = first17 + check_char(first17)
        return IdResult(
            value=converted,
            note=f"15位旧号码已转换为18位（{mask_id(converted)}）",
            fault=IdFault.OLD15,
            text=text,
        )
    if len(text) == 20 and allow_disability_card:
        base = normalise_id(text[:18])
        if not base.ok:
            return faulty(f"残疾人证号前18位无效：{base.error}", base.fault or IdFault.INVALID)
        if text[18] not in DISABILITY_CATEGORIES or text[19] not in DISABILITY_GRADES:
            return faulty("残疾人证号末两位（残疾类别、等级）无效")
        return IdResult(value=text)
    if len(text) != 18:
        return faulty(f"证件号码长度为{len(text)}位，应为18位")
    if not (text[:17].isdigit() and (text[17].isdigit() or text[17] == "X")):
        return faulty("证件号码含有非法字符")
    if _birth_date(text[6:14]) is None:
        return faulty("证件号码中的出生日期无效")
    expected = check_char(text[:17])
    if text[17] != expected:
        if text.endswith("000"):
            return faulty(
                "证件号码末三位为000且校验位不符，疑似被Excel截断（存成数字后丢失末尾数字）",
                IdFault.EXCEL_TRUNCATED,
            )
        return faulty("证件号码校验位错误", IdFault.CHECKSUM)
    return IdResult(value=text)


def mask_id(value: str) -> str:
    """1408**********1234: enough to recognise a person in a list, not enough to misuse."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    # a faulty cell kept as it is may be long: the stars stop where the masked column (24) ends
    return value[:4] + "*" * min(len(value) - 8, MASK_MAX_STARS) + value[-4:]


def make_id(address6: str, birth: dt.date, sequence: int) -> str:
    """Build a valid 18-digit number (used by the demo and the tests)."""
    first17 = f"{address6}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
