"""The differences as an .xlsx officials hand in: title, 填报单位, 统计截止日期, one row per difference
(户编号, 户主, 比对项, 本平台的值, 国家系统的值), 制表人/审核人. Scoped to the exporting user; IDs only masked
(a member is named with the stored mask); every export is in the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone

from fangpin.audit.actions import record
from fangpin.audit.models import Action
from fangpin.common.safe_cells import merge_text, write_cell
from fangpin.regions.models import Region

from .models import Comparison, Difference

HEADER = ("序号", "乡镇", "村", "户编号", "户主", "比对项", "本平台", "国家系统", "核对情况")
WIDTHS = (6, 12, 12, 20, 10, 18, 30, 30, 10)
BATCH = 2000


def local_date(day: Any) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def export_differences(
    target: str | Path,
    *,
    user: Any,
    comparison: Comparison,
    differences: QuerySet[Difference],
    checked: set[int],
) -> int:
    """Write `differences` (already scoped and filtered by the caller); `checked`: entry ids marked 已核对."""
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    sheet = workbook.add_worksheet("比对差异")
    title = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = workbook.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "align": "center"})
    cell = workbook.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    last = len(HEADER) - 1
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    merge_text(sheet, 0, 0, 0, last, "防返贫监测对象账账比对差异表", title)
    unit = getattr(user, "unit", "") or str(user.region or "")
    merge_text(sheet, 1, 0, 1, last,
               f"填报单位：{unit}　统计截止日期：{local_date(comparison.cutoff)}　"
               f"比对文件：{comparison.file_name}　导出时间：{timezone.localtime():%Y-%m-%d %H:%M}", None)  # fmt: skip
    for col, name in enumerate(HEADER):
        sheet.write_string(2, col, name, head)
    names = {r.code: r.name for r in Region.objects.filter(code__startswith=comparison.region_code[:6])}
    row, number = 3, 0
    ordered = differences.select_related("entry").order_by("region_code", "entry__household_no", "position")
    for item in ordered.iterator(chunk_size=BATCH):  # streamed: a county's differences never sit in memory
        number += 1
        code = item.region_code
        values = (
            number, names.get(code[:9] + "000", ""), names.get(code, ""), item.entry.household_no,
            item.entry.head_name, item.label, item.fangpin_value, item.national_value,
            "已核对" if item.entry_id in checked else "待核对",
        )  # fmt: skip
        for col, value in enumerate(values):
            write_cell(sheet, row, col, value, cell)  # names and values are data, never formulas
        row += 1
    sheet.write_string(row + 1, 0, "制表人：")
    sheet.write_string(row + 1, 5, "审核人：")
    workbook.close()
    record(Action.EXPORT, model="reconciliation.Comparison", object_id=str(comparison.pk),
           object_repr=str(comparison), region_code=user.region.code if user.region else "",
           detail=f"导出账账比对差异{number}条")  # fmt: skip
    return number
