"""The error workbook of a rejected import: a copy of the input with a 错误说明 column and the
bad cells highlighted, so a clerk can fix the file and upload it again (formats §1).

The 错误说明 column comes first, where a clerk sees it without scrolling. By default the copy shows
ID and phone numbers masked; each explanation names the row of the uploaded file (第N行), which with
the masked number is enough to find the row in the clerk's own file, and the workbook holds no number
in clear. Only on request
(含完整证件号码) is it the full copy, which the importer takes back as it is (it ignores a 错误说明
column); that file is listed with its owner and purged when it expires (fangpin.retention).

A file that could not be read (a truncated workbook, a CSV with a byte in no encoding) cannot be
copied: then the workbook lists the problems alone (行号, 列, 错误说明), and writing it never fails
because of the input.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections import defaultdict
from pathlib import Path

import xlsxwriter

from fangpin.common.tabular import UnreadableFile, iter_rows
from fangpin.retention.scrub import scrub

from .importer import ERROR_COLUMN, Problem

MAX_TEXT = 32767  # what one Excel cell holds
PROBLEMS_HEADER = ("行号", "列", "错误说明")
# a number cell this large may be an ID or a phone Excel stored as a number (a phone has 11 digits)
NUMBER_MASK_FROM = 10**10


def write_error_report(
    source: str | Path,
    problems: list[Problem],
    target: str | Path,
    header_row: int = 0,
    *,
    full_ids: bool = False,
) -> Path:
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    try:
        _write_copy(source, problems, partial, header_row, full_ids=full_ids)
    except UnreadableFile as exc:
        partial.unlink(missing_ok=True)
        extra = [] if any(p.message == str(exc) for p in problems) else [Problem(1, "", str(exc))]
        write_problems_report([*problems, *extra], target)
        return target
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target


def write_problems_report(problems: list[Problem], target: str | Path) -> Path:
    """Only the problems, one a row: for a file that cannot be copied."""
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    sheet = workbook.add_worksheet("错误说明")
    bold = workbook.add_format({"bold": True})
    note = workbook.add_format({"font_color": "#9C0006"})
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 20)
    sheet.set_column(2, 2, 100)
    for col, label in enumerate(PROBLEMS_HEADER):
        sheet.write_string(0, col, label, bold)
    ordered = sorted(problems, key=lambda p: (p.row, p.col_index if p.col_index is not None else -1))
    for out_row, problem in enumerate(ordered, start=1):
        sheet.write_number(out_row, 0, problem.row)
        if problem.column:
            sheet.write_string(out_row, 1, problem.column)
        sheet.write_string(out_row, 2, scrub(problem.message)[:MAX_TEXT], note)
    workbook.close()
    return Path(target)


def masked(value: object) -> object:
    """A cell as the default workbook shows it: ID-like and phone numbers masked, in text or in a
    number cell (what Excel keeps of an ID stored as a number is still that person's ID)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return value
    if abs(value) >= NUMBER_MASK_FROM and value == int(value):
        text = str(int(value))
        hidden = scrub(text)
        return hidden if hidden != text else value
    return value


def _write_copy(
    source: str | Path, problems: list[Problem], target: Path, header_row: int, *, full_ids: bool
) -> None:
    by_row: dict[int, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_row[problem.row].append(problem)
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True, "remove_timezone": True})
    try:
        sheet = workbook.add_worksheet("错误说明")
        bad = workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        bad_date = workbook.add_format(
            {"bg_color": "#FFC7CE", "font_color": "#9C0006", "num_format": "yyyy-mm-dd"}
        )
        date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        note = workbook.add_format({"bold": True, "font_color": "#9C0006"})
        sheet.set_column(0, 0, 60)
        out_row = -1
        for out_row, (number, values) in enumerate(iter_rows(source)):
            if number == header_row:
                sheet.write_string(out_row, 0, ERROR_COLUMN, note)
            elif number in by_row:
                said = "；".join(str(p) for p in by_row[number])
                sheet.write_string(out_row, 0, (said if full_ids else scrub(said))[:MAX_TEXT], note)
            if not full_ids:
                values = [masked(value) for value in values]
            marked = {p.col_index for p in by_row.get(number, []) if p.col_index is not None}
            for col, value in enumerate(values):
                style = bad if col in marked else None
                if value is None:
                    if style:
                        sheet.write_blank(out_row, col + 1, None, style)
                elif isinstance(value, str):
                    sheet.write_string(out_row, col + 1, value[:MAX_TEXT], style)
                elif isinstance(value, dt.date | dt.datetime):
                    sheet.write_datetime(out_row, col + 1, value, bad_date if style else date)
                elif isinstance(value, float) and not math.isfinite(value):
                    sheet.write_string(out_row, col + 1, str(value), style)
                elif isinstance(value, bool | int | float):
                    sheet.write(out_row, col + 1, value, style)
                else:  # a time, a duration: as text, never a failure
                    sheet.write_string(out_row, col + 1, str(value), style)
        if out_row < 0 or any(p.row > out_row + 1 for p in problems if p.col_index is None and not p.column):
            text = "；".join(str(p) for p in problems if not p.column)
            sheet.write_string(out_row + 1, 0, (text if full_ids else scrub(text))[:MAX_TEXT], note)
    finally:
        workbook.close()
