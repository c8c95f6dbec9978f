"""Importing the problem lists inspectors hand over (Excel/CSV): header detection, synonyms, every row
validated with row and column named, nothing half-written."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from fangpin.common import cells
from fangpin.common.tabular import UnreadableFile, head_rows, iter_rows
from fangpin.regions.models import Level, Region
from fangpin.registry.columns import header_key
from fangpin.registry.rows import Problem, is_blank
from fangpin.rules.catalogue import rule_by_id

from . import actions
from .models import Batch


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    synonyms: tuple[str, ...] = ()
    required: bool = False


COLUMNS = (
    Col("number", "序号", ("编号",)),
    Col("description", "问题描述", ("问题", "存在问题", "问题表现", "反馈问题"), True),
    Col("category", "问题类别", ("问题类型", "类别")),
    Col("township", "乡镇", ("涉及乡镇", "所在乡镇", "乡（镇）", "涉及区域", "区域")),
    Col("village", "村", ("涉及村", "行政村")),
    Col("responsible_unit", "责任单位", ("牵头单位",), True),
    Col("responsible_leader", "责任领导", ("牵头领导", "分管领导")),
    Col("responsible_person", "责任人", ("具体责任人",)),
    Col("deadline", "整改时限", ("完成时限", "整改期限", "时限"), True),
    Col("measures", "整改措施", ("整改举措",)),
    Col("rule_id", "关联规则", ("规则编号",)),
)
LOOKUP = {header_key(name): col for col in COLUMNS for name in (col.label, *col.synonyms)}


@dataclass
class ListResult:
    ok: bool
    created: int
    problems: list[Problem]


@dataclass
class ListHeader:
    row: int
    labels: list[str]
    suggested: dict[str, str]  # column key → the file's header label


def detect(path: str) -> ListHeader | None:
    """The row among the first twelve that names most of the list's columns, with a proposed mapping."""
    best: tuple[int, int, list[str]] | None = None
    for number, values in head_rows(path):
        labels = [cells.text(v) for v in values]
        score = sum(1 for label in labels if header_key(label) in LOOKUP)
        if score >= 2 and (best is None or score > best[0]):
            best = (score, number, labels)
    if best is None:
        return None
    _, number, labels = best
    suggested: dict[str, str] = {}
    for label in labels:
        col = LOOKUP.get(header_key(label))
        if col and col.key not in suggested:
            suggested[col.key] = label
    return ListHeader(number, labels, suggested)


def _header(rows: Any, header: ListHeader, mapping: dict[str, str]) -> tuple[int, dict[str, int]]:
    """Skip to the header row and turn the mapping (key → label) into column positions."""
    for number, _ in rows:
        if number >= header.row:
            break
    positions = {header_key(label): i for i, label in enumerate(header.labels) if label}
    return header.row, {key: positions[header_key(label)] for key, label in mapping.items()
                        if label and header_key(label) in positions}  # fmt: skip


def _region(batch: Batch, township: str, village: str) -> Region | None:
    regions = Region.objects.filter(code__startswith=batch.region.prefix)
    if not township and not village:
        return batch.region
    towns = regions.filter(level=Level.TOWNSHIP, name=township) if township else None
    if village:
        villages = regions.filter(level=Level.VILLAGE, name=village)
        if towns is not None:
            villages = villages.filter(parent__in=towns)
        return villages.first()
    return towns.first() if towns is not None else None


def import_list(*, user: Any, batch: Batch, path: str, mapping: dict[str, str] | None = None) -> ListResult:
    """Import the list with the confirmed column mapping (or, without one, the proposed mapping)."""
    problems: list[Problem] = []
    parsed: list[dict[str, Any]] = []
    try:
        detected = detect(path)
        if detected is None:
            return ListResult(
                False, 0, [Problem(1, "", "未找到表头：需要“问题描述”“责任单位”“整改时限”等列")]
            )
        with closing(iter_rows(path)) as rows:
            header_row, index = _header(rows, detected, detected.suggested if mapping is None else mapping)
            for required in (c for c in COLUMNS if c.required and c.key not in index):
                problems.append(Problem(header_row, required.label, "缺少必需的列"))
            if problems:
                return ListResult(False, 0, problems)
            for number, values in rows:
                if is_blank(values):
                    continue
                row = {c.key: cells.text(values[index[c.key]]) if c.key in index and index[c.key] < len(values) else ""
                       for c in COLUMNS}  # fmt: skip
                raw_deadline = values[index["deadline"]] if index["deadline"] < len(values) else None
                for col in COLUMNS:
                    if col.required and not row[col.key]:
                        problems.append(Problem(number, col.label, "必填，不能为空", index.get(col.key)))
                try:
                    row["deadline"] = cells.date(raw_deadline)
                except cells.CellError as exc:
                    problems.append(Problem(number, "整改时限", str(exc), index["deadline"]))
                if row["number"]:
                    try:
                        row["number"] = cells.integer(row["number"])
                    except cells.CellError as exc:
                        problems.append(Problem(number, "序号", str(exc), index.get("number")))
                region = _region(batch, row.pop("township"), row.pop("village"))
                if region is None:
                    problems.append(
                        Problem(number, "乡镇", "乡镇或村不在本批次的区划范围内", index.get("township"))
                    )
                row["region"] = region
                if row["rule_id"] and rule_by_id(row["rule_id"]) is None:
                    problems.append(
                        Problem(
                            number,
                            "关联规则",
                            f"规则「{row['rule_id']}」不在规则目录中",
                            index.get("rule_id"),
                        )
                    )
                parsed.append(row)
    except UnreadableFile as exc:
        return ListResult(False, 0, [Problem(1, "", str(exc))])
    if not parsed and not problems:
        problems.append(Problem(header_row, "", "表头下没有数据行"))
    if problems:
        return ListResult(False, 0, problems)
    with transaction.atomic():
        for row in parsed:
            actions.add_item(user=user, batch=batch, **{k: v for k, v in row.items() if v not in ("", None)})
    return ListResult(True, len(parsed), [])
