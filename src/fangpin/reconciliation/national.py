"""Reading a national export for a comparison, with the register import's own parsing.

The header, the synonyms, every cell check and the error messages are those of `registry.importer` and
`registry.rows` (find_header, stream_rows / CellPlan, Problem); this module only groups the parsed rows
by household and keeps what a comparison needs. It writes nothing: a file that the import would refuse
(no header, a missing column, a row that names no household or no village, a core number that is no
number) is refused here with the same row-and-column messages.
"""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fangpin.common.crypto import cipher
from fangpin.common.idnumber import UNUSABLE_FAULTS, mask_id
from fangpin.common.tabular import UnreadableFile, iter_rows
from fangpin.regions.models import Level, Region
from fangpin.registry import faults
from fangpin.registry import income as income_rules
from fangpin.registry.columns import HEADER_LOOKUP
from fangpin.registry.importer import Header, detect_year, find_header, find_village
from fangpin.registry.models import INCOME_COMPONENTS, Member
from fangpin.registry.rows import Problem, RowCells, stream_rows

from .compare import measure_items

CHUNK_SIZE = 2000
# the register's household fields a comparison compares, by the column target that carries them
SCALAR_TARGETS = {
    "household.monitoring_category": "category",
    "household.risk_eliminated": "risk_eliminated",
    "household.eliminated_month": "eliminated_month",
    "household.elimination_method": "elimination_method",
}


@dataclass
class NationalFile:
    """What a national export holds for a comparison: per household key, the values compared."""

    problems: list[Problem] = field(default_factory=list)
    header_row: int = 0
    layout: str = "member"
    year: int = 0
    rows: int = 0
    fields: list[str] = field(default_factory=list)  # the comparison fields the file's columns allow
    households: dict[str, dict[str, Any]] = field(default_factory=dict)
    outside: int = 0  # households of villages outside the comparison's region: not compared

    @property
    def ok(self) -> bool:
        return not self.problems


def compared_fields(header: Header) -> list[str]:
    """members always; a household field only when the file has its column (a §2 file has no risk
    status: its absence is no difference)."""
    present = {c.target for _, c in header.columns}
    fields = ["members"]
    fields += [name for target, name in SCALAR_TARGETS.items() if target in present]
    if any(f"household.risk_{i}" in present for i in range(1, 6)):
        fields.append("risk_types")
    if "income.reported_per_capita" in present or any(f"income.{n}" in present for n in INCOME_COMPONENTS):
        fields.append("income")
    fields += [f"measure:{c.field}" for _, c in header.columns if c.entity == "measure"]
    return fields


def _missing_columns(header: Header) -> list[Problem]:
    """The required columns, as the register import requires them."""
    present = {c.target for _, c in header.columns}
    missing = [c for c in HEADER_LOOKUP.values() if c.required and c.target not in present]
    missing = list({c.target: c for c in missing}.values())
    if "household.head_id" in present:
        missing = [c for c in missing if c.target != "household.household_no"]
    if "region.code" in present:
        missing = [c for c in missing if c.entity != "region"]
    return [Problem(header.row, c.label, "缺少必需的列") for c in missing]


def read_national(path: str | Path, *, region: Region, year: int | None = None) -> NationalFile:
    """Parse the file; households in villages outside `region` are counted and left out."""
    result = NationalFile()
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
    result.header_row, result.layout = header.row, header.layout
    if problems := _missing_columns(header):
        result.problems = problems
        return result
    result.year = year or detect_year(header.titles) or (dt.date.today().year - 1)
    result.fields = compared_fields(header)
    reader = _Reader(region, result, has_monitoring=header.layout == "monitoring")
    chunks = stream_rows(str(path), header.row, header.columns, header.extras, CHUNK_SIZE, parallel=False)
    try:
        for chunk in chunks:
            for row in chunk:
                result.rows += 1
                reader.add(row)
    except UnreadableFile as exc:
        result.problems.append(Problem(result.rows + 1, "", str(exc)))
    if result.rows == 0 and not result.problems:
        result.problems.append(Problem(header.row, "", "表头下没有数据行"))
    result.problems.sort(key=lambda p: (p.row, p.col_index if p.col_index is not None else -1))
    if result.ok:
        reader.finish(result.year)
    return result


class _Reader:
    def __init__(self, region: Region, result: NationalFile, *, has_monitoring: bool) -> None:
        self.region = region
        self.result = result
        self.cipher = cipher()
        villages = Region.objects.filter(level=Level.VILLAGE).select_related("parent")
        self.by_name = {(v.parent.name if v.parent else "", v.name): v for v in villages}
        self.by_code = {v.code: v for v in villages}
        # people the register keys by 人口编号 because their ID came damaged: a national row of the same
        # 人口编号 is that person whatever its ID looks like now (a sound ID, or one damaged the same way
        # for twins), else each side would show the person as missing from the other
        self.keyed_by_number = set(
            Member.objects.in_region(region)
            .filter(id_fault__in=sorted(UNUSABLE_FAULTS))
            .exclude(person_no="")
            .values_list("person_no", flat=True)
        )
        self.outside: set[str] = set()
        self.raw: dict[str, dict[str, Any]] = {}  # key → first row's household and income values

    def add(self, row: RowCells) -> None:
        number, problems = row.number, row.problems
        household, member = row.parsed["household"], row.parsed["member"]
        key = household.get("household_no") or ""
        head_id = household.get("head_id") or ""
        head_fault = next((f.kind for f in row.faults if f.column == "户主证件号码"), "")
        if not key and head_id and head_fault in UNUSABLE_FAULTS:
            problems.append(
                Problem(number, "户主证件号码", "没有户编号，户主证件号码又已损坏：无法确定是哪一户")
            )
        elif not key and head_id:
            key = "HZ" + self.cipher.digest(head_id, "id")[:24]
        if not key and not any(p.column in {"户编号", "户主证件号码"} for p in problems):
            problems.append(Problem(number, "户编号", "必填，不能为空"))
        village = self._village(number, row.parsed["region"], problems)
        person = self._person_key(number, member, row, problems)
        self.result.problems.extend(problems)
        if problems or not key or village is None:
            return
        if not self.region.contains(village.code):
            self.outside.add(key)
            return
        entry = self.result.households.get(key)
        if entry is None:
            entry = {"region_code": village.code, "head_name": "", "members": {}}
            self.result.households[key] = entry
            self.raw[key] = {"household": household, "income": row.parsed["income"]}
        if person:
            masked = mask_id(member.get("id_number") or "")
            entry["members"][person] = [member.get("name", ""), masked, member.get("relation", "")]
        if member.get("relation") == "户主" and not entry["head_name"]:
            entry["head_name"] = member.get("name", "")

    def _village(self, number: int, data: dict[str, Any], problems: list[Problem]) -> Region | None:
        return find_village(number, data, self.by_code, self.by_name, problems)

    def _person_key(self, number: int, member: dict[str, Any], row: RowCells, problems: list[Problem]) -> str:
        """The register's key of a person: the keyed hash of the ID, or of the 人口编号 when the ID is
        unusable (registry.importer does the same, so both sides meet)."""
        id_fault = next((f.kind for f in row.faults if f.column == faults.ID_COLUMN), "")
        if id_fault in UNUSABLE_FAULTS or member.get("person_no") in self.keyed_by_number:
            if person_no := member.get("person_no"):
                return self.cipher.digest(f"人口编号:{person_no}", "id")
            problems.append(
                Problem(number, "人口编号", "证件号码无效且没有人口编号：无法确定是哪一个人，请补上人口编号")
            )
            return ""
        id_number = member.get("id_number") or ""
        return self.cipher.digest(id_number[:18], "id") if id_number else ""

    def finish(self, year: int) -> None:
        """Household values from each household's first row; income as exported, else by the formula."""
        self.result.outside = len(self.outside - set(self.result.households))
        fields = set(self.result.fields)
        policy = income_rules.policy_for(year) if "income" in fields else None
        for key, entry in self.result.households.items():
            household, income = self.raw[key]["household"], self.raw[key]["income"]
            for target, name in SCALAR_TARGETS.items():
                if name in fields:
                    entry[name] = household.get(target.split(".", 1)[1])
            if "risk_types" in fields:
                entry["risk_types"] = sorted(r for r in (household.get("risk_types") or "").split("、") if r)
            for name in fields:
                if name.startswith("measure:"):
                    entry[name] = measure_items((household.get("measures") or {}).get(name[8:], []))
            if "income" in fields:
                entry["income"] = _money(self._income(income, household, len(entry["members"]), policy))
        del self.raw

    @staticmethod
    def _income(
        income: dict[str, Any], household: dict[str, Any], members: int, policy: Any
    ) -> Decimal | None:
        if income.get("reported_per_capita") is not None:
            return income["reported_per_capita"]
        if not any(income.get(n) is not None for n in INCOME_COMPONENTS):
            return None
        return income_rules.compute(
            income,
            policy=policy,
            annual_size=household.get("annual_size"),
            current_size=household.get("current_size"),
            member_count=members,
            claims_income=household.get("claims_income"),
        ).per_capita


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(income_rules.CENT))
