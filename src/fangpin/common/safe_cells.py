"""Cells that can never become formulas, for every spreadsheet we hand to a user.

A name, address or note typed as `=HYPERLINK(...)`, `+1`, `-2+3` or `@SUM(A1)` is data, not a formula
(OWASP "CSV injection"). In .xlsx the safe form is a string cell: xlsxwriter's write() turns text that
starts with "=" into a formula, write_string() never does, and Excel shows a string cell as typed
without evaluating it, so the text needs no prefix and an import of our export reads back the exact
value. In .csv there is no cell type: Excel evaluates such text on opening, so the OWASP advice applies
(a leading single quote), at the price of the quote being part of the value for a program that reads it.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

# What spreadsheet programs read as the start of a formula (tab and CR: LibreOffice/Excel strip them
# and look again).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def write_cell(sheet: Any, row: int, col: int, value: Any, cell_format: Any = None) -> None:
    """Write one value into an xlsxwriter worksheet, text always as a string cell.

    Numbers (int, float, Decimal) stay numbers; dates are written as text in the ISO form officials
    type (yyyy-mm-dd); None writes nothing but the format.
    """
    if value is None or value == "":
        if cell_format is not None:
            sheet.write_blank(row, col, None, cell_format)
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, "是" if value else "否", cell_format)
    elif isinstance(value, int | float | Decimal):
        number = float(value)
        if math.isfinite(number):
            sheet.write_number(row, col, number, cell_format)
        else:
            sheet.write_string(row, col, str(value), cell_format)
    elif isinstance(value, dt.datetime):
        sheet.write_string(row, col, f"{value:%Y-%m-%d %H:%M}", cell_format)
    elif isinstance(value, dt.date):
        sheet.write_string(row, col, value.isoformat(), cell_format)
    else:
        sheet.write_string(row, col, str(value), cell_format)


def merge_text(sheet: Any, first_row: int, first_col: int, last_row: int, last_col: int, text: str,
               cell_format: Any) -> None:  # fmt: skip
    """merge_range() writes its data with write(), which would turn "=..." into a formula: merge an
    empty range, then put the text in its first cell as a string."""
    sheet.merge_range(first_row, first_col, last_row, last_col, "", cell_format)
    sheet.write_string(first_row, first_col, text, cell_format)


def csv_safe(value: Any) -> str:
    """A value for a .csv cell: text that a spreadsheet would evaluate gets a leading single quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float | Decimal):
        return str(value)  # a negative number is a number, not a formula
    text = str(value)
    return "'" + text if looks_like_formula(text) else text


def csv_row(values: Any) -> list[str]:
    return [csv_safe(v) for v in values]
