"""The population layouts (户籍 and 村级花名册): which rows are rural people, their village, their 户.

Since 2026 a county monitors the whole rural population (issue 11 point 4), so the register also
takes every rural household from the 公安 户籍 export and from the villages' 花名册, beside the
national export's 脱贫户 and 监测户. These files hold people, their 户 and their village, nothing
else: no income, no 户类型, no category. The importer (registry.importer) reads them with the same
cells, checks and all-or-nothing publish as the national layouts; what differs is decided here, per
row and with no database access: whether a row is a rural person at all, which village, which 户.

The 户编号 of a household only these files know (the national export does not hold it):

- 户籍: "HJ" + the village's 12-digit code + the 户号. 公安 numbers a 户 within its 派出所, so the same
  户号 may come again in another 派出所's area; a village lies in one 派出所's area, so within the
  village the 户号 names one 户, and the same file gives the same 户编号 on every import.
- 花名册 (no 户号; villages number their rows, not their households): "HMC" + the village code + the
  first 16 hex digits of the keyed hash of the 户主's ID number. The 户主 row opens the household and
  the following rows of its members join it (or the 户主姓名 column names it). The keyed hash is
  stable across imports and reveals nothing of the number; the village code keeps it readable.

A person already in the register is never moved by these files (registry.importer), so the national
export keeps every fact it set; a later national export that names a person of such a household
takes them into the national household (the national export wins).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fangpin.common import cells
from fangpin.regions.models import Region

from .columns import (
    CANCELLED_WORDS,
    HUJI_PREFIX,
    ROSTER_PREFIX,
    URBAN_CATEGORIES,
    URBAN_VILLAGE_SUFFIXES,
    Column,
    header_key,
)
from .rows import Problem

# a population household's 户编号: the prefix, the village code, then the 户号 or the head's hash
POPULATION_NUMBER = re.compile(rf"^(?:{HUJI_PREFIX}|{ROSTER_PREFIX})\d{{12}}")
HEAD_HASH_DIGITS = 16
# the forms 公安 and the villages write a village or township in: 东关村村民委员会, 东关村委会, 古绛镇人民政府
VILLAGE_SUFFIXES = ("村民委员会", "村委会", "村委", "委员会")
TOWNSHIP_SUFFIXES = ("人民政府", "政府", "办事处")
NO_WORDS = ("未", "非", "否", "无", "正常")
YES_WORDS = {"是", "Y", "1", "√"}
LEFT_OUT_REASONS = {
    "urban": "非农业或集体户口",
    "cancelled": "已注销（死亡、迁出等）",
    "neighbourhood": "城镇居委会、社区（不在行政区划表中）",
}
# the member's other columns the population files' own facts are kept under (the officials' words)
EXTRA_LABELS = {"address": "户籍地址", "group": "村民小组", "register_category": "户籍类别", "remark": "备注"}


def is_population_household(household_no: str) -> bool:
    """Whether the 户编号 is one a population file gave (HJ…/HMC…), never a national number."""
    return bool(POPULATION_NUMBER.match(household_no))


def _neighbourhood_code(code: str) -> bool:
    """A 12-digit code of a 居委会 the region table lacks. In the statistical division codes the last three
    digits say what a 村级 unit is: 001–199 居民委员会, 200–399 村民委员会, 400–599 类似居民委员会,
    600–799 类似村民委员会; a village the table lacks is an error, a neighbourhood is no rural 户."""
    if len(code) != 12 or not code.isdigit():
        return False
    unit = int(code[9:])
    return 1 <= unit <= 199 or 400 <= unit <= 599


def _base_names(name: str, suffixes: tuple[str, ...], ending: str) -> list[str]:
    """The name as written, and without an office's suffix (东关村委会 → 东关村)."""
    names = [name]
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            names.append(base if not ending or base.endswith(ending) else base + ending)
            names.append(base)
    return list(dict.fromkeys(names))


@dataclass
class Placement:
    """What the population rules decided for one row: left out (why), or its village and 户编号."""

    left_out: str = ""
    region: Region | None = None
    key: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class PopulationRules:
    """Per-file state of a population import: the title's village, the 花名册's open household, the
    rows left out. Rows are given in file order (the importer checks them in order)."""

    def __init__(self, layout: str, columns: list[tuple[int, Column]], titles: list[str],
                 villages: list[Region]) -> None:  # fmt: skip
        self.layout = layout
        self.columns = {c.target: (i, c.label) for i, c in columns}
        self.by_code = {v.code: v for v in villages}
        self.by_name: dict[tuple[str, str], Region] = {}
        self.by_village: dict[str, list[Region]] = {}
        for v in villages:
            self.by_name[(v.parent.name if v.parent else "", v.name)] = v
            self.by_village.setdefault(v.name, []).append(v)
        self.title_region, self.title_problem = self._title_village(titles)
        self.left_out: Counter[str] = Counter()
        self.first_left_out: dict[str, int] = {}
        self.heads: dict[tuple[int, str], str] = {}  # (village pk, 户主 name) → head hash (花名册)
        self.open_head: tuple[int, str, str] | None = None  # the household the last 户主 row opened
        self.open_group: dict[str, str] = {}  # household key → its 村民小组 (written on the head row)
        self.sizes: dict[str, int] = {}  # household key → 家庭人口 as the file gives it

    # -- the file --

    def missing_columns(self, header_row: int) -> list[Problem]:
        """The columns a population file cannot do without. 花名册 may name its village in the title."""
        present = set(self.columns)
        needed = [
            ("member.name", "姓名"),
            ("member.id_number", "证件号码"),
            ("member.relation", "与户主关系"),
        ]
        if self.layout == "huji":
            needed.append(("household.register_no", "户号"))
        problems = [
            Problem(header_row, label, "缺少必需的列") for target, label in needed if target not in present
        ]
        has_village = "region.code" in present or "region.village" in present
        if self.layout == "huji" and not has_village:
            problems.append(Problem(header_row, "所属村(居)委会", "缺少必需的列（或12位行政区划代码）"))
        elif self.layout == "roster" and not has_village and self.title_region is None:
            problems.append(Problem(header_row, "村", self.title_problem))
        return problems

    def _title_village(self, titles: list[str]) -> tuple[Region | None, str]:
        """The village a 花名册's title names ("古绛镇东关村村民花名册"): the longest village name found,
        with its township when the title names that too; two equally good candidates decide nothing."""
        text = "".join(header_key(t) for t in titles)
        if not text:
            return None, "花名册的标题行和各列中都没有写明村（如“XX镇XX村村民花名册”），无法确定是哪个村"
        scored: dict[int, list[Region]] = {}
        for (township, name), region in self.by_name.items():
            if not name or name not in text:
                continue
            township_named = (
                any(t in text for t in _base_names(township, TOWNSHIP_SUFFIXES, "")) if township else False
            )
            scored.setdefault(len(name) * 2 + (1 if township_named else 0), []).append(region)
        if not scored:
            return (
                None,
                "标题中写的村不在行政区划表中（或标题没有写明村），请先导入区划表或在表中加上乡镇、村两列",
            )
        best = scored[max(scored)]
        if len(best) > 1:
            return None, "标题中的村名在多个乡镇都有，请在标题中写明乡镇，或在表中加上乡镇、村两列"
        return best[0], ""

    def note_lines(self) -> list[str]:
        """What was left out, for the import's notes: nobody disappears without a word."""
        return [
            f"未导入{LEFT_OUT_REASONS[reason]}的{count}人（第{self.first_left_out[reason]}行起）"
            for reason, count in self.left_out.most_common()
        ]

    # -- rows --

    def place(self, number: int, region_data: dict[str, Any], listed: dict[str, Any], member: dict[str, Any],
              member_key: str, head_key: str, problems: list[Problem]) -> Placement:  # fmt: skip
        """Left out, or the village and the 户编号 of one row. `listed` holds the population columns taken
        off the row; `head_key` the keyed hash of a 户主证件号码 column, `member_key` of the person."""
        if reason := self._left_out_reason(listed):
            return self._leave_out(number, reason)
        region, neighbourhood = self._village(number, region_data, problems)
        if neighbourhood:
            return self._leave_out(number, "neighbourhood")
        placement = Placement(region=region)
        for name, label in EXTRA_LABELS.items():
            if value := cells.text(listed.get(name) or ""):
                placement.extra[label] = value
        if region is None:
            return placement
        if self.layout == "huji":
            register_no = cells.text(listed.get("register_no") or "")
            if register_no:
                placement.key = f"{HUJI_PREFIX}{region.code}{register_no}"
            else:
                self._problem(problems, number, "household.register_no", "户号", "必填，不能为空")
        else:
            placement.key = self._roster_key(number, region, listed, member, member_key, head_key, problems)
        if placement.key:
            self._carry_household_facts(placement, listed)
        return placement

    def _leave_out(self, number: int, reason: str) -> Placement:
        self.left_out[reason] += 1
        self.first_left_out.setdefault(reason, number)
        return Placement(left_out=reason)

    def _left_out_reason(self, listed: dict[str, Any]) -> str:
        category = header_key(cells.text(listed.get("register_category") or ""))
        if category in URBAN_CATEGORIES:
            return "urban"
        cancelled = cells.text(listed.get("cancelled") or "")
        if cancelled in YES_WORDS or (
            any(word in cancelled for word in CANCELLED_WORDS) and not cancelled.startswith(NO_WORDS)
        ):
            return "cancelled"
        return ""

    def _problem(self, problems: list[Problem], number: int, target: str, label: str, message: str) -> None:
        index, name = self.columns.get(target, (None, label))
        problems.append(Problem(number, name, message, index))

    def _village(
        self, number: int, data: dict[str, Any], problems: list[Problem]
    ) -> tuple[Region | None, bool]:
        """(village, is an urban neighbourhood). By the 12-digit code, else by the names (as 公安 writes
        them: 东关村村民委员会), else the title's village; a rural village the table lacks is a problem."""
        if code := data.get("code"):
            region = self.by_code.get(code)
            if region is None and _neighbourhood_code(code):
                return None, True
            if region is None:
                self._problem(
                    problems, number, "region.code", "行政区划代码", f"「{code}」不是区划表中的村级代码"
                )
            return region, False
        township, village = data.get("township", ""), data.get("village", "")
        if not village:
            if self.title_region is not None:
                return self.title_region, False
            self._problem(problems, number, "region.village", "村", "必填，不能为空")
            return None, False
        townships = _base_names(township, TOWNSHIP_SUFFIXES, "") if township else []
        if not townships and self.title_region is not None and self.title_region.parent:
            townships = [self.title_region.parent.name]
        names = _base_names(village, VILLAGE_SUFFIXES, "村")
        for name in names:
            for town in townships:
                if (region := self.by_name.get((town, name))) is not None:
                    return region, False
            if not townships and len(self.by_village.get(name, [])) == 1:
                return self.by_village[name][0], False
        if village.endswith(URBAN_VILLAGE_SUFFIXES):
            return None, True
        if not townships and any(len(self.by_village.get(name, [])) > 1 for name in names):
            message = f"「{village}」在多个乡镇都有，请填写所属乡镇"
        else:
            message = f"「{township}{village}」不在行政区划表中，请先导入区划表"
        self._problem(problems, number, "region.village", "村", message)
        return None, False

    def _roster_key(self, number: int, region: Region, listed: dict[str, Any], member: dict[str, Any],
                    member_key: str, head_key: str, problems: list[Problem]) -> str:  # fmt: skip
        """The 花名册 household: by a 户主证件号码 column if there is one, else the 户主 row that opened it."""
        prefix = f"{ROSTER_PREFIX}{region.code}"
        if head_key:
            return prefix + head_key[:HEAD_HASH_DIGITS]
        listed_head = cells.text(listed.get("listed_head") or "")
        if member.get("relation") == "户主":
            name = member.get("name", "")
            # a head whose ID is unusable has its problem already; its members wait without a second one
            self.open_head = (region.pk, name, member_key)
            if member_key:
                self.heads[(region.pk, name)] = member_key
            return prefix + member_key[:HEAD_HASH_DIGITS] if member_key else ""
        head = self.open_head
        if head and head[0] == region.pk and (not listed_head or listed_head == head[1]):
            return prefix + head[2][:HEAD_HASH_DIGITS] if head[2] else ""
        if listed_head and (found := self.heads.get((region.pk, listed_head))):
            return prefix + found[:HEAD_HASH_DIGITS]
        target, label = (
            ("household.listed_head", "户主姓名") if listed_head else ("member.relation", "与户主关系")
        )
        self._problem(problems, number, target, label,
                      "本行之前没有本户户主的一行（与户主关系为“户主”）：无法确定属于哪一户，请把户主排在本户成员之前")  # fmt: skip
        return ""

    def _carry_household_facts(self, placement: Placement, listed: dict[str, Any]) -> None:
        """A 花名册 writes the 村民小组 and the 家庭人口 once, on the head's row (or in a merged cell):
        the household's other rows take them from there."""
        key = placement.key
        group = placement.extra.get(EXTRA_LABELS["group"])
        if group:
            self.open_group.setdefault(key, group)
        elif key in self.open_group:
            placement.extra[EXTRA_LABELS["group"]] = self.open_group[key]
        if (size := listed.get("current_size")) and key not in self.sizes:
            self.sizes[key] = size
