"""Reading rows into typed values: the per-cell, per-row part of an import, with no state between rows.

Because it needs nothing but the file and the header, it can run in a second process while the
first validates across rows and writes (`stream_rows`): on a 2-core server that hides the cost of
reading the file.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fangpin.common import cells
from fangpin.common.idnumber import birth_date_of, normalise_id
from fangpin.common.phone import normalise_phone
from fangpin.common.tabular import iter_rows

from .columns import Column

PARALLEL_MIN_BYTES = 4 * 1024 * 1024  # below this, a second process costs more than it saves
ENTITIES = ("region", "household", "member", "income", "measure")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, named by row and column as Excel shows them."""

    row: int
    column: str
    message: str
    col_index: int | None = None

    def __str__(self) -> str:
        where = f"第{self.row}行" + (f"「{self.column}」列" if self.column else "")
        return f"{where}：{self.message}"


@dataclass
class RowCells:
    """One data row, each cell read into its typed value or a problem."""

    number: int
    parsed: dict[str, dict[str, Any]]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)


CellParser = Callable[[object, str], tuple[Any, str, str]]
EMPTY_VALUES = {"text": "", "enum": "", "id": "", "phone": "", "month": "", "list": []}


def _parse_id(column: Column) -> CellParser:
    def parse(raw: object, id_type: str) -> tuple[Any, str, str]:
        result = normalise_id(raw, allow_disability_card=id_type == "残疾人证")
        return result.value, result.error, result.note

    return parse


def _parse_phone(column: Column) -> CellParser:
    def parse(raw: object, id_type: str) -> tuple[Any, str, str]:
        value, error = normalise_phone(raw)
        return value, error, ""

    return parse


def _parse_text(column: Column) -> CellParser:
    allowed = set(column.values)
    hint = "、".join(column.values[:12]) + ("等" if len(column.values) > 12 else "")

    def parse(raw: object, id_type: str) -> tuple[Any, str, str]:
        value = cells.text(raw)
        if allowed and value:
            value = column.value_synonyms.get(value, value)
            if value not in allowed:
                return None, f"「{value}」不是有效值（可填：{hint}）", ""
        if len(value) > column.max_length:
            return None, f"内容过长（{len(value)}字，最多{column.max_length}字）", ""
        return value, "", ""

    return parse


def _simple(func: Callable[[object], Any]) -> Callable[[Column], CellParser]:
    def factory(column: Column) -> CellParser:
        def parse(raw: object, id_type: str) -> tuple[Any, str, str]:
            try:
                return func(raw), "", ""
            except cells.CellError as exc:
                return None, str(exc), ""

        return parse

    return factory


PARSERS: dict[str, Callable[[Column], CellParser]] = {
    "id": _parse_id,
    "phone": _parse_phone,
    "text": _parse_text,
    "enum": _parse_text,
    "yesno": _simple(cells.yes_no),
    "money": _simple(cells.money),
    "area": _simple(cells.money),
    "decimal": _simple(cells.money),
    "money_signed": _simple(lambda raw: cells.money(raw, allow_negative=True)),
    "int": _simple(cells.integer),
    "date": _simple(cells.date),
    "month": _simple(cells.month),
    "list": _simple(cells.split_list),
}


class CellPlan:
    """How to read each column of a file whose header has been found."""

    def __init__(self, columns: list[tuple[int, Column]], extras: list[tuple[int, str]]) -> None:
        self.columns = columns
        self.extras = extras
        self.id_type_index = next((i for i, c in columns if c.target == "member.id_type"), None)
        present = {c.target for _, c in columns}
        self.has_risks = any(f"household.risk_{i}" in present for i in range(1, 6))
        self.measure_groups = [c.field for _, c in columns if c.entity == "measure"]
        # the id type decides how the ID is read, so it is parsed before the ID column
        self.steps = [
            (i, c, PARSERS[c.kind](c), c.entity, c.field, EMPTY_VALUES.get(c.kind))
            for i, c in sorted(columns, key=lambda ic: ic[1].kind == "id")
        ]

    def read(self, number: int, values: list[object]) -> RowCells:
        row = RowCells(number, {entity: {} for entity in ENTITIES})
        parsed, problems = row.parsed, row.problems
        id_type = ""
        if self.id_type_index is not None and self.id_type_index < len(values):
            id_type = cells.text(values[self.id_type_index])
        width = len(values)
        for index, column, parser, entity, name, empty in self.steps:
            raw = values[index] if index < width else None
            if raw is None or raw == "":
                if column.required:
                    problems.append(Problem(number, column.label, "必填，不能为空", index))
                else:
                    parsed[entity][name] = list(empty) if isinstance(empty, list) else empty
                continue
            value, error, note = parser(raw, id_type)
            if not error and column.required and value in (None, "", []):
                error = "必填，不能为空"
            if error:
                problems.append(Problem(number, column.label, error, index))
                continue
            if note:
                row.notes.append(f"第{number}行「{column.label}」列：{note}")
            parsed[entity][name] = value
        household, member = parsed["household"], parsed["member"]
        risks = [household.pop(f"risk_{i}") for i in range(1, 6) if f"risk_{i}" in household]
        if self.has_risks:
            household["risk_types"] = "、".join(r for r in risks if r)
        if self.measure_groups:
            household["measures"] = {
                g: parsed["measure"][g] for g in self.measure_groups if parsed["measure"].get(g)
            }
        id_number = member.get("id_number")
        if id_number and member.get("birth_date") and id_type in ("", "身份证"):
            from_id = birth_date_of(id_number)
            if from_id and from_id != member["birth_date"]:
                problems.append(Problem(number, "出生日期", f"与证件号码中的出生日期（{from_id}）不一致"))
        row.extra = {
            label: cells.text(values[i]) for i, label in self.extras if i < width and values[i] is not None
        }
        return row


def is_blank(values: list[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _read_chunks(
    path: str, header_row: int, columns: list, extras: list, chunk_size: int
) -> Iterator[list[RowCells]]:
    plan = CellPlan(columns, extras)
    chunk: list[RowCells] = []
    for number, values in iter_rows(path):
        if number <= header_row or is_blank(values):
            continue
        chunk.append(plan.read(number, values))
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _produce(path: str, header_row: int, columns: list, extras: list, chunk_size: int, out: Any) -> None:
    """The second process: read and parse, hand chunks over, stop if the importer has gone."""
    parent = os.getppid()
    try:
        for chunk in _read_chunks(path, header_row, columns, extras, chunk_size):
            while True:
                try:
                    out.put(("rows", chunk), timeout=1)
                    break
                except queue_module.Full:
                    if os.getppid() != parent:  # the importer was killed: nobody will read this
                        return
        out.put(("done", None))
    except Exception as exc:  # the importer reports it; a traceback here would be lost
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def stream_rows(
    path: str,
    header_row: int,
    columns: list[tuple[int, Column]],
    extras: list[tuple[int, str]],
    chunk_size: int,
    *,
    parallel: bool | None = None,
) -> Iterator[list[RowCells]]:
    """Chunks of parsed rows after the header; read in a second process for large files."""
    if parallel is None:
        parallel = os.path.getsize(path) >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
    if not parallel:
        yield from _read_chunks(path, header_row, columns, extras, chunk_size)
        return
    context = multiprocessing.get_context("spawn")
    channel = context.Queue(maxsize=4)
    producer = context.Process(
        target=_produce, args=(str(path), header_row, columns, extras, chunk_size, channel), daemon=True
    )
    producer.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=5)
            except queue_module.Empty:
                if not producer.is_alive():
                    raise RuntimeError("读取文件的进程意外退出") from None
                continue
            if kind == "rows":
                yield payload
            elif kind == "error":
                raise RuntimeError(f"读取文件出错：{payload}")
            else:
                return
    finally:
        producer.kill()
        producer.join(timeout=5)
