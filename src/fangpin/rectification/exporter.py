"""The ledger in the layout units hand in: title, batch, 序号, 问题描述, 责任单位, 责任人, 整改措施, 整改时限,
整改进展, 完成情况, 销号时间; with export time, unit, and 制表人/审核人 lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter
from django.utils import timezone

from fangpin.audit.actions import record
from fangpin.audit.models import Action
from fangpin.common.safe_cells import merge_text, write_cell

from .models import Batch, Item

HEADER = (
    "序号",
    "问题描述",
    "责任单位",
    "责任人",
    "整改措施",
    "整改时限",
    "整改进展",
    "完成情况",
    "销号时间",
)


def export_ledger(target: str | Path, *, user: Any, batch: Batch) -> int:
    items = Item.objects.for_user(user).filter(batch=batch).order_by("number")
    workbook = xlsxwriter.Workbook(str(target))
    sheet = workbook.add_worksheet("整改台账")
    title = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = workbook.add_format(
        {"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True, "align": "center"}
    )
    cell = workbook.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    merge_text(sheet, 0, 0, 0, len(HEADER) - 1, f"{batch.name}整改台账", title)
    unit = getattr(user, "unit", "") or str(user.region or "")
    merge_text(sheet, 1, 0, 1, len(HEADER) - 1,
               f"问题来源：{batch.get_source_display()}　批次：{batch.name}　填报单位：{unit}　"
               f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}", None)  # fmt: skip
    for col, name in enumerate(HEADER):
        sheet.write_string(2, col, name, head)
    widths = (6, 40, 14, 10, 30, 12, 30, 20, 18)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    row = 3
    for item in items:
        responsible = "、".join(p for p in (item.responsible_leader, item.responsible_person) if p)
        values = (
            item.number, item.description, item.responsible_unit, responsible, item.measures,
            f"{item.deadline:%Y-%m-%d}", item.progress,
            item.result if item.status in ("applied", "closed") else item.get_status_display(),
            f"{timezone.localtime(item.closed_at):%Y-%m-%d}" if item.closed_at else "",
        )  # fmt: skip
        for col, value in enumerate(values):
            write_cell(sheet, row, col, value, cell)  # descriptions are data, never formulas
        row += 1
    sheet.write_string(row + 1, 0, "制表人：")
    sheet.write_string(row + 1, 4, "审核人：")
    workbook.close()
    record(Action.EXPORT, model="rectification.Batch", object_id=str(batch.pk), object_repr=batch.name,
           detail=f"导出整改台账{row - 3}项")  # fmt: skip
    return row - 3
