"""Import of the national layouts (formats §1–§3) into the register.

Three steps. The first reads, parses and checks every row and stages the checked chunks (sealed, in an
unnamed temporary file) without writing anything: no write lock is held while a large file is read,
and a file with an error is refused without ever taking it (every problem is still listed at once).
The second plans every write, still without the lock: the register is read, rows are diffed, ids
allocated, audit entries built, and all of it staged as ready statement parameters (_Plan). The third
publishes the plan in one short transaction that reads no register row: it checks that the register
is as the plan read it, runs the staged statements and places the audit entries on the chain. When
the register changed meanwhile the import plans again, and after that writes everything inside the
transaction (_Direct). A killed process leaves an uncommitted transaction, which the database
discards, and no staged rows: nothing is ever half-written.

Only the columns present in the file are compared and written, so a §2 file never clears the
monitoring fields a §3 file set, and re-importing the same file changes nothing.

The population layouts (户籍人口信息, 村级花名册: registry.population) go the same three steps, with
their own rows' placement and writes (`_parse_population`, `_apply_population`): they fill only what
the register lacks and never move anybody; a national file takes people out of the 一般农户 they made.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q

from fangpin.audit import actions as audit
from fangpin.audit.keys import audit_keys
from fangpin.audit.models import Action, AuditEntry, ChainHead
from fangpin.common import bulk, cells
from fangpin.common.crypto import cipher
from fangpin.common.idnumber import UNUSABLE_FAULTS, mask_id
from fangpin.common.phone import mask_phone
from fangpin.common.tabular import UnreadableFile, estimate_rows, iter_rows
from fangpin.regions.models import Level, Region

from . import faults
from . import income as income_rules
from .columns import (
    HEADER_LOOKUP,
    LAYOUT_NAMES,
    MONITORING_COLUMNS,
    POPULATION_FIELDS,
    POPULATION_LAYOUTS,
    Column,
    header_key,
)
from .models import INCOME_COMPONENTS, Household, IncomeRecord, Member
from .population import PopulationRules, is_population_household
from .rows import Fault, FaultKind, Problem, RowCells, stream_rows

HEADER_SEARCH_ROWS = 12
# faults a later row shows about an earlier one: recorded at the end (_apply_late_faults), not per row
LATE_KINDS = {FaultKind.DUPLICATE, FaultKind.HOUSEHOLD_MISMATCH}
MIN_HEADER_MATCHES = 4
YEAR_IN_TITLE = re.compile(r"(20\d{2})\s*年")
PHONE_FIELDS = {"phone", "monitoring_contact_phone", "info_collector_phone"}
ERROR_COLUMN = "错误说明"  # the column our own error workbook adds; ignored on re-upload
# what a population file may fill on a household it created, when empty; never 户类型 or a category
POPULATION_HOUSEHOLD_FIELDS = {"current_size", "annual_size", "phone"}
TARGET_LABELS = {c.target: c.label for c in reversed(HEADER_LOOKUP.values())}  # the first column's label
# what a population file fills on a person the register already holds, when empty there: the national
# export's facts (household, relation, name, the recorded faults) are never touched
FILLABLE_MEMBER_FIELDS = ("gender", "birth_date", "ethnicity", "political_status", "education", "phone")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportResult:
    ok: bool = False
    layout: str = "member"
    year: int = 0
    header_row: int = 0
    rows: int = 0
    households: Counts = field(default_factory=Counts)
    members: Counts = field(default_factory=Counts)
    incomes: Counts = field(default_factory=Counts)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conversions: int = 0
    income_discrepancies: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    strict: bool = False
    needs_confirmation: bool = False  # value faults found: nothing written until the user confirms
    moves: int = 0  # people moved from another household (only when moves were confirmed)
    # people a national file took from the 一般农户 a 户籍/花名册 import had placed them in
    from_population: int = 0
    registered: int = 0  # people of a population file the national export already holds (left as they are)
    # seconds spent reading and checking (no lock), and publishing (the one write transaction)
    check_seconds: float = 0.0
    publish_seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in (self.households, self.members, self.incomes))

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "layout": self.layout,
            "year": self.year,
            "header_row": self.header_row,
            "rows": self.rows,
            "households": self.households.as_dict(),
            "members": self.members.as_dict(),
            "incomes": self.incomes.as_dict(),
            "problem_count": len(self.problems),
            "conversions": self.conversions,
            "income_discrepancies": self.income_discrepancies,
            "unknown_columns": self.unknown_columns,
            "notes": self.notes[:200],
            "faults": self.fault_counts(),
            "fault_count": len(self.faults),
            "needs_confirmation": self.needs_confirmation,
            "strict": self.strict,
            "moves": self.moves,
            "from_population": self.from_population,
            "registered": self.registered,
            "layout_name": LAYOUT_NAMES.get(self.layout, ""),
            "check_seconds": round(self.check_seconds, 1),
            "publish_seconds": round(self.publish_seconds, 1),
        }

    def fault_counts(self) -> list[dict[str, Any]]:
        """Counts by kind, with the Chinese name and the rule that will list them after the import."""
        counts = Counter(f.kind for f in self.faults)
        return [
            {"kind": kind, "label": faults.label(kind), "count": n, "rule": faults.FAULT_TYPES[kind].rule}
            for kind, n in counts.most_common()
        ]


class Rollback(Exception):
    """Raised inside the transaction to discard it when the file had errors."""


@dataclass
class ParsedRow:
    number: int
    household_key: str
    region: Region | None
    household: dict[str, Any]
    member: dict[str, Any]
    income: dict[str, Any]
    extra: dict[str, str]
    problems: list[Problem]
    member_faults: dict[str, dict[str, str]] = field(default_factory=dict)
    household_faults: dict[str, dict[str, str]] = field(default_factory=dict)
    id_unusable: bool = False  # keyed by 人口编号: the number names nobody
    duplicate_of: int = 0  # the file's earlier row of the same person: this row is not written
    left_out: bool = False  # a population file's row of no rural person (non-agricultural, cancelled)


@dataclass
class Header:
    row: int
    columns: list[tuple[int, Column]]
    extras: list[tuple[int, str]]
    titles: list[str]

    @property
    def layout(self) -> str:
        """§3 when a monitoring column is present, §2 when the national 户编号 keys the households; else a
        population layout: 户籍 by its 户号 or a column only 公安 writes, 村级花名册 by its 户主姓名 or 组别
        (or a 序号 without 户主证件号码). Any other file is §2 (keyed by 户主证件号码, or missing its 户编号)."""
        targets = {c.target for _, c in self.columns}
        if targets & {c.target for c in MONITORING_COLUMNS}:
            return "monitoring"
        fields = {target.split(".", 1)[1] for target in targets if target.startswith("household.")}
        if "household_no" in fields:
            return "member"
        if fields & {"register_no", "register_category", "cancelled", "address"}:
            return "huji"
        # a 序号 alone does not make a roster of a file keyed by 户主证件号码 (the §2 fallback)
        if fields & {"listed_head", "group"} or ("serial" in fields and "head_id" not in fields):
            return "roster"
        return "member"


# --- header --------------------------------------------------------------------------------------


def find_header(rows: Iterator[tuple[int, list[object]]]) -> Header | None:
    """The header is the row among the first few that matches most known column names.

    National exports may split it over two rows with merged cells: 家庭成员信息 merged over 姓名,
    证件号码…; 致贫/返贫风险 merged over 1, 2…; 户编号 merged down both rows. A merge keeps its label
    in its first cell only, so an upper label is carried over the cells after it. When the row just
    above or below continues the header (mostly header labels or sub-labels, nothing like data) and
    the two together name more known columns, each column takes the lower label if it is a known
    column, else upper and lower joined, else the upper one; the data starts after the lower row."""
    subtotals = {"小计", "合计"}
    rows = iter(rows)

    def known(label: str) -> bool:
        return header_key(label) in HEADER_LOOKUP

    def score(labels: list[str]) -> int:
        return sum(1 for label in labels if label and known(label))

    def texts(values: list[object]) -> list[str]:
        return [cells.text(v) for v in values]

    def combine(upper: list[str], lower: list[str]) -> list[str]:
        labels: list[str] = []
        carried = ""  # the label of a merge across columns, over the cells after its first
        for i in range(max(len(upper), len(lower))):
            up = upper[i] if i < len(upper) else ""
            low = lower[i] if i < len(lower) else ""
            carried = up if up and low else carried if low and not up else ""
            group = up or carried
            if not low or not group:
                labels.append(up or low)  # merged down both rows, or a label in one row only
            elif known(low):
                labels.append(low)
            elif known(group + low) or known(low + group):  # 致贫/返贫风险 + 1; 其他 + 转移性收入
                labels.append(group + low if known(group + low) else low + group)
            elif low in subtotals and known(group):
                labels.append(group)
            else:
                labels.append(f"{group}-{low}")
        return labels

    def data_like(values: list[object]) -> bool:
        for v in values:
            if isinstance(v, dt.date | bool):
                return True
            if isinstance(v, int | float) and not (float(v).is_integer() and 0 < v < 100):
                return True  # a header's numbers are sub-labels (1, 2, …), not amounts
            text = cells.text(v)
            if len(text) >= 5 and text.isdigit():
                return True  # an ID, a phone, a household number
        return False

    def continues(other: list[object], merged: list[str], alone: int) -> bool:
        if data_like(other) or score(merged) <= alone:
            return False
        filled = [(i, text) for i, text in enumerate(texts(other)) if text]
        fitting = sum(1 for i, text in filled if known(text) or (i < len(merged) and known(merged[i])))
        return bool(filled) and fitting * 3 >= len(filled) * 2

    seen: list[tuple[int, list[object]]] = []
    best: tuple[int, int] | None = None  # (matches, index in seen)
    for number, values in rows:
        seen.append((number, values))
        matches = score(texts(values))
        if matches >= MIN_HEADER_MATCHES and (best is None or matches > best[0]):
            best = (matches, len(seen) - 1)
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        return None
    index = best[1]
    if index == len(seen) - 1 and (following := next(rows, None)) is not None:
        seen.append(following)  # the lower header row may lie just past the rows searched
    number, values = seen[index]
    labels, first = texts(values), index
    candidates = []
    if index > 0 and seen[index - 1][0] == number - 1:
        upper = seen[index - 1][1]
        candidates.append((combine(texts(upper), labels), upper, index - 1, index))
    if index + 1 < len(seen) and seen[index + 1][0] == number + 1:
        lower = seen[index + 1][1]
        candidates.append((combine(labels, texts(lower)), lower, index, index + 1))
    fitting = [c for c in candidates if continues(c[1], c[0], best[0])]
    note = ""
    if fitting:
        merged, _, first, last = max(fitting, key=lambda c: score(c[0]))
        labels, number = merged, seen[last][0]
        note = f"表头为两行（第{seen[first][0]}–{number}行），已合并"
    columns: list[tuple[int, Column]] = []
    extras: list[tuple[int, str]] = []
    used: set[str] = set()
    for i, label in enumerate(labels):
        if not label or label == ERROR_COLUMN:
            continue
        column = HEADER_LOOKUP.get(header_key(label))
        if column is None or column.target in used:
            extras.append((i, label))
        else:
            used.add(column.target)
            columns.append((i, column))
    titles = [" ".join(cells.text(v) for v in vals if v is not None) for _, vals in seen[:first]]
    header = Header(number, columns, extras, [*titles, note] if note else titles)
    if header.layout not in POPULATION_LAYOUTS:
        # a national file's 序号, 备注 or 住址 is no column of its layout: kept as the file wrote it
        own = [(i, c) for i, c in columns if c.entity == "household" and c.field in POPULATION_FIELDS]
        header.columns = [(i, c) for i, c in columns if (i, c) not in own]
        header.extras = sorted([*extras, *((i, labels[i]) for i, _ in own)])
    return header


# --- cells ---------------------------------------------------------------------------------------


# --- the import ----------------------------------------------------------------------------------


def find_village(
    number: int,
    data: dict[str, Any],
    by_code: dict[str, Region],
    by_name: dict[tuple[str, str], Region],
    problems: list[Problem],
) -> Region | None:
    """A row's village: by its 行政区划代码, else by 乡镇 + 村 name; one the region table lacks is a problem."""
    if code := data.get("code"):
        region = by_code.get(code)
        if region is None:
            problems.append(Problem(number, "行政区划代码", f"「{code}」不是区划表中的村级代码"))
        return region
    township, village = data.get("township", ""), data.get("village", "")
    if not township or not village:
        return None
    region = by_name.get((township, village))
    if region is None:
        problems.append(Problem(number, "村", f"「{township}{village}」不在行政区划表中，请先导入区划表"))
    return region


class _Importer:
    def __init__(self, header: Header, year: int, result: ImportResult, *, allow_moves: bool = False) -> None:
        self.header = header
        self.year = year
        self.result = result
        self.allow_moves = allow_moves
        self.cipher = cipher()
        self.policy = income_rules.policy_for(year)
        villages = list(Region.objects.filter(level=Level.VILLAGE).select_related("parent"))
        self.villages_by_name = {(v.parent.name if v.parent else "", v.name): v for v in villages}
        self.villages_by_code = {v.code: v for v in villages}
        self.layout = header.layout
        # a 户籍 or 花名册 file: only fills what the register lacks, and never moves anybody
        self.population = (
            PopulationRules(self.layout, header.columns, header.titles, villages)
            if self.layout in POPULATION_LAYOUTS
            else None
        )
        self.linked_hashes: set[str] = set()  # people created or moved: their roster rows are linked anew
        self.left_population: set[int] = set()  # HJ/HMC households a national file took people from
        self.household_signature: dict[str, tuple[int, int]] = {}  # key → (hash of fields, first row)
        self.household_pk: dict[str, int] = {}
        self.head_rows: Counter[str] = Counter()
        self.first_head_row: dict[str, int] = {}
        self.head_name: dict[str, str] = {}
        self.applied_head_name: dict[str, str] = {}
        self.seen_ids: dict[str, tuple[int, str]] = {}  # member key → (first row, household key)
        self.late_faults: dict[str, dict[str, dict[str, str]]] = {}  # member key → faults found later
        self.late_household_faults: dict[str, dict[str, dict[str, str]]] = {}
        self.needs_divisor: set[str] = set()  # household keys without a 人口数 column
        self.household_code: dict[str, str] = {}  # key → region code, beside household_pk
        # person numbers of rows whose ID is unusable: the register is searched by them (a corrected ID)
        self.unusable_person_nos: set[str] = set()
        self.divisor_households: set[int] = set()  # pks of the needs_divisor households
        self.checked_faults = 0  # faults the checks found; the writing adds the ones only the register shows
        self.checked_notes: int | None = None  # likewise the notes
        self.out: _Direct | _Plan = _Direct()
        self.overlay: _Overlay | None = None
        self.has_income = self.population is None and any(c.entity == "income" for _, c in header.columns)
        columns = [c for _, c in header.columns]
        self.field_of_label = {c.label: c.field for c in columns if c.entity == "member"}
        # the file's columns decide which recorded faults it can confirm or clear
        self.member_labels = {c.label for c in columns if c.entity == "member"}
        self.household_labels = {c.label for c in columns if c.entity in ("household", "income", "region")}
        self.household_labels.add("户编号")

    # -- validation --

    def parse(self, row: RowCells) -> ParsedRow:
        """The checks that need more than one cell or row: keys, regions, duplicates, heads."""
        number, problems = row.number, row.problems
        household, member = row.parsed["household"], row.parsed["member"]
        if row.notes:
            self.result.conversions += len(row.notes)
            self.result.notes.extend(row.notes)
        if self.population is not None:
            return self._parse_population(row)
        row_faults = list(row.faults)
        head_id = household.pop("head_id", "")
        key = household.pop("household_no", "") or ""
        head_id_fault = next((f.kind for f in row_faults if f.column == "户主证件号码"), "")
        if not key and head_id and head_id_fault in UNUSABLE_FAULTS:
            problems.append(
                Problem(number, "户主证件号码", "没有户编号，户主证件号码又已损坏：无法确定是哪一户")
            )
        elif not key and head_id:
            key = "HZ" + self.cipher.digest(head_id, "id")[:24]
        if not key and not any(p.column in {"户编号", "户主证件号码"} for p in problems):
            problems.append(Problem(number, "户编号", "必填，不能为空"))
        region = self._region(number, row.parsed["region"], problems)
        id_fault = next((f.kind for f in row_faults if f.column == faults.ID_COLUMN), "")
        id_unusable = id_fault in UNUSABLE_FAULTS
        member_key = ""
        if id_unusable:
            if person_no := member.get("person_no"):
                member_key = self.cipher.digest(f"人口编号:{person_no}", "id")
                self.unusable_person_nos.add(person_no)
            else:
                problems.append(
                    Problem(
                        number, "人口编号", "证件号码无效且没有人口编号：无法确定是哪一个人，请补上人口编号"
                    )
                )
        elif id_number := member.get("id_number"):
            member_key = self.cipher.digest(id_number[:18], "id")
        member["id_hash"] = member_key
        duplicate_of = 0
        if member_key:
            if (first := self.seen_ids.get(member_key)) is not None:
                duplicate_of = first[0]
                fault = Fault(
                    number,
                    faults.ID_COLUMN,
                    FaultKind.DUPLICATE,
                    f"与第{first[0]}行为同一人（同一人出现两次）",
                )
                row_faults.append(fault)
                self.late_faults.setdefault(member_key, {})[faults.DUPLICATE_KEY] = {
                    "kind": FaultKind.DUPLICATE,
                    "shown": f"户编号{key}（第{number}行）" if key != first[1] else f"第{number}行",
                }
            else:
                self.seen_ids[member_key] = (number, key)
        household_faults: dict[str, dict[str, str]] = {}
        if key and not any(p.column == "户编号" for p in problems):
            signature = hash(
                (*sorted((k, repr(v)) for k, v in household.items()), region.pk if region else 0)
            )
            if key not in self.household_signature:
                self.household_signature[key] = (signature, number)
            elif self.household_signature[key][0] != signature:
                first_row = self.household_signature[key][1]
                row_faults.append(
                    Fault(
                        number,
                        "户编号",
                        FaultKind.HOUSEHOLD_MISMATCH,
                        f"同一户的户级信息与第{first_row}行不一致",
                    )
                )
                self.late_household_faults.setdefault(key, {})["户编号"] = {
                    "kind": FaultKind.HOUSEHOLD_MISMATCH,
                    "shown": f"第{first_row}行与第{number}行",
                }
            if member.get("relation") == "户主" and not duplicate_of:
                self._one_head(key, number, member, row_faults)
                self.head_rows[key] += 1
        member_faults: dict[str, dict[str, str]] = {}
        for fault in row_faults:
            if not faults.FAULT_TYPES[fault.kind].stored or fault.kind in LATE_KINDS:
                continue
            target = member_faults if fault.column in self.member_labels else household_faults
            target[fault.column] = {"kind": fault.kind, "shown": fault.shown}
        self.result.faults.extend(row_faults)
        parsed = ParsedRow(number, key, region, household, member, row.parsed["income"], row.extra, problems)
        parsed.member_faults, parsed.household_faults = member_faults, household_faults
        parsed.id_unusable, parsed.duplicate_of = id_unusable, duplicate_of
        return parsed

    def _parse_population(self, row: RowCells) -> ParsedRow:
        """A 户籍 or 花名册 row: left out when it is no rural person, else placed in its village and 户
        (registry.population). An ID that names nobody refuses the file: these files have no 人口编号
        to key such a person by, and a number Excel damaged is reported, never guessed."""
        assert self.population is not None
        number, problems = row.number, row.problems
        household, member = row.parsed["household"], row.parsed["member"]
        listed = {
            name: household.pop(name) for name in (*POPULATION_FIELDS, "current_size") if name in household
        }
        head_id = household.pop("head_id", "")
        household.pop("household_no", None)
        row_faults = list(row.faults)
        id_fault = next((f for f in row_faults if f.column == faults.ID_COLUMN), None)
        member_key = ""
        if id_fault is not None and id_fault.kind in UNUSABLE_FAULTS:
            problems.append(Problem(number, faults.ID_COLUMN,
                                    f"{id_fault.message}（户籍、花名册没有人口编号，这一行无法确定是哪一个人）",
                                    id_fault.col_index))  # fmt: skip
        elif id_number := member.get("id_number"):
            member_key = self.cipher.digest(id_number[:18], "id")
        head_fault = next((f for f in row_faults if f.column == "户主证件号码"), None)
        head_key = ""
        if head_id and head_fault is not None and head_fault.kind in UNUSABLE_FAULTS:
            problems.append(Problem(number, "户主证件号码", f"{head_fault.message}：无法确定是哪一户",
                                    head_fault.col_index))  # fmt: skip
        elif head_id:
            head_key = self.cipher.digest(head_id[:18], "id")
        placement = self.population.place(
            number, row.parsed["region"], listed, member, member_key, head_key, problems
        )
        if placement.left_out:  # no rural person: neither their problems nor their faults concern the county
            return ParsedRow(number, "", None, {}, {}, {}, {}, [], left_out=True)
        if row.notes:
            self.result.conversions += len(row.notes)
            self.result.notes.extend(row.notes)
        member["id_hash"] = member_key
        key, duplicate_of = placement.key, 0
        if member_key:
            if (first := self.seen_ids.get(member_key)) is not None:
                duplicate_of = first[0]
                row_faults.append(Fault(number, faults.ID_COLUMN, FaultKind.DUPLICATE,
                                        f"与第{first[0]}行为同一人（同一人出现两次）"))  # fmt: skip
                self.late_faults.setdefault(member_key, {})[faults.DUPLICATE_KEY] = {
                    "kind": FaultKind.DUPLICATE,
                    "shown": f"户编号{key}（第{number}行）" if key != first[1] else f"第{number}行",
                }
            else:
                self.seen_ids[member_key] = (number, key)
        if key and member.get("relation") == "户主" and not duplicate_of:
            self._one_head(key, number, member, row_faults)
        member_faults: dict[str, dict[str, str]] = {}
        household_faults: dict[str, dict[str, str]] = {}
        for fault in row_faults:
            if not faults.FAULT_TYPES[fault.kind].stored or fault.kind in LATE_KINDS:
                continue
            target = member_faults if fault.column in self.member_labels else household_faults
            target[fault.column] = {"kind": fault.kind, "shown": fault.shown}
        self.result.faults.extend(row_faults)
        # national household columns a population file may carry (户类型, 监测对象类别): the national export
        # decides them, so they are kept with the person as the file wrote them and change nothing
        extra = dict(row.extra) | placement.extra
        # (and income columns: a 户籍 or 花名册 is no income accounting)
        for entity, values in (("household", household), ("income", row.parsed["income"])):
            for name, value in values.items():
                if name not in POPULATION_HOUSEHOLD_FIELDS and value not in (None, "", [], {}):
                    extra[TARGET_LABELS.get(f"{entity}.{name}", name)] = str(value)
        kept = {name: value for name, value in household.items() if name in POPULATION_HOUSEHOLD_FIELDS}
        parsed = ParsedRow(number, key, placement.region, kept, member, {}, extra, problems)
        parsed.member_faults, parsed.household_faults = member_faults, household_faults
        parsed.duplicate_of = duplicate_of
        return parsed

    def _one_head(self, key: str, number: int, member: dict[str, Any], row_faults: list[Fault]) -> None:
        """One 户主 per household: the first row keeps the title, a later one is listed as a fault."""
        if key in self.first_head_row:
            member["relation"] = ""
            row_faults.append(
                Fault(number, faults.RELATION_COLUMN, FaultKind.EXTRA_HEAD,
                      f"本户第{self.first_head_row[key]}行已是户主：本行未登记为户主，请核实", shown="户主")
            )  # fmt: skip
        else:
            self.first_head_row[key] = number
            self.head_name[key] = member.get("name", "")

    def _read(self, model: type, where: Q, match: Callable[[Any], bool]) -> list[Any]:
        """Rows as the writing has left them so far. Written at once, that is the database; planned, it is
        the database with what the plan changed or created laid over it (both reach the database only
        with the publish). `match` is `where` in Python, for rows the plan changed."""
        found = list(model.objects.filter(where))
        return found if self.overlay is None else self.overlay.read(model, found, match)

    def _note_insert(self, model: type, objects: list[Any]) -> None:
        if self.overlay is not None:
            self.overlay.inserted(model, objects)

    def _region(self, number: int, data: dict[str, Any], problems: list[Problem]) -> Region | None:
        return find_village(number, data, self.villages_by_code, self.villages_by_name, problems)

    def finish_checks(self) -> None:
        """Households without a 户主: DQ_HEAD_COUNT lists them after the import. A population file's
        户 may lack its head here because the head sits in a national household: the rule decides."""
        if self.population is not None:
            self.result.notes.extend(self.population.note_lines())
            return
        for key, (_, first_row) in self.household_signature.items():
            if not self.head_rows.get(key):  # several heads are listed row by row (EXTRA_HEAD)
                message = f"户编号{key}的家庭没有户主"
                self.result.faults.append(
                    Fault(first_row, faults.RELATION_COLUMN, FaultKind.HEAD_COUNT, message)
                )

    # -- writing --

    def write(
        self, staged: _Staged, out: _Direct | _Plan, overlay: _Overlay | None, report: Callable[[int], None]
    ) -> None:
        """Everything the checked rows change, through `out`: written at once (inside the transaction), or
        planned for a short publish (with the overlay answering for the rows the plan already changed)."""
        self.out, self.overlay = out, overlay
        self.household_pk, self.household_code, self.applied_head_name = {}, {}, {}
        self.needs_divisor, self.divisor_households = set(), set()
        result = self.result
        result.households, result.members, result.incomes = Counts(), Counts(), Counts()
        result.moves = result.income_discrepancies = result.from_population = result.registered = 0
        self.linked_hashes, self.left_population = set(), set()
        if self.checked_notes is None:  # the writing's own notes are made again with each plan
            self.checked_notes = len(result.notes)
        del result.notes[self.checked_notes :]
        del result.faults[self.checked_faults :]
        written = 0
        for chunk in staged.chunks():
            self.apply(chunk)
            written += len(chunk)
            report(result.rows + written)
        self.finish_writes()

    def _set_phone(self, obj: Any, name: str, value: str, changed: dict[str, tuple[Any, Any]]) -> None:
        digest = self.cipher.digest(value, "phone")
        if getattr(obj, f"{name}_hash") == digest:
            return
        changed[f"{name}_masked"] = (getattr(obj, f"{name}_masked"), mask_phone(value))
        setattr(obj, f"{name}_enc", self.cipher.encrypt(value, "phone"))
        setattr(obj, f"{name}_hash", digest)
        setattr(obj, f"{name}_masked", mask_phone(value))
        changed[f"{name}_hash"] = (None, digest)

    def _assign(self, obj: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        changed: dict[str, tuple[Any, Any]] = {}
        for name, value in values.items():
            if name in PHONE_FIELDS:
                self._set_phone(obj, name, value, changed)
                continue
            value = "" if value is None and isinstance(getattr(obj, name), str) else value
            if getattr(obj, name) != value:
                changed[name] = (getattr(obj, name), value)
                setattr(obj, name, value)
        return changed

    def apply(self, rows: list[ParsedRow]) -> None:
        if self.population is not None:
            self._apply_population(rows)
            return
        entries: list[audit.PendingEntry] = []
        first_rows: dict[str, ParsedRow] = {}
        for row in rows:
            if row.household_key not in self.household_pk:
                first_rows.setdefault(row.household_key, row)
        households = self._apply_households(first_rows, rows, entries)
        self._apply_members(rows, households, entries)
        self.out.audit(entries)

    def _income_values(
        self, row: ParsedRow, household: Household, existing: IncomeRecord | None, member_rows: int
    ) -> tuple[IncomeRecord, dict[str, tuple[Any, Any]]]:
        record = existing or IncomeRecord(
            household=household, region_code=household.region_code, year=self.year
        )
        changed = self._assign(record, row.income)
        if record.region_code != household.region_code:
            changed["region_code"] = (record.region_code, household.region_code)
            record.region_code = household.region_code
        values = {name: getattr(record, name) for name in (*INCOME_COMPONENTS, "reported_per_capita")}
        computed = income_rules.compute(
            values,
            policy=self.policy,
            annual_size=household.annual_size,
            current_size=household.current_size,
            member_count=member_rows,
            claims_income=household.claims_income,
        )
        if not (household.annual_size or household.current_size):
            self.needs_divisor.add(household.household_no)
        changed |= self._assign(
            record,
            {
                "computed_net": computed.net,
                "computed_per_capita": computed.per_capita,
                "divisor_size": computed.divisor,
                "discrepancy": computed.discrepancy,
                "policy_id": self.policy.pk if self.policy else None,
            },
        )
        return record, changed

    def _apply_households(
        self, first_rows: dict[str, ParsedRow], rows: list[ParsedRow], entries: list[audit.PendingEntry]
    ) -> dict[str, Household | _HouseholdRef]:
        keys = list(first_rows)
        existing = {h.household_no: h for h in Household.objects.filter(household_no__in=keys)}
        member_rows = Counter(r.household_key for r in rows)
        to_create: list[Household] = []
        updates: list[tuple[Household, dict[str, tuple[Any, Any]]]] = []
        incomes: dict[str, IncomeRecord | None] = {}
        if self.has_income and existing:
            incomes = {
                r.household.household_no: r
                for r in IncomeRecord.objects.filter(
                    household__in=existing.values(), year=self.year
                ).select_related("household")
            }
        income_create: list[tuple[str, IncomeRecord]] = []
        income_updates: list[tuple[IncomeRecord, dict[str, tuple[Any, Any]]]] = []
        result = self.result
        for key, row in first_rows.items():
            household = existing.get(key)
            is_new = household is None
            if is_new:
                household = Household(household_no=key, region=row.region, region_code=row.region.code)
            changed = self._assign(household, row.household)
            if household.region_id != row.region.pk:
                changed["region_id"] = (household.region_id, row.region.pk)
                household.region, household.region_code = row.region, row.region.code
                changed["region_code"] = (None, row.region.code)
            if key in self.head_name:
                changed |= self._assign(household, {"head_name": self.head_name[key]})
            recorded = self._merged(household.value_faults, row.household_faults, self.household_labels)
            changed |= self._assign(household, {"value_faults": recorded})
            self.applied_head_name[key] = household.head_name
            if self.has_income:
                record, income_changed = self._income_values(
                    row, household, incomes.get(key), member_rows[key]
                )
                if record.pk is None:
                    income_create.append((key, record))
                elif income_changed:
                    income_updates.append((record, income_changed))
                else:
                    result.incomes.unchanged += 1
                if record.discrepancy is not None:
                    result.income_discrepancies += 1
                if household.income_year is None or household.income_year <= self.year:
                    changed |= self._assign(
                        household, {"income_year": self.year, "per_capita_income": record.computed_per_capita}
                    )
            if is_new:
                to_create.append(household)
            elif changed:
                updates.append((household, changed))
            else:
                result.households.unchanged += 1
        self.out.insert(Household, to_create)
        self._note_insert(Household, to_create)
        for household in to_create:
            entries.append(self._create_entry(household, household.pk))
        result.households.created += len(to_create)
        self._bulk_update(Household, updates, entries, lambda h: h.pk)
        result.households.updated += len(updates)
        by_key: dict[str, Household | _HouseholdRef] = {
            h.household_no: h for h in (*existing.values(), *to_create)
        }
        for key, household in by_key.items():
            self.household_pk[key] = household.pk
            self.household_code[key] = household.region_code
            if key in self.needs_divisor:
                self.divisor_households.add(household.pk)
        # income records of new households need the household's pk first
        for key, record in income_create:
            record.household = by_key[key]
        self.out.insert(IncomeRecord, [r for _, r in income_create])
        self._note_insert(IncomeRecord, [r for _, r in income_create])
        for _, record in income_create:
            entries.append(self._create_entry(record, record.household_id))
        result.incomes.created += len(income_create)
        self._bulk_update(IncomeRecord, income_updates, entries, lambda r: r.household_id)
        result.incomes.updated += len(income_updates)
        # households written for an earlier chunk: the members need only their id and region
        for key in {r.household_key for r in rows} - set(by_key):
            by_key[key] = _HouseholdRef(self.household_pk[key], self.household_code[key])
        return by_key

    def _apply_members(
        self,
        rows: list[ParsedRow],
        households: dict[str, Household | _HouseholdRef],
        entries: list[audit.PendingEntry],
    ) -> None:
        rows = [r for r in rows if not r.duplicate_of]
        hashes = [r.member["id_hash"] for r in rows]
        wanted = set(hashes)
        existing = {
            m.id_number_hash: m
            for m in self._read(Member, Q(id_number_hash__in=hashes), lambda m: m.id_number_hash in wanted)
        }
        # a person whose damaged ID the village has corrected is found by 人口编号, and keeps the true ID
        unusable = [
            r.member["person_no"] for r in rows if r.id_unusable and r.member["id_hash"] not in existing
        ]
        corrected = {}
        if unusable:
            numbers = set(unusable)
            found = self._read(Member, Q(person_no__in=unusable), lambda m: m.person_no in numbers)
            corrected = {m.person_no: m for m in sorted(found, key=lambda m: m.pk)}
            if self.overlay is not None and any(
                self.overlay.person_nos.get(n, 0) not in {0, *(m.pk for m in found)} for n in numbers
            ):
                raise _Unplannable  # the plan gave this person number to someone: the database must say who
        to_create: list[Member] = []
        updates: list[tuple[Member, dict[str, tuple[Any, Any]]]] = []
        moved: set[int] = set()
        # people a 户籍 or 花名册 import placed in a 一般农户 of its own: the national export names their
        # household, so it takes them in without a confirmation (the national export wins)
        provisional = {
            pk
            for pk, number in Household.objects.filter(
                pk__in={m.household_id for m in (*existing.values(), *corrected.values())}
            ).values_list("pk", "household_no")
            if is_population_household(number)
        }
        from_population: set[int] = set()
        for row in rows:
            household = households[row.household_key]
            values = dict(row.member)
            id_number, digest = values.pop("id_number"), values.pop("id_hash")
            member_faults = row.member_faults
            member = existing.get(digest)
            if member is None and row.id_unusable and (member := corrected.get(values.get("person_no", ""))):
                member_faults = {k: v for k, v in member_faults.items() if k != faults.ID_COLUMN}
            if member is None:
                member = Member(
                    household_id=household.pk,
                    region_code=household.region_code,
                    id_number_enc=self.cipher.encrypt(id_number, "id"),
                    id_number_hash=digest,
                    id_number_masked=mask_id(id_number),
                )
                self._assign(member, values)
                member.extra = row.extra
                member.value_faults = member_faults
                member.id_fault = _id_fault(member_faults)
                to_create.append(member)
                if not row.id_unusable:  # a damaged number matches no roster row
                    self.linked_hashes.add(digest)
                continue
            recorded = self._merged(member.value_faults, member_faults, self.member_labels)
            if member.household_id != household.pk and member.household_id in provisional:
                from_population.add(member.pk)
                self.left_population.add(member.household_id)
            elif member.household_id != household.pk and not self.allow_moves:
                # never a silent move: the person stays where the register has them, and is listed
                recorded = member.value_faults | {
                    faults.DUPLICATE_KEY: {
                        "kind": FaultKind.DUPLICATE,
                        "shown": f"户编号{row.household_key}（第{row.number}行）",
                    }
                }
                self.result.faults.append(
                    Fault(
                        row.number,
                        faults.ID_COLUMN,
                        FaultKind.DUPLICATE,
                        "此人已登记在另一户中：未迁移（确认人员迁移后才迁入本户）",
                    )
                )
                changed = self._assign(member, {"value_faults": recorded, "id_fault": _id_fault(recorded)})
                if changed:
                    updates.append((member, changed))
                continue
            recorded.pop(faults.DUPLICATE_KEY, None)
            changed = self._assign(
                member, values | {"value_faults": recorded, "id_fault": _id_fault(recorded)}
            )
            if member.household_id != household.pk:
                moved.add(member.pk)
                self.linked_hashes.add(member.id_number_hash)
                if member.pk in from_population:
                    self.result.from_population += 1
                else:
                    self.result.moves += 1
            for name, value in (("household_id", household.pk), ("region_code", household.region_code)):
                if getattr(member, name) != value:
                    changed[name] = (getattr(member, name), value)
                    setattr(member, name, value)
            merged = member.extra | row.extra
            if merged != member.extra:
                changed["extra"] = (member.extra, merged)
                member.extra = merged
            if changed:
                updates.append((member, changed))
            else:
                self.result.members.unchanged += 1
        head_rows = {
            households[r.household_key].pk: r.number for r in rows if r.member.get("relation") == "户主"
        }
        self._make_room_for_heads([*to_create, *(m for m, _ in updates)], head_rows, entries)
        self.out.insert(Member, to_create)
        self._note_insert(Member, to_create)
        for member in to_create:
            entries.append(self._create_entry(member, member.household_id))
        self.result.members.created += len(to_create)
        self._bulk_update(
            Member,
            updates,
            entries,
            lambda m: m.household_id,
            detail=lambda m: (
                "按国家系统导出迁入（原为户籍、花名册登记的一般农户）"
                if m.pk in from_population
                else "人员迁移（导入时确认）"
                if m.pk in moved
                else "导入更新"
            ),
        )
        self.result.members.updated += len(updates)

    # -- the population layouts --

    def _apply_population(self, rows: list[ParsedRow]) -> None:
        """A 户籍 or 花名册 chunk. A person the register holds stays where the national export put them,
        with every fact it set: only fields empty in the register are filled. A person it lacks joins
        the file's 户, a 一般农户 created for them (registry.population names it)."""
        entries: list[audit.PendingEntry] = []
        rows = [r for r in rows if not r.duplicate_of]
        hashes = [r.member["id_hash"] for r in rows]
        wanted = set(hashes)
        existing = {
            m.id_number_hash: m
            for m in self._read(Member, Q(id_number_hash__in=hashes), lambda m: m.id_number_hash in wanted)
        }
        new_rows = [r for r in rows if r.member["id_hash"] not in existing]
        households = self._population_households(new_rows, entries)
        national = {
            pk
            for pk, number in Household.objects.filter(
                pk__in={m.household_id for m in existing.values()}
            ).values_list("pk", "household_no")
            if not is_population_household(number)
        }
        split: dict[str, int] = {}  # the file's 户 of which someone sits in a national household: first row
        to_create: list[Member] = []
        updates: list[tuple[Member, dict[str, tuple[Any, Any]]]] = []
        for row in rows:
            values = dict(row.member)
            id_number, digest = values.pop("id_number"), values.pop("id_hash")
            member = existing.get(digest)
            if member is None:
                household = households[row.household_key]
                member = Member(
                    household_id=household.pk,
                    region_code=household.region_code,
                    id_number_enc=self.cipher.encrypt(id_number, "id"),
                    id_number_hash=digest,
                    id_number_masked=mask_id(id_number),
                )
                self._assign(member, values)
                member.extra = row.extra
                member.value_faults = row.member_faults
                member.id_fault = _id_fault(row.member_faults)
                to_create.append(member)
                self.linked_hashes.add(digest)
                continue
            if member.household_id in national:
                self.result.registered += 1
                split.setdefault(row.household_key, row.number)
            faulty = {self.field_of_label.get(column) for column in row.member_faults}
            fill = {
                name: values[name]
                for name in FILLABLE_MEMBER_FIELDS
                if values.get(name) not in (None, "") and name not in faulty and _empty(member, name)
            }
            changed = self._assign(member, fill)
            if added := {k: v for k, v in row.extra.items() if k not in member.extra}:
                merged = member.extra | added
                changed["extra"] = (member.extra, merged)
                member.extra = merged
            if changed:
                updates.append((member, changed))
            else:
                self.result.members.unchanged += 1
        new_keys = {r.household_key for r in new_rows}
        for key, first in split.items():
            if key in new_keys:
                self.result.notes.append(
                    f"第{first}行：本户有人已登记在国家系统导出的户中（保持原户不变），本户其余的人登记为"
                    f"一般农户{key}，请村里核实国家系统中是否应补录"
                )
        head_rows = {
            households[r.household_key].pk: r.number for r in new_rows if r.member.get("relation") == "户主"
        }
        self._make_room_for_heads(to_create, head_rows, entries)
        self.out.insert(Member, to_create)
        self._note_insert(Member, to_create)
        for member in to_create:
            entries.append(self._create_entry(member, member.household_id))
        self.result.members.created += len(to_create)
        self._bulk_update(Member, updates, entries, lambda m: m.household_id,
                          detail=lambda m: f"{LAYOUT_NAMES[self.layout]}导入：补充空白信息")  # fmt: skip
        self.result.members.updated += len(updates)
        self.out.audit(entries)

    def _population_households(
        self, new_rows: list[ParsedRow], entries: list[audit.PendingEntry]
    ) -> dict[str, Household | _HouseholdRef]:
        """The households the chunk's new people join: created as 一般农户 when the register lacks them
        (a household only these files know), else filled where empty (it is one an earlier 户籍 or
        花名册 import created: the national export never gives such a number)."""
        assert self.population is not None
        first_rows: dict[str, ParsedRow] = {}
        for row in new_rows:
            if row.household_key not in self.household_pk:
                first_rows.setdefault(row.household_key, row)
        found = {h.household_no: h for h in Household.objects.filter(household_no__in=list(first_rows))}
        to_create: list[Household] = []
        updates: list[tuple[Household, dict[str, tuple[Any, Any]]]] = []
        for key, row in first_rows.items():
            values = {name: value for name, value in row.household.items() if value not in (None, "")}
            if size := self.population.sizes.get(key):
                values["current_size"] = size
            if head := self.head_name.get(key):
                values["head_name"] = head
            household = found.get(key)
            if household is None:
                household = Household(household_no=key, region=row.region, region_code=row.region.code,
                                      household_type="一般农户", value_faults=row.household_faults)  # fmt: skip
                self._assign(household, values)
                to_create.append(household)
                continue
            fill = {name: value for name, value in values.items() if _empty(household, name)}
            if changed := self._assign(household, fill):
                updates.append((household, changed))
            else:
                self.result.households.unchanged += 1
        self.out.insert(Household, to_create)
        self._note_insert(Household, to_create)
        for household in to_create:
            entries.append(self._create_entry(household, household.pk))
        self.result.households.created += len(to_create)
        self._bulk_update(Household, updates, entries, lambda h: h.pk,
                          detail=lambda h: f"{LAYOUT_NAMES[self.layout]}导入：补充空白信息")  # fmt: skip
        self.result.households.updated += len(updates)
        by_key: dict[str, Household | _HouseholdRef] = {
            h.household_no: h for h in (*found.values(), *to_create)
        }
        for key, household in by_key.items():
            self.household_pk[key] = household.pk
            self.household_code[key] = household.region_code
        for key in {r.household_key for r in new_rows} - set(by_key):
            by_key[key] = _HouseholdRef(self.household_pk[key], self.household_code[key])
        return by_key

    def _make_room_for_heads(
        self, members: list[Member], head_rows: dict[int, int], entries: list[audit.PendingEntry]
    ) -> None:
        """One 户主 per household (a database constraint): before this chunk writes its heads, the
        register's present head of those households steps down. One whose row is in this chunk gets
        the file's relation in the same writes; one the file does not list keeps no relation and is
        listed (HEAD_REPLACED) for the village to check."""
        incoming = {m.household_id: m.pk for m in members if m.relation == "户主"}
        if not incoming:
            return
        in_chunk = {m.pk for m in members if m.pk is not None}
        arriving = {pk for pk in incoming.values() if pk is not None}
        previous = self._read(
            Member,
            Q(household_id__in=incoming, relation="户主") & ~Q(pk__in=arriving),
            lambda m: m.household_id in incoming and m.relation == "户主" and m.pk not in arriving,
        )
        if self.overlay is not None and any(
            self.overlay.heads.get(h, 0) not in {0, *arriving, *(m.pk for m in previous)} for h in incoming
        ):
            raise _Unplannable  # a head the plan itself made: the database must say whether it still is
        stepping_down, updates = [], []
        for member in previous:
            stepping_down.append(member.pk)
            if member.pk in in_chunk:
                continue
            recorded = member.value_faults | {
                faults.RELATION_COLUMN: {"kind": FaultKind.HEAD_REPLACED, "shown": "户主"}
            }
            changed = self._assign(member, {"relation": "", "value_faults": recorded})
            updates.append((member, changed))
            self.result.faults.append(
                Fault(head_rows.get(member.household_id, 0), faults.RELATION_COLUMN, FaultKind.HEAD_REPLACED,
                      f"本行为新户主，原户主{member.name}未在文件中列出：其与户主关系待核实", shown="户主")
            )  # fmt: skip
        self.out.clear(Member, stepping_down, "relation", "")
        if self.overlay is not None:
            self.overlay.cleared(Member, stepping_down, "relation", "")
        self._bulk_update(Member, updates, entries, lambda m: m.household_id,
                          detail=lambda m: "户主变更（导入）：原户主与户主关系待核实")  # fmt: skip

    @staticmethod
    def _merged(
        recorded: dict[str, dict[str, str]], found: dict[str, dict[str, str]], labels: set[str]
    ) -> dict[str, dict[str, str]]:
        """The faults a file's columns show replace what earlier files showed in those columns."""
        return {k: v for k, v in recorded.items() if k not in labels} | found

    def _create_entry(self, obj: Any, household_id: int) -> audit.PendingEntry:
        return audit.PendingEntry(
            action=Action.CREATE,
            model=obj._meta.label,
            object_id=str(obj.pk),
            object_repr=str(obj),
            household_id=household_id,
            region_code=obj.region_code,
            after=audit.snapshot(obj, exclude=("updated_at",), drop_empty=True),
        )

    def _bulk_update(
        self,
        model: type,
        updates: list,
        entries: list[audit.PendingEntry],
        household_of: Callable[[Any], int],
        detail: Callable[[Any], str] = lambda obj: "导入更新",
    ) -> None:
        if not updates:
            return
        names = sorted({name for _, changed in updates for name in changed})
        fields = set(names)
        for name in names:
            if name.endswith("_hash") and name.removesuffix("_hash") in PHONE_FIELDS:
                fields.add(name.removesuffix("_hash") + "_enc")
        if model is not IncomeRecord:
            fields.add("updated_at")
            now = dt.datetime.now(dt.UTC)
            for obj, _ in updates:
                obj.updated_at = now
        self.out.update(model, [obj for obj, _ in updates], sorted(fields))
        if self.overlay is not None:
            self.overlay.updated(model, updates, sorted(fields))
        for obj, changed in updates:
            visible = {k: v for k, v in changed.items() if audit.logged_field(k)}
            entries.append(
                audit.PendingEntry(
                    action=Action.UPDATE,
                    model=obj._meta.label,
                    object_id=str(obj.pk),
                    object_repr=str(obj),
                    household_id=household_of(obj),
                    region_code=obj.region_code,
                    before={k: audit.jsonable(old) for k, (old, _) in visible.items()},
                    after={k: audit.jsonable(new) for k, (_, new) in visible.items()},
                    detail=detail(obj),
                )
            )

    def finish_writes(self) -> None:
        """What only the whole file tells: head names whose 户主 row came in a later chunk, and
        per-capita income of households without a 人口数 column (divided by their members)."""
        entries: list[audit.PendingEntry] = []
        late_heads = [
            k
            for k, name in self.head_name.items()
            if self.population is None and self.applied_head_name.get(k) != name
        ]
        if late_heads and self.overlay is not None:
            # every row is checked before the writing, so each household gets its head's name with its
            # first row; should that ever change, the transaction's own reads answer it
            raise _Unplannable
        updates = []
        for household in Household.objects.filter(household_no__in=late_heads):
            changed = self._assign(household, {"head_name": self.head_name[household.household_no]})
            if changed:
                updates.append((household, changed))
        self._bulk_update(Household, updates, entries, lambda h: h.pk)
        pks = [self.household_pk[k] for k in self.needs_divisor if k in self.household_pk]
        counts = Counter(
            dict(Household.objects.filter(pk__in=pks).annotate(n=Count("members")).values_list("pk", "n"))
        )
        if self.overlay is not None:  # members the plan adds or moves are not in the database yet
            counts.update({pk: self.overlay.members_added[pk] for pk in pks})
        income_updates = []
        wanted = set(pks)
        for record in self._read(
            IncomeRecord,
            Q(household_id__in=pks, year=self.year),
            lambda r: r.household_id in wanted and r.year == self.year,
        ):
            size = counts.get(record.household_id) or None
            if size and record.divisor_size != size and record.computed_net is not None:
                per_capita = (record.computed_net / size).quantize(income_rules.CENT)
                changed = self._assign(record, {"divisor_size": size, "computed_per_capita": per_capita})
                income_updates.append((record, changed))
        self._bulk_update(IncomeRecord, income_updates, entries, lambda r: r.household_id)
        self._apply_late_faults(entries)
        self.out.audit(entries)
        self._note_emptied()

    def _note_emptied(self) -> None:
        """HJ/HMC households whose every member the national export took: kept (a clue, a visit or a
        roster row may name them, and the register deletes no household on an import), and named for
        the county to check."""
        if not self.left_population:
            return
        counts = Counter(
            dict(
                Household.objects.filter(pk__in=self.left_population)
                .annotate(n=Count("members"))
                .values_list("pk", "n")
            )
        )
        if self.overlay is not None:  # the plan's moves are not in the database yet
            counts.update({pk: self.overlay.members_added[pk] for pk in self.left_population})
        emptied = sorted(
            Household.objects.filter(
                pk__in=[pk for pk in self.left_population if counts[pk] <= 0]
            ).values_list("household_no", flat=True)
        )
        if emptied:
            shown = "、".join(emptied[:20]) + ("等" if len(emptied) > 20 else "")
            self.result.notes.append(
                f"{len(emptied)}户由户籍、花名册登记的一般农户，成员已全部按国家系统导出迁入国家系统的户，"
                f"原户已无成员（{shown}），请核实"
            )

    def _apply_late_faults(self, entries: list[audit.PendingEntry]) -> None:
        """Faults only a later row shows: a person met twice, a household whose rows disagree."""
        for model, late, key_field in (
            (Member, self.late_faults, "id_number_hash"),
            (Household, self.late_household_faults, "household_no"),
        ):
            updates = []
            for obj in self._read(
                model,
                Q(**{f"{key_field}__in": list(late)}),
                lambda o, f=key_field, k=late: getattr(o, f) in k,
            ):
                recorded = obj.value_faults | late[getattr(obj, key_field)]
                if changed := self._assign(obj, {"value_faults": recorded}):
                    updates.append((obj, changed))
            household_of = (lambda m: m.household_id) if model is Member else (lambda h: h.pk)
            self._bulk_update(model, updates, entries, household_of)


def _empty(obj: Any, name: str) -> bool:
    """Whether the register holds nothing in the field (a phone: no hash)."""
    if name in PHONE_FIELDS:
        return not getattr(obj, f"{name}_hash")
    return getattr(obj, name) in (None, "")


@dataclass(frozen=True)
class _HouseholdRef:
    """A household written for an earlier chunk, as far as its later members need it."""

    pk: int
    region_code: str


class _Unplannable(Exception):
    """A plan would have to read back a row only the database can answer for: the transaction does it."""


class _Overlay:
    """What a plan has written so far, for the rows it reads again: the database still holds them as
    they were until the publish. Only rows a later read can meet are remembered (a large file changes
    100,000s of rows and reads almost none twice): a member who was a 户主 (the step-down of a replaced
    head), one the file's damaged IDs look for by 人口编号, or met twice in the file; a household whose
    rows disagree; the income of a household divided by its members. A read the overlay cannot answer
    exactly raises _Unplannable."""

    def __init__(self, importer: _Importer) -> None:
        self.importer = importer
        self.changes: dict[tuple[type, int], dict[str, Any]] = {}
        self.created: dict[type, dict[int, Any]] = defaultdict(dict)
        self.members_added: Counter[int] = Counter()  # household pk → members added (moved out: −1)
        self.heads: dict[int, int] = {}  # household pk → the member the plan made its 户主
        self.person_nos: dict[str, int] = {}  # a damaged ID's 人口编号 → the member the plan gave it

    def _kept(self, model: type, obj: Any, was: Callable[[str], Any]) -> bool:
        importer = self.importer
        if model is Member:
            return (
                was("relation") == "户主"
                or was("person_no") in importer.unusable_person_nos
                or obj.person_no in importer.unusable_person_nos
                or obj.id_number_hash in importer.late_faults
            )
        if model is Household:
            return obj.household_no in importer.late_household_faults
        return obj.household_id in importer.divisor_households

    def inserted(self, model: type, objects: list[Any]) -> None:
        for obj in objects:
            if model is Member:
                self.members_added[obj.household_id] += 1
                if obj.relation == "户主":
                    self.heads[obj.household_id] = obj.pk
            if self._kept(model, obj, lambda name, o=obj: getattr(o, name)):
                self.created[model][obj.pk] = obj

    def updated(
        self, model: type, updates: list[tuple[Any, dict[str, tuple[Any, Any]]]], names: list[str]
    ) -> None:
        for obj, changed in updates:
            if model is Member:
                if "household_id" in changed:
                    old, new = changed["household_id"]
                    self.members_added[old] -= 1
                    self.members_added[new] += 1
                if obj.relation == "户主" and ("relation" in changed or "household_id" in changed):
                    self.heads[obj.household_id] = obj.pk
                if "person_no" in changed and obj.person_no in self.importer.unusable_person_nos:
                    self.person_nos[obj.person_no] = obj.pk
            if obj.pk in self.created[model]:
                continue  # the remembered instance is the one changed
            key = (model, obj.pk)
            if key in self.changes or self._kept(
                model, obj, lambda name, o=obj, c=changed: c[name][0] if name in c else getattr(o, name)
            ):
                self.changes.setdefault(key, {}).update({name: getattr(obj, name) for name in names})

    def cleared(self, model: type, pks: list[int], name: str, value: Any) -> None:
        for pk in pks:
            if (obj := self.created[model].get(pk)) is not None:
                setattr(obj, name, value)
            else:
                self.changes.setdefault((model, pk), {})[name] = value

    def read(self, model: type, found: list[Any], match: Callable[[Any], bool]) -> list[Any]:
        rows = []
        for obj in found:
            for name, value in self.changes.get((model, obj.pk), {}).items():
                setattr(obj, name, value)
            if match(obj):
                rows.append(obj)
        return rows + [obj for obj in self.created[model].values() if match(obj)]


class _Direct:
    """Writes as the rows are applied, inside the import's transaction: the fallback publish."""

    def insert(self, model: type, objects: list[Any]) -> None:
        bulk.fast_insert(model, objects)

    def update(self, model: type, objects: list[Any], names: list[str]) -> None:
        bulk.execute(bulk.update_sql(model, names), bulk.update_values(model, objects, names))

    def clear(self, model: type, pks: list[int], name: str, value: Any) -> None:
        bulk.execute(bulk.update_sql(model, [name]), [[value, pk] for pk in pks])

    def audit(self, entries: list[audit.PendingEntry]) -> None:
        audit.append(entries)


REGISTER_TABLES = (Household, Member, IncomeRecord)
# audit entries of these apps change what a plan read (the register, villages, income parameters)
PLANNED_APPS = ("registry.", "regions.")
_AUDIT_COLUMNS = bulk.insert_columns(AuditEntry)


def _table_version() -> tuple[Any, ...]:
    """Largest id and row count of each table a plan inserts into or updates, and SQLite's AUTOINCREMENT
    counters: what changes with an insert or delete even when no audit entry names it."""
    tables = [model._meta.db_table for model in REGISTER_TABLES]
    with connection.cursor() as cursor:
        version = []
        for table in tables:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0), COUNT(*) FROM "{table}"')
            version.append(tuple(cursor.fetchone()))
        if connection.vendor == "sqlite":
            cursor.execute(
                f"SELECT name, seq FROM sqlite_sequence WHERE name IN ({', '.join(['%s'] * len(tables))})",
                tables,
            )
            version.append(tuple(sorted(cursor.fetchall())))
    return tuple(version)


class _Plan:
    """Everything the publish will write, computed outside the write lock and staged as ready statement
    parameters (sealed, like the checked rows): inserts with ids allocated from the present largest ids
    (sequences on PostgreSQL), updates, and audit entries with their canonical bytes, to be placed on
    the chain under the lock. `publish` writes them in one short transaction, unless the register
    changed since the plan began (then it writes nothing and the import plans again)."""

    def __init__(self, staged: _Staged) -> None:
        self.staged = staged
        self.key = audit_keys().hmac_key  # before anything: a missing key stops the import here
        # the data version first: whatever commits after this is seen by the publish's check
        self.head = ChainHead.objects.values_list("seq", "entry_hash").get(pk=1)
        self.tables = _table_version()
        postgres = connection.vendor == "postgresql"
        self.next_id = {} if postgres else {model: bulk.first_free_id(model) for model in REGISTER_TABLES}
        self.last_id: dict[type, int] = {}
        self.entries = 0

    def _ids(self, model: type, count: int) -> list[int]:
        if model not in self.next_id:  # PostgreSQL: a sequence hands out ids nobody else will get
            return bulk.allocate_ids(model, count)
        start = self.next_id[model]
        self.next_id[model] = start + count
        return list(range(start, start + count))

    def insert(self, model: type, objects: list[Any]) -> None:
        if objects:
            ids = self._ids(model, len(objects))
            self.staged.put(("rows", bulk.insert_sql(model), bulk.prepare_insert(model, objects, ids)))
            self.last_id[model] = ids[-1]

    def update(self, model: type, objects: list[Any], names: list[str]) -> None:
        if objects:
            self.staged.put(
                ("rows", bulk.update_sql(model, names), bulk.update_values(model, objects, names))
            )

    def clear(self, model: type, pks: list[int], name: str, value: Any) -> None:
        if pks:
            self.staged.put(("rows", bulk.update_sql(model, [name]), [[value, pk] for pk in pks]))

    def audit(self, entries: list[audit.PendingEntry]) -> None:
        if not entries:
            return
        values = audit.prepare(entries)
        placeholders = [{**v, "seq": 0, "prev_hash": "", "entry_hash": ""} for v in values]
        rows = bulk.insert_values(AuditEntry, [0] * len(values), placeholders)
        self.staged.put(("audit", rows, [audit.link_template(v) for v in values]))
        self.entries += len(values)

    def unchanged(self, head: tuple[int, str]) -> bool:
        """Whether the register is as the plan read it. Entries others appended meanwhile (logins, views
        of a number, work elsewhere) do not matter, the plan's entries go on the chain after them; a
        change of a register row, a village or the income parameters does, and so does any insert or
        delete in the register's tables, audited or not."""
        seq, entry_hash = self.head
        if _table_version() != self.tables:
            return False
        if head[0] == seq:
            return head[1] == entry_hash
        if head[0] < seq or (seq and not AuditEntry.objects.filter(seq=seq, entry_hash=entry_hash).exists()):
            return False
        changes = AuditEntry.objects.filter(
            seq__gt=seq, action__in=[Action.CREATE, Action.UPDATE, Action.DELETE]
        ).filter(Q(model__startswith=PLANNED_APPS[0]) | Q(model__startswith=PLANNED_APPS[1]))
        return not changes.exists()

    def publish(self) -> bool:
        """The one write transaction: check the data version, run the staged statements, place the audit
        entries on the chain after its present head, at this time. No register row is read and no model
        object is built in here."""
        with transaction.atomic():
            head = ChainHead.objects.select_for_update().values_list("seq", "entry_hash").get(pk=1)
            if not self.unchanged(head):
                return False
            at = dt.datetime.now(dt.UTC)
            ids = iter(bulk.allocate_ids(AuditEntry, self.entries) if self.entries else ())
            stamp = AuditEntry._meta.get_field("at").get_db_prep_save(at, connection)
            slots = [_AUDIT_COLUMNS.index(name) for name in ("at", "seq", "prev_hash", "entry_hash")]
            seq, prev = head
            last_entry = 0
            for kind, first, second in self.staged.items():
                if kind == "rows":
                    bulk.execute(first, second)
                    continue
                for row, template in zip(first, second, strict=True):
                    seq += 1
                    entry_hash = audit.link(template, at, seq, prev, self.key)
                    row[0] = last_entry = next(ids)
                    for index, value in zip(slots, (stamp, seq, prev, entry_hash), strict=True):
                        row[index] = value
                    prev = entry_hash
                bulk.execute(bulk.insert_sql(AuditEntry), first)
            for model, last in self.last_id.items():
                bulk.keep_sequence_ahead(model, last)
            if self.entries:
                bulk.keep_sequence_ahead(AuditEntry, last_entry)
                ChainHead.objects.filter(pk=1).update(seq=seq, entry_hash=prev)
        return True


class _Staged:
    """Checked chunks between the checks and the plan, or a plan's statements before its publish. An
    unnamed temporary file (it is gone with the process, whatever ends it), each chunk sealed with a key
    that exists only in this process's memory: the staged rows hold ID numbers, and nothing readable of
    them stays on disk."""

    def __init__(self) -> None:
        directory = Path(settings.DATA_DIR) / "staging"
        directory.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 (closed by __exit__)
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._count = 0

    def __enter__(self) -> _Staged:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def put(self, item: Any) -> None:
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL), None)
        self._file.write(len(sealed).to_bytes(8, "big") + sealed)
        self._count += 1

    def chunks(self) -> Iterator[Any]:
        self._file.seek(0)
        for _ in range(self._count):
            sealed = self._file.read(int.from_bytes(self._file.read(8), "big"))
            yield pickle.loads(self._aead.decrypt(sealed[:12], sealed[12:], None))

    items = chunks


LINK_BY_HASH_MAX = 20_000  # people whose roster rows are looked up by hash; more: one pass over the rosters
PLAN_ATTEMPTS = 2  # plans made before the register changed under both: then the transaction does it all


def _decided(result: ImportResult, *, strict: bool, confirmed: bool) -> bool:
    """Whether what the writing found stops it: faults only the register shows (a person registered in
    another household) refuse a strict import, and any fault waits for the user's confirmation."""
    if strict and result.faults:
        result.problems += [f.as_problem() for f in result.faults]
        return True
    if result.faults and not confirmed:
        result.needs_confirmation = True
        return True
    return False


def _write(
    importer: _Importer,
    staged: _Staged,
    report: Callable[[int], None],
    *,
    strict: bool,
    confirmed: bool,
    started: float,
) -> None:
    """Plan, decide and publish (no lock until the publish; a refused or unconfirmed file never takes
    it). When the register changes under every plan, or a plan cannot answer a read, the rows are
    written as they are applied, all inside the transaction: correct, only the lock is held longer."""
    result = importer.result
    for _ in range(PLAN_ATTEMPTS):
        with _Staged() as ops:
            plan = _Plan(ops)
            try:
                importer.write(staged, plan, _Overlay(importer), report)
            except _Unplannable:
                break
            result.check_seconds = time.perf_counter() - started
            if _decided(result, strict=strict, confirmed=confirmed):
                return
            locked = time.perf_counter()
            if plan.publish():
                result.ok = True
                result.publish_seconds = time.perf_counter() - locked
                return
    result.check_seconds = time.perf_counter() - started
    try:
        with transaction.atomic():
            importer.write(staged, _Direct(), None, report)
            if _decided(result, strict=strict, confirmed=confirmed):
                raise Rollback
            result.ok = True
    except Rollback:
        pass
    result.publish_seconds = time.perf_counter() - started - result.check_seconds


def _link_roster_records(hashes: set[str]) -> None:
    """Department roster rows of the people an import created or moved: linked to them and their present
    household. A roster read before the person was in the register (the 户籍 file came later) left its
    rows unmatched, and a moved person's rows would still name the old household; the screening reads
    rosters through these links, so a 一般农户 only the 户籍 file holds is flagged like anyone else.
    Roster rows are matched by the keyed hash alone and are no audited register facts."""
    from fangpin.feeds.models import RosterRecord  # feeds builds on the register, not the reverse

    fields = ("id", "id_hash", "member_id", "household_id", "region_code")
    records = RosterRecord.objects.only(*fields)
    if len(hashes) <= LINK_BY_HASH_MAX:
        wanted = sorted(hashes)
        found = [
            r for i in range(0, len(wanted), 500) for r in records.filter(id_hash__in=wanted[i : i + 500])
        ]
    else:  # a county's first import: one pass over the rosters beats a query per 500 people
        found = [r for r in records.iterator(chunk_size=5000) if r.id_hash in hashes]
    if not found:
        return
    wanted = sorted({r.id_hash for r in found})
    people: dict[str, tuple[int, int, str]] = {}
    for i in range(0, len(wanted), 500):
        people.update(
            (digest, (pk, household, region))
            for digest, pk, household, region in Member.objects.filter(
                id_number_hash__in=wanted[i : i + 500]
            ).values_list("id_number_hash", "id", "household_id", "region_code")
        )
    stale = []
    for record in found:
        pk, household, region = people.get(record.id_hash, (None, None, ""))
        if (record.member_id, record.household_id, record.region_code) != (pk, household, region):
            record.member_id, record.household_id, record.region_code = pk, household, region
            stale.append(record)
    RosterRecord.objects.bulk_update(stale, ["member_id", "household_id", "region_code"], batch_size=2000)


def _readable(chunks: Iterator[list[RowCells]], result: ImportResult) -> Iterator[list[RowCells]]:
    """The chunks until the file turns out damaged past its header: that refuses it with the reason."""
    try:
        yield from chunks
    except UnreadableFile as exc:
        result.problems.append(Problem(result.rows + 1, "", str(exc)))


def _id_fault(recorded: dict[str, dict[str, str]]) -> str:
    return recorded.get(faults.ID_COLUMN, {}).get("kind", "")


def detect_year(titles: Iterable[str]) -> int | None:
    for title in titles:
        if match := YEAR_IN_TITLE.search(title):
            return int(match.group(1))
    return None


def import_register(
    path: str | Path,
    *,
    year: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    chunk_size: int | None = None,
    parallel: bool | None = None,
    strict: bool = False,
    confirmed: bool = True,
    allow_moves: bool = False,
) -> ImportResult:
    """Import a §2 or §3 file, or a 户籍/花名册 file of the whole rural population (the layout is
    decided from the header). Returns the result; on any problem nothing is written.

    A file is refused only for what makes it unusable (unreadable, no header, a missing column, a row
    that cannot be placed, a core number that is not a number). Faults of values are imported and
    listed (`result.faults`); with `strict` they refuse the file too. With `confirmed=False` a file
    with faults is run through completely and rolled back (`needs_confirmation`), so the user sees
    what will be flagged and what will change before anything is written. A person already
    registered in another household is listed, never moved, unless `allow_moves`."""
    chunk_size = chunk_size or settings.FANGPIN_IMPORT_CHUNK_SIZE
    result = ImportResult(strict=strict)
    try:
        with closing(iter_rows(path)) as rows:
            header = find_header(rows)
    except UnreadableFile as exc:
        result.problems.append(Problem(1, "", str(exc)))
        return result
    if header is None:
        result.problems.append(
            Problem(1, "", "未找到表头：前12行中没有一行包含足够的已知列名（如 姓名、证件号码、与户主关系）")
        )
        return result
    result.header_row = header.row
    result.layout = header.layout
    result.unknown_columns = [label for _, label in header.extras]
    result.year = year or detect_year(header.titles) or (dt.date.today().year - 1)
    importer = _Importer(header, result.year, result, allow_moves=allow_moves)
    if importer.population is not None:
        result.problems += importer.population.missing_columns(header.row)
    else:
        present = {c.target for _, c in header.columns}
        required = {c.target: c for c in HEADER_LOOKUP.values() if c.required}
        missing = [c for target, c in required.items() if target not in present]
        if "household.household_no" in {c.target for c in missing} and "household.head_id" in present:
            missing = [c for c in missing if c.target != "household.household_no"]
        if "region.code" in present:
            missing = [c for c in missing if c.entity != "region"]
        result.problems += [Problem(header.row, column.label, "缺少必需的列") for column in missing]
    if result.problems:
        return result
    result.notes.extend(t for t in header.titles if t.startswith("表头为两行"))

    expected = estimate_rows(path)
    total = max(expected - header.row, 0) if expected else None
    chunks = stream_rows(str(path), header.row, header.columns, header.extras, chunk_size, parallel=parallel)

    def refused() -> bool:  # what stops the writing: checked per chunk, so no list is built
        return bool(result.problems) or (strict and bool(result.faults))

    def report(done: int) -> None:  # reading and checking is the first half of the work, writing the second
        if progress:
            steps = max(total or 0, result.rows)
            progress(done, 2 * steps if steps else None)

    started = time.perf_counter()
    with _Staged() as staged:
        # 1. read, parse and check every row without writing: no write lock is taken, so the county's
        #    work goes on while a large file is read; a refused file never takes the lock at all
        for cells_chunk in _readable(chunks, result):
            chunk = [importer.parse(row_cells) for row_cells in cells_chunk]
            result.rows += len(chunk)
            chunk = [parsed for parsed in chunk if not parsed.left_out]
            for parsed in chunk:
                result.problems.extend(parsed.problems)
            if not refused():
                staged.put(chunk)
            report(result.rows)
        importer.finish_checks()
        if result.rows == 0 and not result.problems:
            result.problems.append(Problem(header.row, "", "表头下没有数据行"))
        if strict:
            result.problems += [f.as_problem() for f in result.faults]
        result.check_seconds = time.perf_counter() - started
        # 2. plan every write outside the lock, then publish the plan in one short transaction: all or
        #    nothing, and a killed process leaves neither a half-written register nor the staged rows
        #    (unnamed files, gone with it)
        if not result.problems:
            importer.checked_faults = len(result.faults)
            _write(importer, staged, report, strict=strict, confirmed=confirmed, started=started)
    if result.ok and importer.linked_hashes:
        _link_roster_records(importer.linked_hashes)
    if not result.ok and not result.needs_confirmation:
        result.households, result.members, result.incomes = Counts(), Counts(), Counts()
    result.problems.sort(key=lambda p: (p.row, p.col_index if p.col_index is not None else -1))
    result.faults.sort(key=lambda f: (f.row, f.col_index if f.col_index is not None else -1))
    if progress:
        progress(2 * result.rows, 2 * result.rows)
    return result
