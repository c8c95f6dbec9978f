"""One group of the comparison as the .xlsx officials hand in: title, 填报单位, 比对名单, 导出时间, one row
per household or person with the reason to look, 制表人/审核人. Scoped to the exporting user, IDs only
masked; every export is in the audit log."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from django.utils import timezone

from fangpin.audit.actions import record
from fangpin.audit.models import Action
from fangpin.common.safe_cells import merge_text, write_cell

from .compare import FILTER_GROUPS, HouseholdRow, PersonRow, region_names
from .models import AidList

HOUSEHOLD_HEADER = ("序号", "乡镇", "村", "户编号", "户主", "户主证件号码", "民政救助类型", "保障人数",
                    "本平台家庭人口数", "本平台监测情况", "核实事项")  # fmt: skip
HOUSEHOLD_WIDTHS = (6, 12, 12, 20, 10, 22, 16, 9, 9, 22, 60)
PERSON_HEADER = ("序号", "乡镇", "村", "姓名", "证件号码", "与户主关系", "户编号", "民政救助类型", "本平台监测情况",
                 "核实事项")  # fmt: skip
PERSON_WIDTHS = (6, 12, 12, 10, 22, 10, 20, 16, 22, 60)


def _household_values(row: HouseholdRow) -> tuple[Any, ...]:
    return (row.household_no or "（不在台账）", row.head_name, row.head_masked, "、".join(row.categories),
            row.aid_size if row.aid_size is not None else "", row.register_size if row.register_size is not None else "",
            row.monitoring, "；".join(row.reasons) or "两边一致")  # fmt: skip


def _person_values(row: PersonRow) -> tuple[Any, ...]:
    return (row.name, row.id_masked, row.relation, row.household_no or "（不在台账）", "、".join(row.categories),
            row.monitoring, "；".join(row.reasons) or "两边一致")  # fmt: skip


def export_group(
    *,
    user: Any,
    aid_list: AidList,
    rows: list[Any],
    group: str,
    level: str,
    preparer: str = "",
    reviewer: str = "",
) -> tuple[bytes, str]:
    """The workbook's bytes and its file name; `rows` are already scoped and filtered by the caller."""
    person = level == "person"
    header, widths = (PERSON_HEADER, PERSON_WIDTHS) if person else (HOUSEHOLD_HEADER, HOUSEHOLD_WIDTHS)
    label = FILTER_GROUPS.get(group, "全部")
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("比对结果")
    title = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = workbook.add_format(
        {"bold": True, "border": 1, "bg_color": "#DDEBF7", "align": "center", "text_wrap": True}
    )
    cell = workbook.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    last = len(header) - 1
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    merge_text(
        sheet, 0, 0, 0, last, f"民政低收入人口比对表（{label}，{'按人' if person else '按户'}）", title
    )
    unit = getattr(user, "unit", "") or str(user.region or "")
    merge_text(sheet, 1, 0, 1, last,
               f"填报单位：{unit}　比对名单：{aid_list.source}（名单日期{aid_list.as_of:%Y年%m月%d日}）　"
               f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}", None)  # fmt: skip
    for col, name in enumerate(header):
        sheet.write_string(2, col, name, head)
    names = region_names({r.region_code for r in rows})
    line = 3
    for number, row in enumerate(rows, start=1):
        code = row.region_code
        town = names.get(code[:9] + "000", "") if code[6:9].strip("0") else ""
        village = names.get(code, "") if code[9:12].strip("0") else ""
        values = (number, town, village, *(_person_values(row) if person else _household_values(row)))
        for col, value in enumerate(values):
            write_cell(sheet, line, col, value, cell)  # names and reasons are data, never formulas
        line += 1
    sheet.write_string(line + 1, 0, f"制表人：{preparer}")
    sheet.write_string(line + 1, 6 if not person else 5, f"审核人：{reviewer}")
    workbook.close()
    region_code = user.region.code if user.region else ""
    record(Action.EXPORT, model="socialaid.AidList", object_id=str(aid_list.pk), object_repr=str(aid_list),
           region_code=region_code,
           detail=f"导出民政低收入人口比对（{label}，{'按人' if person else '按户'}）{len(rows)}条")  # fmt: skip
    name = f"民政低收入人口比对_{label}_{'按人' if person else '按户'}_{timezone.localtime():%Y%m%d%H%M}.xlsx"
    return buffer.getvalue(), name.replace("（", "_").replace("）", "").replace("、", "")
