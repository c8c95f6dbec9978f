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
from .models import Batch, Item


def _item_field(key: str) -> Any:
    names = {f.name for f in Item._meta.fields}
    return Item._meta.get_field(key) if key in names else None


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
# the list's text columns with a length limit in the ledger (Item's CharFields): checked per row
TEXT_LIMITS = {c.key: f.max_length for c in COLUMNS if (f := _item_field(c.key)) is not None and f.max_length}
NUMBER_MAX = 2147483647  # Item.number is a PositiveIntegerField: the largest every database holds


def _number_problems(row: int, value: int, taken: dict[int, int], col_index: int | None) -> list[Problem]:
    if not 1 <= value <= NUMBER_MAX:
        return [Problem(row, "序号", f"应为1到{NUMBER_MAX}之间的整数", col_index)]
    if value in taken:
        where = f"与第{taken[value]}行重复" if taken[value] else "本批次已有该序号的问题"
        return [Problem(row, "序号", f"序号{value}{where}", col_index)]
    taken[value] = row
    return []


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


NO_HEADER = "未找到表头：文件前12行中没有“问题描述”“责任单位”“整改时限”等列名"


def read_list_header(job: Any) -> tuple[str | None, str]:
    """The worker's half of a list upload (a READ_HEADER job): the header found, kept on the job for
    the mapping page; (why the file cannot be used or None, the page that comes next)."""
    from django.urls import reverse

    try:
        header = detect(job.params["inspection_list"])
    except UnreadableFile as exc:  # over a limit; a damaged file simply has no header
        return str(exc), ""
    if header is None:
        return NO_HEADER, ""
    job.summary = {**job.summary, "header": {"row": header.row, "labels": header.labels,
                                              "suggested": header.suggested}}  # fmt: skip
    return None, reverse("rectification:list_mapping")


def header_of(job: Any) -> ListHeader:
    data = job.summary["header"]
    return ListHeader(data["row"], list(data["labels"]), dict(data["suggested"]))


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


def import_list(
    *,
    user: Any,
    batch: Batch,
    path: str,
    mapping: dict[str, str] | None = None,
    header: ListHeader | None = None,
) -> ListResult:
    """Import the list with the confirmed column mapping (or, without one, the proposed mapping), under
    the header read earlier by the worker (or found here)."""
    problems: list[Problem] = []
    parsed: list[dict[str, Any]] = []
    taken: dict[int, int] = dict.fromkeys(batch.items.values_list("number", flat=True), 0)  # number → row
    try:
        detected = header or detect(path)
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
                    else:  # the number is unique per batch (a constraint) and a positive integer field
                        problems += _number_problems(number, row["number"], taken, index.get("number"))
                for key, limit in TEXT_LIMITS.items():  # PostgreSQL refuses a longer value mid-write
                    if len(row[key]) > limit:
                        label = next(c.label for c in COLUMNS if c.key == key)
                        message = f"内容过长（{len(row[key])}字，最多{limit}字）"
                        problems.append(Problem(number, label, message, index.get(key)))
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
                            f"规则「{cells.shown(row['rule_id'])}」不在规则目录中",
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
    free = max(taken, default=0)  # rows without a 序号 follow every number given or held
    for row in parsed:
        if not row["number"]:
            free += 1
            row["number"] = free
    with transaction.atomic():
        for row in parsed:
            actions.add_item(user=user, batch=batch, **{k: v for k, v in row.items() if v not in ("", None)})
    return ListResult(True, len(parsed), [])
