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
from fangpin.common.idnumber import UNUSABLE_FAULTS, IdFault, birth_date_of, mask_id, normalise_id
from fangpin.common.phone import mask_phone, normalise_phone
from fangpin.common.tabular import UnreadableFile, iter_rows

from .columns import Column
from .vocabularies import VOCABULARIES, read_measures, read_yes_no, shown

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


@dataclass(frozen=True)
class Fault:
    """A value as the national system itself holds it (a wrong check digit, a damaged ID, a bad phone,
    a word in no vocabulary): imported as it is and listed as a 数据疑点, unless the import is strict.
    The message never quotes an ID or a phone number."""

    row: int
    column: str
    kind: str
    message: str
    shown: str = ""  # the value as a message may show it (masked, cut)
    col_index: int | None = None

    def as_problem(self) -> Problem:
        return Problem(self.row, self.column, self.message, self.col_index)


@dataclass
class RowCells:
    """One data row, each cell read into its typed value, a fault kept with it, or a problem."""

    number: int
    parsed: dict[str, dict[str, Any]]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)


@dataclass(frozen=True)
class Read:
    """What one cell gave: a value, or a refusal (`error`), or a value kept with a fault."""

    value: Any
    error: str = ""
    note: str = ""
    fault: str = ""  # a fault kind: the value is kept and `error` says what is wrong with it
    shown: str = ""


CellParser = Callable[[object, str], Read]
EMPTY_VALUES = {"text": "", "enum": "", "id": "", "phone": "", "month": "", "list": []}


class FaultKind:
    PHONE = "phone_invalid"
    UNKNOWN = "value_unknown"
    MISSING = "value_missing"
    HOUSEHOLD_MISMATCH = "household_inconsistent"
    DUPLICATE = "duplicate_person"
    MISMATCH_BIRTH = "birth_mismatch"  # found again by DQ_BIRTH_ID: not recorded as a fault
    HEAD_COUNT = "head_count"  # found again by DQ_HEAD_COUNT
    # one 户主 per household (a database constraint): a second 户主 in the file is kept out of the field,
    # and a head the file replaces without listing them loses the title; DQ_HEAD_COUNT lists both
    EXTRA_HEAD = "extra_head"
    HEAD_REPLACED = "head_replaced"


def _parse_id(column: Column) -> CellParser:
    def parse(raw: object, id_type: str) -> Read:
        result = normalise_id(raw, allow_disability_card=id_type == "残疾人证")
        if result.fault == IdFault.OLD15:
            return Read(result.value, result.note, fault=result.fault, shown=mask_id(result.value))
        if result.error:
            return Read(result.text, result.error, fault=result.fault, shown=mask_id(result.text))
        return Read(result.value)

    return parse


def _parse_phone(column: Column) -> CellParser:
    def parse(raw: object, id_type: str) -> Read:
        value, error = normalise_phone(raw)
        if error:
            text = cells.text(raw)
            return Read(text, "不是11位手机号码或固定电话", fault=FaultKind.PHONE, shown=mask_phone(text))
        return Read(value)

    return parse


def _parse_text(column: Column) -> CellParser:
    vocabulary = VOCABULARIES.get(column.target)
    hint = (
        "、".join(vocabulary.values[:12]) + ("等" if len(vocabulary.values) > 12 else "")
        if vocabulary
        else ""
    )

    def parse(raw: object, id_type: str) -> Read:
        value = cells.text(raw)
        if vocabulary is not None:
            value, known = vocabulary.read(value)
            if not known:
                text = shown(cells.text(raw))
                return Read("", f"「{text}」不是有效值（可填：{hint}）", fault=FaultKind.UNKNOWN, shown=text)
        if len(value) > column.max_length:
            return Read(None, f"内容过长（{len(value)}字，最多{column.max_length}字）")
        return Read(value)

    return parse


def _parse_yes_no(column: Column) -> CellParser:
    def parse(raw: object, id_type: str) -> Read:
        if isinstance(raw, bool):
            return Read(raw)
        value, known = read_yes_no(cells.text(raw))
        if not known:
            text = shown(cells.text(raw))
            return Read(
                None,
                f"「{text}」不是是/否值（可填：是/否、Y/N、1/0、√/×）",
                fault=FaultKind.UNKNOWN,
                shown=text,
            )
        return Read(value)

    return parse


def _parse_list(column: Column) -> CellParser:
    def parse(raw: object, id_type: str) -> Read:
        return Read(read_measures(cells.split_list(raw)))

    return parse


def _simple(func: Callable[[object], Any], *, fault: bool = False) -> Callable[[Column], CellParser]:
    """A cell read by a function of cells; with `fault`, an unreadable value is kept as a fault
    (a date the national system holds in another form), else it refuses the file (a core number)."""

    def factory(column: Column) -> CellParser:
        largest = column.largest
        # not the bound itself (999999999999.99): quoted beside a long number it reads like one
        bound = f"最大为{largest}" if column.kind == "int" else f"整数部分最多{len(str(int(largest or 0)))}位"

        def parse(raw: object, id_type: str) -> Read:
            try:
                value = func(raw)
            except cells.CellError as exc:
                if fault:
                    return Read(None, str(exc), fault=FaultKind.UNKNOWN, shown=shown(cells.text(raw)))
                return Read(None, str(exc))
            if largest is not None and value is not None and abs(value) > largest:
                return Read(None, f"数值过大（{bound}）")
            return Read(value)

        return parse

    return factory


PARSERS: dict[str, Callable[[Column], CellParser]] = {
    "id": _parse_id,
    "phone": _parse_phone,
    "text": _parse_text,
    "enum": _parse_text,
    "yesno": _parse_yes_no,
    "money": _simple(cells.money),
    "area": _simple(cells.money),
    "decimal": _simple(cells.money),
    "money_signed": _simple(lambda raw: cells.money(raw, allow_negative=True)),
    "int": _simple(cells.integer),
    "date": _simple(cells.date, fault=True),
    "month": _simple(cells.month, fault=True),
    "list": _parse_list,
}
# Columns without which a row cannot be placed: an empty one refuses the file. Other required
# columns (姓名, 与户主关系) left empty are faults the national system holds, kept and listed.
PLACEMENT = {"region.township", "region.village", "household.household_no"}


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
            id_type = VOCABULARIES["member.id_type"].read(cells.text(values[self.id_type_index]))[0]
        width = len(values)
        for index, column, parser, entity, name, empty in self.steps:
            raw = values[index] if index < width else None
            if raw is None or raw == "" or (isinstance(raw, str) and not raw.strip()):
                parsed[entity][name] = list(empty) if isinstance(empty, list) else empty
                if column.required:
                    self._missing(row, column, index)
                continue
            read = parser(raw, id_type)
            if read.error and not read.fault:
                problems.append(Problem(number, column.label, read.error, index))
                continue
            if read.fault:
                row.faults.append(Fault(number, column.label, read.fault, read.error, read.shown, index))
            elif read.note:
                row.notes.append(f"第{number}行「{column.label}」列：{read.note}")
            parsed[entity][name] = read.value
            if column.required and read.value in (None, "", []) and not read.fault:
                self._missing(row, column, index)
        household, member = parsed["household"], parsed["member"]
        risks = [household.pop(f"risk_{i}") for i in range(1, 6) if f"risk_{i}" in household]
        if self.has_risks:
            household["risk_types"] = "、".join(dict.fromkeys(r for r in risks if r))
        if self.measure_groups:
            household["measures"] = {
                g: parsed["measure"][g] for g in self.measure_groups if parsed["measure"].get(g)
            }
        id_fault = next((f.kind for f in row.faults if f.column == "证件号码"), "")
        id_number = member.get("id_number")
        if (
            id_number
            and member.get("birth_date")
            and id_type in ("", "身份证")
            and id_fault not in UNUSABLE_FAULTS
        ):
            from_id = birth_date_of(id_number)
            if from_id and from_id != member["birth_date"]:
                # the screening's DQ_BIRTH_ID lists it; only a strict import refuses it
                row.faults.append(
                    Fault(number, "出生日期", FaultKind.MISMATCH_BIRTH, "与证件号码中的出生日期不一致", "")
                )
        row.extra = {
            label: cells.text(values[i]) for i, label in self.extras if i < width and values[i] is not None
        }
        return row

    @staticmethod
    def _missing(row: RowCells, column: Column, index: int) -> None:
        if column.target in PLACEMENT:
            row.problems.append(Problem(row.number, column.label, "必填，不能为空", index))
        elif column.target == "member.id_number":
            row.faults.append(Fault(row.number, column.label, IdFault.MISSING, "证件号码为空", "", index))
        else:
            row.faults.append(Fault(row.number, column.label, FaultKind.MISSING, "必填，不能为空", "", index))


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
    except UnreadableFile as exc:  # a file damaged past its header: its Chinese reason, unchanged
        out.put(("unreadable", str(exc)))
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
            elif kind == "unreadable":
                raise UnreadableFile(payload)
            elif kind == "error":
                raise RuntimeError(f"读取文件出错：{payload}")
            else:
                return
    finally:
        producer.kill()
        producer.join(timeout=5)
