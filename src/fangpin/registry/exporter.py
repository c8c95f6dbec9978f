"""Export of the national layouts (§2, §3) from the register, scoped to the exporting user.

Streams: households are read by key in batches and rows are written with xlsxwriter's
constant-memory mode, so a county of 250,000 people never sits in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from django.utils import timezone

from fangpin.audit import actions as audit
from fangpin.audit.models import Action
from fangpin.common.crypto import cipher
from fangpin.regions.models import Region

from .columns import LAYOUT_TITLES, LAYOUTS, Column
from .filters import keyset_page
from .models import Household, IncomeRecord

BATCH = 1000


def _region_names(codes: set[str]) -> dict[str, tuple[str, str, str]]:
    """village code → (county, township, village) names."""
    names: dict[str, tuple[str, str, str]] = {}
    for village in Region.objects.filter(code__in=codes).select_related("parent__parent"):
        township = village.parent
        county = township.parent if township else None
        names[village.code] = (county.name if county else "", township.name if township else "", village.name)
    return names


def _cell(
    column: Column,
    household: Household,
    member: Any,
    income: IncomeRecord | None,
    names: tuple[str, str, str],
    full: bool,
) -> Any:
    entity, name = column.entity, column.field
    if entity == "region":
        return {
            "county": names[0],
            "township": names[1],
            "village": names[2],
            "code": household.region_code,
        }.get(name)
    if entity == "measure":
        return "、".join(household.measures.get(name, []))
    if entity == "income":
        value = getattr(income, name) if income else None
    elif entity == "household":
        if name.startswith("risk_") and name[5:].isdigit():
            risks = household.risk_type_list
            index = int(name[5:]) - 1
            return risks[index] if index < len(risks) else None
        if name == "head_id":
            return None
        if name.endswith("phone"):
            return _phone(household, name, full)
        value = getattr(household, name)
    else:
        if name == "id_number":
            return cipher().decrypt(member.id_number_enc, "id") if full else member.id_number_masked
        if name == "phone":
            return _phone(member, "phone", full)
        value = getattr(member, name)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _phone(obj: Any, name: str, full: bool) -> str:
    return cipher().decrypt(getattr(obj, f"{name}_enc"), "phone") if full else getattr(obj, f"{name}_masked")


def _households(queryset: Any) -> Iterator[list[Household]]:
    """Batches in key order (keyset, never OFFSET), members prefetched."""
    cursor = ""
    while True:
        batch, cursor = keyset_page(queryset.prefetch_related("members"), cursor, BATCH)
        if batch:
            yield batch
        if not cursor:
            return


def export_register(
    target: str | Path,
    *,
    user: Any,
    layout: str = "member",
    year: int | None = None,
    full: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Write the layout for every household in the user's scope. Returns the number of people."""
    columns = LAYOUTS[layout]
    queryset = Household.objects.for_user(user)
    total = queryset.count()
    year = year or (
        IncomeRecord.objects.filter(region_code__in=queryset.values("region_code"))
        .order_by("-year")
        .values_list("year", flat=True)
        .first()
        or timezone.localdate().year - 1
    )
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    sheet = workbook.add_worksheet(LAYOUT_TITLES[layout].strip("（自定义）"))
    bold = workbook.add_format({"bold": True, "font_size": 14})
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet.write_string(0, 0, f"{LAYOUT_TITLES[layout]}（{year}年度）", bold)
    unit = getattr(user, "unit", "") or str(getattr(user, "region", "") or "")
    masked_note = "" if full else "；证件号码和电话已脱敏"
    sheet.write_string(
        1,
        0,
        f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}；导出单位：{unit}；导出人：{user.username}{masked_note}",
    )
    for col, column in enumerate(columns):
        sheet.write_string(2, col, column.label, head)
    row_number, households_done, people = 3, 0, 0
    for batch in _households(queryset):
        incomes = {i.household_id: i for i in IncomeRecord.objects.filter(household__in=batch, year=year)}
        names = _region_names({h.region_code for h in batch})
        for household in batch:
            region_names = names.get(household.region_code, ("", "", ""))
            for member in household.members.all():
                for col, column in enumerate(columns):
                    value = _cell(column, household, member, incomes.get(household.pk), region_names, full)
                    if value is None or value == "":
                        continue
                    if isinstance(value, str):
                        sheet.write_string(row_number, col, value)
                    else:
                        sheet.write_number(row_number, col, value)
                row_number += 1
                people += 1
        households_done += len(batch)
        if progress:
            progress(households_done, total)
    workbook.close()
    audit.record(
        Action.EXPORT if not full else Action.SENSITIVE_READ,
        model="registry.Household",
        object_repr=f"{LAYOUT_TITLES[layout]} {year}年度",
        region_code=getattr(getattr(user, "region", None), "code", ""),
        detail=f"导出{households_done}户{people}人" + ("（含完整证件号码和电话）" if full else "（已脱敏）"),
    )
    return people
