"""The error workbook of a rejected import: a copy of the input with a 错误说明 column and the
bad cells highlighted, so a clerk can fix the file and upload it again (formats §1).

The 错误说明 column comes first, where a clerk sees it without scrolling; the importer ignores a
column of that name, so the corrected file can be uploaded as it is.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import xlsxwriter

from fangpin.common.tabular import iter_rows

from .importer import ERROR_COLUMN, Problem


def write_error_report(
    source: str | Path, problems: list[Problem], target: str | Path, header_row: int = 0
) -> Path:
    by_row: dict[int, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_row[problem.row].append(problem)
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    sheet = workbook.add_worksheet("错误说明")
    bad = workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    note = workbook.add_format({"bold": True, "font_color": "#9C0006"})
    sheet.set_column(0, 0, 60)
    out_row = -1
    for out_row, (number, values) in enumerate(iter_rows(source)):
        if number == header_row:
            sheet.write_string(out_row, 0, ERROR_COLUMN, note)
        elif number in by_row:
            sheet.write_string(out_row, 0, "；".join(str(p) for p in by_row[number]), note)
        marked = {p.col_index for p in by_row.get(number, []) if p.col_index is not None}
        for col, value in enumerate(values):
            style = bad if col in marked else None
            if value is None:
                if style:
                    sheet.write_blank(out_row, col + 1, None, style)
            elif isinstance(value, str):
                sheet.write_string(out_row, col + 1, value, style)
            else:
                sheet.write(out_row, col + 1, value, style)
    if out_row < 0 or any(p.row > out_row + 1 for p in problems if p.col_index is None and not p.column):
        sheet.write_string(out_row + 1, 0, "；".join(str(p) for p in problems if not p.column), note)
    workbook.close()
    return Path(target)
