"""Reading a 民政 low-income list: the department-roster reading of `feeds` (header found by the
columns' names and synonyms, every cell read by `common.cells`, IDs by `common.idnumber` with Excel
damage refused) with this list's own columns. All or nothing: any problem refuses the file, each named
by row and column in Chinese, never quoting a number in clear. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fangpin.common import cells
from fangpin.common.crypto import cipher
from fangpin.common.idnumber import mask_id, normalise_id
from fangpin.common.tabular import UnreadableFile, iter_rows
from fangpin.feeds.importer import detect, positions
from fangpin.feeds.kinds import Field, RosterKind
from fangpin.regions.models import Level, Region
from fangpin.registry.columns import header_key
from fangpin.registry.models import Member
from fangpin.registry.rows import Problem, is_blank
from fangpin.retention.scrub import scrub

from .categories import names_text, read_categories

ID_SYNONYMS = ("身份证号", "身份证号码", "公民身份号码", "证件号", "成员证件号码", "保障对象证件号码")
# the columns of 民政's 低收入人口 exports (formats §4 民政 救助, with the household columns of the
# 低收入人口动态监测 list); `key` is the parsed value's name
LIST_KIND = RosterKind("social_aid", "低收入人口名单", "民政", (
    Field("证件号码", "id_number", "id", True, ID_SYNONYMS),
    Field("姓名", "name", required=True, synonyms=("成员姓名", "人员姓名", "保障对象姓名", "救助对象姓名", "对象姓名")),
    Field("救助类型", "categories", required=True,
          synonyms=("对象类别", "救助类别", "保障类别", "对象类型", "人员类别", "低收入人口类别", "救助对象类别")),
    Field("保障人数", "household_size", "int", synonyms=("家庭人口", "家庭人口数", "保障人口", "保障人口数", "家庭成员数")),
    Field("户主姓名", "head_name", synonyms=("申请人姓名",)),
    Field("户主证件号码", "head_id", "id", synonyms=("户主身份证号", "户主身份证号码", "户主公民身份号码", "申请人身份证号码")),
    Field("乡镇", "township", synonyms=("乡", "镇", "乡(镇)", "乡镇(街道)", "所属乡镇", "乡镇街道")),
    Field("村", "village", synonyms=("行政村", "村(社区)", "所属村", "村委会", "村(居)委会", "社区")),
    Field("开始日期", "start_date", "date", synonyms=("纳入时间", "纳入日期", "保障开始日期", "救助开始日期", "审批日期")),
    Field("结束日期", "end_date", "date", synonyms=("退出时间", "退出日期", "保障结束日期", "救助结束日期")),
    Field("月保障金额", "monthly_amount", "money",
          synonyms=("保障金额", "月保障金", "月救助金额", "救助金额", "金额", "月发放金额")),
))  # fmt: skip
NO_HEADER = "未找到表头：文件前12行中没有一行包含名单的列名（如 证件号码、姓名、救助类型）"


@dataclass
class ParsedPerson:
    row_number: int
    id_hash: str
    id_masked: str
    name: str
    categories: list[str]
    household_key: str
    head_name: str = ""
    head_id_masked: str = ""
    household_size: int | None = None
    township_name: str = ""
    village_name: str = ""
    region_code: str = ""
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    monthly_amount: Decimal | None = None


@dataclass
class ParsedList:
    problems: list[Problem] = field(default_factory=list)
    header_row: int = 0
    rows: int = 0
    matched: int = 0  # people the register holds
    people: dict[str, ParsedPerson] = field(default_factory=dict)  # by id hash: a person once

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(f: Field, raw: object) -> tuple[Any, str]:
    """One cell: its value, or why it cannot be used ("" when it can)."""
    if raw is None or cells.text(raw) == "":
        return None, ("必填，不能为空" if f.required else "")
    try:
        if f.kind == "id":
            # a 残疾人证号 is the ID and two digits: the person is the ID (as the register keys them)
            result = normalise_id(raw, allow_disability_card=True)
            return (result.value[:18] if result.ok else ""), result.error
        if f.kind == "date":
            return cells.date(raw), ""
        if f.kind == "money":
            return cells.money(raw), ""
        if f.kind == "int":
            value = cells.integer(raw)
            return (value, "") if value is None or 0 < value < 100 else (None, "应为1到99之间的整数")
        value = cells.text(raw)
        if f.key == "categories":
            found, unknown = read_categories(value)
            if unknown:
                words = "、".join(f"「{cells.shown(w)}」" for w in unknown[:3])
                return None, f"救助类型{words}无法识别，应为 {names_text()} 之一（可用“、”分隔多项）"
            return found, ""
        return (value, "") if len(value) <= 64 else (None, "内容过长（不超过64字）")
    except cells.CellError as exc:
        return None, str(exc)


class RegionNames:
    """The scope's townships and villages by name, for people the register does not hold."""

    def __init__(self, scope: Region) -> None:
        self.scope = scope
        below = Region.objects.filter(code__startswith=scope.prefix, level__gte=Level.TOWNSHIP)
        self.townships: dict[str, str] = {}
        self.villages: dict[tuple[str, str], str] = {}
        self.village_only: dict[str, list[str]] = {}
        for code, name, level in below.values_list("code", "name", "level"):
            if level == Level.TOWNSHIP:
                self.townships[header_key(name)] = code
            elif level == Level.VILLAGE:
                self.villages[(code[:9], header_key(name))] = code
                self.village_only.setdefault(header_key(name), []).append(code)

    def code(self, township: str, village: str) -> str:
        """The village named, else the township, else the scope: never a region outside the scope."""
        town = self.townships.get(header_key(township)) if township else None
        if town and village and (found := self.villages.get((town[:9], header_key(village)))):
            return found
        if not town and village and len(self.village_only.get(header_key(village), [])) == 1:
            return self.village_only[header_key(village)][0]  # a village name unique in the scope
        return town or self.scope.code


def read_list(path: str | Path, scope: Region) -> ParsedList:
    """Read and check the whole list; `people` is filled only when there is no problem at all."""
    parsed = ParsedList()
    try:
        detection = detect(str(path), LIST_KIND)
    except UnreadableFile as exc:
        parsed.problems.append(Problem(1, "", scrub(str(exc))))
        return parsed
    if detection is None:
        parsed.problems.append(Problem(1, "", NO_HEADER))
        return parsed
    parsed.header_row = detection.header_row
    columns = positions(LIST_KIND.fields, detection.suggested, detection.headers)
    for f, position in columns:
        if position is None and f.required:
            parsed.problems.append(Problem(detection.header_row, f.name, "缺少必需的列"))
    if parsed.problems:
        return parsed
    digest = cipher().digest
    names = RegionNames(scope)
    try:
        with closing(iter_rows(path)) as rows:
            for number, values in rows:
                if number <= detection.header_row or is_blank(values):
                    continue
                parsed.rows += 1
                got: dict[str, Any] = {}
                row_ok = True
                for f, position in columns:
                    raw = values[position] if position is not None and position < len(values) else None
                    value, error = _read(f, raw)
                    if error:
                        parsed.problems.append(Problem(number, f.name, scrub(error), position))
                        row_ok = False
                    got[f.key] = value
                if row_ok and not parsed.problems:
                    _add(parsed, number, got, digest, names)
    except UnreadableFile as exc:
        parsed.problems.append(Problem(1, "", scrub(str(exc))))
    if parsed.rows == 0 and not parsed.problems:
        parsed.problems.append(Problem(detection.header_row, "", "表头下没有数据行"))
    if parsed.problems:
        parsed.people = {}
    else:
        _place(parsed)
    return parsed


def _add(parsed: ParsedList, number: int, got: dict[str, Any], digest: Any, names: RegionNames) -> None:
    """One row into its person; a person on two rows (低保 and 临时救助, say) keeps both categories."""
    id_value: str = got["id_number"]
    id_hash = digest(id_value, "id")
    head_id: str | None = got.get("head_id")
    existing = parsed.people.get(id_hash)
    if existing is not None:
        existing.categories += [c for c in got["categories"] if c not in existing.categories]
        return
    parsed.people[id_hash] = ParsedPerson(
        row_number=number, id_hash=id_hash, id_masked=mask_id(id_value), name=got["name"],
        categories=got["categories"], household_key=digest(head_id, "id") if head_id else id_hash,
        head_name=got.get("head_name") or "", head_id_masked=mask_id(head_id) if head_id else "",
        household_size=got.get("household_size"), township_name=got.get("township") or "",
        village_name=got.get("village") or "",
        region_code=names.code(got.get("township") or "", got.get("village") or ""),
        start_date=got.get("start_date"), end_date=got.get("end_date"), monthly_amount=got.get("monthly_amount"),
    )  # fmt: skip


def _place(parsed: ParsedList) -> None:
    """A person the register holds belongs to the register's village."""
    hashes = list(parsed.people)
    for start in range(0, len(hashes), 2000):
        chunk = hashes[start : start + 2000]
        for id_hash, region_code in Member.objects.filter(id_number_hash__in=chunk).values_list(
            "id_number_hash", "region_code"
        ):
            parsed.people[id_hash].region_code = region_code
            parsed.matched += 1
