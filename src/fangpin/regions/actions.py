"""Loading the region table (CSV/Excel with 区划代码 and 名称 columns)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from fangpin.audit import actions as audit
from fangpin.audit.models import Action
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
    """Create or rename regions; parents must come from the same table or already exist.

    A whole table is thousands of villages: rows go in one bulk insert per level (parents first, so
    children have their parent's id) and their audit entries in one append, as the register importer
    does, instead of one signal-driven entry and transaction each."""
    rows = sorted(rows)
    existing = {r.code: r for r in Region.objects.all()}
    new_by_level: dict[Level, list[Region]] = {}
    renamed: list[tuple[Region, dict[str, str]]] = []
    unchanged = 0
    for code, name in rows:
        level = level_of(code)
        parent_code = _parent_code(code, level)
        parent = existing.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            raise RegionTableError(f"区划代码 {code}（{name}）的上级 {parent_code} 不在区划表中")
        full_name = f"{parent.full_name}{name}" if parent and parent.level >= Level.COUNTY else name
        region = existing.get(code)
        if region is None:
            region = Region(code=code, name=name, level=level, parent=parent, full_name=full_name)
            existing[code] = region
            new_by_level.setdefault(level, []).append(region)
        elif (region.name, region.full_name) != (name, full_name):
            renamed.append((region, {"name": region.name, "full_name": region.full_name}))
            region.name, region.full_name = name, full_name
        else:
            unchanged += 1
    entries: list[audit.PendingEntry] = []
    for level in sorted(new_by_level):
        # bulk_create takes each parent's id, set by the previous level's insert
        Region.objects.bulk_create(new_by_level[level])
        entries += [
            audit.PendingEntry(action=Action.CREATE, after=audit.snapshot(r, drop_empty=True), **_filing(r))
            for r in new_by_level[level]
        ]
    if renamed:
        Region.objects.bulk_update([r for r, _ in renamed], ["name", "full_name"])
        entries += [
            audit.PendingEntry(
                action=Action.UPDATE,
                before=old,
                after={"name": r.name, "full_name": r.full_name},
                **_filing(r),
            )
            for r, old in renamed
        ]
    audit.append(entries)
    created = sum(len(v) for v in new_by_level.values())
    return RegionLoadResult(created, len(renamed), unchanged)


def _filing(region: Region) -> dict[str, str]:
    label = region._meta.label
    return {
        "model": label,
        "object_id": str(region.pk),
        "object_repr": str(region),
        "region_code": region.code,
    }


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
