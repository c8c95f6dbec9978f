"""Loading the region table (CSV/Excel with 区划代码 and 名称 columns)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from fangpin.common import cells
from fangpin.common.tabular import iter_rows

from .models import PREFIX_LENGTH, Level, Region, level_of

CODE_HEADERS = {"区划代码", "统计用区划代码", "代码", "行政区划代码"}
NAME_HEADERS = {"名称", "区划名称", "单位名称"}


class RegionTableError(ValueError):
    pass


@dataclass
class RegionLoadResult:
    created: int
    updated: int
    unchanged: int


def _parent_code(code: str, level: Level) -> str | None:
    if level == Level.PROVINCE:
        return None
    parent_level = Level(level - 1)
    return code[: PREFIX_LENGTH[parent_level]].ljust(12, "0")


@transaction.atomic
def upsert_regions(rows: list[tuple[str, str]]) -> RegionLoadResult:
    """Create or rename regions; parents must come from the same table or already exist."""
    rows = sorted(rows)
    existing = {r.code: r for r in Region.objects.all()}
    created = updated = unchanged = 0
    for code, name in rows:
        level = level_of(code)
        parent_code = _parent_code(code, level)
        parent = existing.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            raise RegionTableError(f"区划代码 {code}（{name}）的上级 {parent_code} 不在区划表中")
        full_name = f"{parent.full_name}{name}" if parent and parent.level >= Level.COUNTY else name
        region = existing.get(code)
        if region is None:
            region = Region.objects.create(
                code=code, name=name, level=level, parent=parent, full_name=full_name
            )
            existing[code] = region
            created += 1
        elif (region.name, region.full_name) != (name, full_name):
            region.name, region.full_name = name, full_name
            region.save(update_fields=["name", "full_name"])
            updated += 1
        else:
            unchanged += 1
    return RegionLoadResult(created, updated, unchanged)


def load_region_file(path: str | Path) -> RegionLoadResult:
    header: dict[str, int] | None = None
    rows: list[tuple[str, str]] = []
    errors: list[str] = []
    for number, values in iter_rows(path):
        labels = [cells.text(v) for v in values]
        if header is None:
            code_col = next((i for i, v in enumerate(labels) if v in CODE_HEADERS), None)
            name_col = next((i for i, v in enumerate(labels) if v in NAME_HEADERS), None)
            if code_col is not None and name_col is not None:
                header = {"code": code_col, "name": name_col}
            continue
        code, name = labels[header["code"]], labels[header["name"]]
        if not code and not name:
            continue
        if not (code.isdigit() and len(code) == 12):
            errors.append(f"第{number}行「区划代码」列：「{code}」不是12位数字代码")
            continue
        if not name:
            errors.append(f"第{number}行「名称」列：名称为空")
            continue
        rows.append((code, name))
    if header is None:
        raise RegionTableError("未找到表头：区划表需要「区划代码」和「名称」两列")
    if errors:
        raise RegionTableError("；".join(errors[:50]))
    return upsert_regions(rows)
