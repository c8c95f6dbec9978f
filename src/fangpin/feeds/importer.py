"""Reading a department roster: header detection, column mapping, validation, matching.

The same rules as every import (formats §1): every cell is validated with a Chinese message naming
row and column; an Excel-damaged ID is reported, never matched by guesswork; all or nothing. Matching
uses the keyed hash of the ID number, so a department may also send hashed IDs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from fangpin.audit.actions import jsonable
from fangpin.common import cells
from fangpin.common.crypto import cipher
from fangpin.common.idnumber import normalise_id
from fangpin.common.tabular import UnreadableFile, head_rows, iter_rows
from fangpin.registry.columns import header_key
from fangpin.registry.models import Member
from fangpin.registry.rows import Problem, is_blank
from fangpin.retention.scrub import scrub

from .kinds import Field, RosterKind
from .models import Roster, RosterRecord

HEADER_SEARCH_ROWS = 12
CHUNK = 5000


class Rejected(Exception):
    """Raised inside the transaction to discard a roster with problems."""


HASHED = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Detection:
    header_row: int
    headers: list[str]
    suggested: dict[str, str]  # field key → header label


def _names(f: Field) -> set[str]:
    return {header_key(n) for n in (f.name, *f.synonyms)}


def detect(path: str, kind: RosterKind, saved: dict[str, str] | None = None) -> Detection | None:
    """The header row is the one that names most of the roster's columns; a saved mapping whose
    columns are all present is reused as it is."""
    best: tuple[int, int, list[str]] | None = None
    for number, values in head_rows(path, HEADER_SEARCH_ROWS):
        labels = [cells.text(v) for v in values]
        keys = {header_key(label) for label in labels if label}
        score = sum(1 for f in kind.fields if _names(f) & keys)
        if saved:
            score += sum(2 for label in saved.values() if header_key(label) in keys)
        if score and (best is None or score > best[0]):
            best = (score, number, labels)
    if best is None:
        return None
    _, number, labels = best
    present = {header_key(label): label for label in labels if label}
    if saved and all(header_key(label) in present for label in saved.values()):
        return Detection(number, labels, dict(saved))
    suggested = {}
    for f in kind.fields:
        match = next((present[k] for k in _names(f) if k in present), None)
        if match:
            suggested[f.key] = match
    return Detection(number, labels, suggested)


def positions(
    fields: Iterable[Field], mapping: dict[str, str], headers: list[str]
) -> list[tuple[Field, int | None]]:
    """Each field with the position of the file's column it is mapped to (None: not in the file). The
    mapping names a header as the file writes it; headers match as the registry's do (header_key)."""
    index = {header_key(label): i for i, label in enumerate(headers) if label}
    return [(f, index.get(header_key(mapping[f.key])) if mapping.get(f.key) else None) for f in fields]


@dataclass
class RosterResult:
    ok: bool = False
    rows: int = 0
    matched: int = 0
    unmatched: int = 0
    problems: list[Problem] = field(default_factory=list)


def _parse(f: Field, raw: object, roster: Roster) -> tuple[Any, str]:
    if raw is None or raw == "":
        return None, "必填，不能为空" if f.required else ""
    try:
        if f.kind == "id":
            text = cells.text(raw).lower()
            if roster.hashed_ids:
                return (text, "") if HASHED.match(text) else (None, "不是64位的证件号码哈希值")
            result = normalise_id(raw, allow_disability_card=roster.kind == "disability")
            return result.value, result.error
        if f.kind == "date":
            return cells.date(raw), ""
        if f.kind == "money":
            return cells.money(raw), ""
        value = cells.text(raw)
        return (value, "") if len(value) <= 100 else (None, "内容过长")
    except cells.CellError as exc:
        return None, str(exc)


def import_roster(roster: Roster, progress: Callable[[int, int | None], None] | None = None) -> RosterResult:
    kind = roster.roster_kind
    result = RosterResult()
    columns = positions(kind.fields, roster.mapping, roster.headers)
    for f, position in columns:
        if position is None and f.required:
            result.problems.append(Problem(roster.header_row, f.name, "必需的列没有对应到文件中的列"))
    if result.problems:
        return result
    digest = cipher().digest
    people = {h: (m, hh, r) for h, m, hh, r in Member.objects.values_list("id_number_hash", "id", "household_id",
                                                                           "region_code")}  # fmt: skip
    records: list[RosterRecord] = []
    try:
        with transaction.atomic(), closing(iter_rows(roster.file_path)) as rows:
            for number, values in rows:
                if number <= roster.header_row or is_blank(values):
                    continue
                result.rows += 1
                parsed: dict[str, Any] = {}
                for f, position in columns:
                    raw = values[position] if position is not None and position < len(values) else None
                    value, error = _parse(f, raw, roster)
                    if error:
                        # row and column find the cell: the message shows at most a masked number
                        result.problems.append(Problem(number, f.name, scrub(error), position))
                    parsed[f.key] = value
                if result.problems:
                    continue
                id_value = parsed.pop("id_number")
                id_hash = id_value if roster.hashed_ids else digest(id_value[:18], "id")
                member, household, region = people.get(id_hash, (None, None, ""))
                result.matched += member is not None
                records.append(RosterRecord(
                    roster=roster, kind=roster.kind, row_number=number, id_hash=id_hash, member_id=member,
                    household_id=household, region_code=region, date=parsed.pop("date", None),
                    values={k: jsonable(v) for k, v in parsed.items() if v not in (None, "")},
                ))  # fmt: skip
                if len(records) >= CHUNK:  # stream into the open transaction: rolled back on any problem
                    RosterRecord.objects.bulk_create(records, batch_size=2000)
                    records = []
                    if progress:
                        progress(result.rows, None)
            if result.rows == 0 and not result.problems:
                result.problems.append(Problem(roster.header_row, "", "表头下没有数据行"))
            if result.problems:
                raise Rejected
            RosterRecord.objects.bulk_create(records, batch_size=2000)
    except UnreadableFile as exc:
        result.problems.append(Problem(1, "", scrub(str(exc))))
    except Rejected:
        pass
    if result.problems:
        result.matched = 0
        return result
    result.unmatched = result.rows - result.matched
    result.ok = True
    return result
