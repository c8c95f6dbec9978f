"""Findings as the .xlsx officials hand in: title, export time, unit, the rows, 制表人/审核人."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlsxwriter
from django.utils import timezone

from fangpin.audit.actions import record
from fangpin.audit.models import Action
from fangpin.common.safe_cells import write_cell

from .filters import FindingFilter
from .models import Finding

HEADER = ("序号", "乡镇", "村", "户编号", "户主", "成员", "规则编号", "国家规则代码", "问题类别", "严重程度",
          "问题说明", "期间", "状态", "首次发现", "最近筛查")  # fmt: skip


def export_findings(
    target: str | Path,
    *,
    user: Any,
    params: dict[str, Any],
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    from .catalogue import rule_by_id

    filters = FindingFilter.from_params(params)
    queryset = filters.apply(Finding.objects.for_user(user)).select_related(
        "household__region__parent", "member", "first_run", "last_run"
    )
    total = queryset.count()
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    sheet = workbook.add_worksheet("筛查发现")
    title = workbook.add_format({"bold": True, "font_size": 14})
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet.write_string(0, 0, f"防返贫监测筛查发现清单（{filters.family or '全部类别'}）", title)
    unit = getattr(user, "unit", "") or str(getattr(user, "region", "") or "")
    sheet.write_string(
        1, 0, f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}；导出单位：{unit}；共{total}条"
    )
    for col, name in enumerate(HEADER):
        sheet.write_string(2, col, name, head)
    row = 3
    for number, finding in enumerate(queryset.iterator(chunk_size=2000), start=1):
        village = finding.household.region
        rule = rule_by_id(finding.rule_id)
        values = (
            number, village.parent.name if village.parent else "", village.name, finding.household.household_no,
            finding.household.head_name, finding.member.name if finding.member else "", finding.rule_id,
            rule.code if rule else "", finding.family, finding.severity, finding.message, finding.period,
            finding.get_status_display(), f"{finding.first_run.as_of}", f"{finding.last_run.as_of}",
        )  # fmt: skip
        for col, value in enumerate(values):
            write_cell(sheet, row, col, value)  # names and notes are data, never formulas
        row += 1
        if progress and number % 2000 == 0:
            progress(number, total)
    sheet.write_string(row + 1, 0, "制表人：")
    sheet.write_string(row + 1, 6, "审核人：")
    workbook.close()
    record(Action.EXPORT, model="rules.Finding", object_repr="筛查发现清单", detail=f"导出{total}条筛查发现")
    return total
