"""交叉统计: rows × columns of households or people from the daily counts, and its .xlsx in the pivoted
layout units hand in (title, 填报单位, 统计截止日期, unit, A4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from django.db.models import Case, F, IntegerField, Sum, Value, When
from django.db.models.functions import Coalesce

from fangpin.common.safe_cells import merge_text, write_cell
from fangpin.regions.models import Region

from . import figures
from .dimensions import DIMENSIONS, EMPTY, Dimension, filter_q

MEASURES = {"households": "户", "people": "人"}


@dataclass
class Crosstab:
    row_dim: Dimension
    col_dim: Dimension
    measure: str
    columns: list[tuple[str, str]]  # (value, label)
    rows: list[dict[str, Any]]  # {value, label, cells: [n...], total}
    column_totals: list[int]
    total: int
    filters: dict[str, str]
    region: Region
    day: dt.date

    @property
    def unit(self) -> str:
        return MEASURES[self.measure]

    @property
    def multi_valued(self) -> bool:
        return bool(self.col_dim.bits)

    def filter_text(self) -> str:
        return "；".join(
            f"{DIMENSIONS[k].label}：{DIMENSIONS[k].label_of(v)}" for k, v in self.filters.items()
        )


def _row_key(value: Any, dim: Dimension) -> str:
    if dim.region_digits:
        return str(value).ljust(12, "0")
    if isinstance(value, bool):
        return "1" if value else "0"
    return value if value != "" else EMPTY


def build(region: Region, day: dt.date, row_key: str, col_key: str, measure: str,
          filters: dict[str, str]) -> Crosstab:  # fmt: skip
    row_dim, col_dim = DIMENSIONS[row_key], DIMENSIONS[col_key]
    rows_qs = figures.counts(region, day).filter(filter_q(filters, day))
    columns = col_dim.values()
    sums = {}
    for i, (value, _) in enumerate(columns):
        q = col_dim.q(value, day)
        sums[f"c{i}"] = Coalesce(
            Sum(Case(When(q, then=F(measure)), default=Value(0), output_field=IntegerField())), 0
        )
    sums["row_total"] = Coalesce(Sum(measure), 0)
    grouped = rows_qs.annotate(row=row_dim.group_expression()).values("row").annotate(**sums).order_by("row")
    found = {_row_key(r["row"], row_dim): r for r in grouped}
    labels = row_dim.values(within=region) if row_dim.region_digits else row_dim.values()
    result = []
    for value, label in labels:
        row = found.get(value)
        cells = [row[f"c{i}"] if row else 0 for i in range(len(columns))]
        result.append(
            {"value": value, "label": label, "cells": cells, "total": row["row_total"] if row else 0}
        )
    known = {value for value, _ in labels}
    for value, row in found.items():  # a value outside the list (a code table grew): still counted
        if value not in known:
            cells = [row[f"c{i}"] for i in range(len(columns))]
            result.append({"value": value, "label": value, "cells": cells, "total": row["row_total"]})
    column_totals = [sum(r["cells"][i] for r in result) for i in range(len(columns))]
    return Crosstab(row_dim, col_dim, measure, columns, result, column_totals, sum(r["total"] for r in result),
                    filters, region, day)  # fmt: skip


def write_xlsx(table: Crosstab, target: str | Path, *, unit_name: str) -> None:
    """The pivoted table on an A4 sheet: title, 填报单位, 统计截止日期 and unit above, 制表人/审核人 below."""
    workbook = xlsxwriter.Workbook(str(target))
    sheet = workbook.add_worksheet("交叉统计")
    width = len(table.columns) + 2
    title = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = workbook.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True,
                                "align": "center", "valign": "vcenter"})  # fmt: skip
    cell = workbook.add_format({"border": 1})
    number = workbook.add_format({"border": 1, "num_format": "#,##0"})
    bold_number = workbook.add_format({"border": 1, "num_format": "#,##0", "bold": True})
    heading = f"{table.region.name}{table.row_dim.label}×{table.col_dim.label}交叉统计表"
    merge_text(sheet, 0, 0, 0, width - 1, heading, title)
    merge_text(sheet, 1, 0, 1, width - 1,
               f"填报单位：{unit_name}　统计截止日期：{table.day:%Y年%m月%d日}　单位：{table.unit}", None)  # fmt: skip
    line = 2
    if table.filters:
        merge_text(sheet, line, 0, line, width - 1, f"筛选条件：{table.filter_text()}", None)
        line += 1
    sheet.write_string(line, 0, f"{table.row_dim.label}＼{table.col_dim.label}", head)
    for i, (_, label) in enumerate(table.columns):
        sheet.write_string(line, i + 1, label, head)
    sheet.write_string(line, width - 1, "合计", head)
    for r, row in enumerate(table.rows, start=line + 1):
        write_cell(sheet, r, 0, row["label"], cell)  # region and value names are data, never formulas
        for i, n in enumerate(row["cells"]):
            sheet.write_number(r, i + 1, n, number)
        sheet.write_number(r, width - 1, row["total"], bold_number)
    last = line + 1 + len(table.rows)
    sheet.write_string(last, 0, "合计", head)
    for i, n in enumerate(table.column_totals):
        sheet.write_number(last, i + 1, n, bold_number)
    sheet.write_number(last, width - 1, table.total, bold_number)
    note = last + 1
    if table.multi_valued:
        sheet.write_string(
            note, 0, f"注：一户有多项{table.col_dim.label}的，分别计入各列，合计按户（人）不重复计算。"
        )
        note += 1
    sheet.write_string(note + 1, 0, "制表人：")
    sheet.write_string(note + 1, max(1, width // 2), "审核人：")
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, width - 1, 11)
    sheet.set_paper(9)  # A4
    sheet.set_landscape() if width > 8 else sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(line)
    sheet.center_horizontally()
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    workbook.close()
