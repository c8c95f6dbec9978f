"""民政低收入人口比对: the current 民政 list against fangpin's register and monitored set, by ID hash.

Three groups, household by household and person by person, each with the reason to look:

- 两边都有: a monitored household (风险未消除 or 已消除) with people on the 民政 list, and every way the two
  sides disagree (民政 still assists a household whose risk fangpin says is eliminated; a 特困 person
  whose household is not 整户无劳动能力; the register's 是否享受低保/特困 saying 否 or nothing for a person
  民政 lists; the register saying 是 for a member 民政 does not list; people of 民政's household missing
  from the register's);
- 仅民政有: people on the list in the register but not monitored, and people not in the register at all;
- 仅本平台监测: monitored households whose risk is not eliminated with nobody on the list.

Computed against the register as it is now (cached per data version and scope, like the home page's
counts), always inside the user's region: a person is where the register puts them, or where the list
says when the register does not hold them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fangpin.regions.models import Level, Region
from fangpin.registry.models import Household, Member
from fangpin.web import summary

from .categories import REGISTER_FIELDS, by_name
from .models import AidList, AidPerson

BOTH, AID_REGISTERED, AID_UNREGISTERED, FANGPIN = "both", "aid_registered", "aid_unregistered", "fangpin"
GROUPS = {
    BOTH: "两边都有",
    AID_REGISTERED: "仅民政有（在台账、未监测）",
    AID_UNREGISTERED: "仅民政有（不在台账）",
    FANGPIN: "仅本平台监测",
}
# the filter's choices: the two kinds of 仅民政有 together as well
FILTER_GROUPS = {BOTH: "两边都有", "aid": "仅民政有", AID_REGISTERED: GROUPS[AID_REGISTERED],
                 AID_UNREGISTERED: GROUPS[AID_UNREGISTERED], FANGPIN: GROUPS[FANGPIN]}  # fmt: skip
WHY = {
    BOTH: "请核对民政救助类型与本平台监测类别、风险消除情况和台账登记是否一致",
    AID_REGISTERED: "民政救助对象未纳入防止返贫致贫监测，请核实是否存在返贫致贫风险",
    AID_UNREGISTERED: "不在本平台农户台账中，请核实户籍或补录",
    FANGPIN: "监测对象未纳入民政低收入人口，请核实是否符合社会救助条件（可转介民政）",
}
BATCH = 2000
VIEW = "view_register"


def current_list(user: Any) -> AidList | None:
    """The list in use whose scope holds the user's region (the nearest one if several do)."""
    region = getattr(user, "region", None)
    if region is None:
        return None
    lists = AidList.objects.filter(status=AidList.Status.CURRENT).order_by("-imported_at", "-id")
    candidates = [
        a
        for a in lists.only("id", "region_code", "imported_at")
        if region.code.startswith(scope_prefix(a.region_code))
    ]
    if not candidates:
        return None
    best = max(candidates, key=lambda a: (len(scope_prefix(a.region_code)), a.imported_at, a.pk))
    return AidList.objects.get(pk=best.pk)


def scope_prefix(code: str) -> str:
    region = Region.objects.filter(code=code).first()
    return region.prefix if region else code


@dataclass
class PersonRow:
    group: str
    region_code: str
    name: str
    id_masked: str
    relation: str = ""  # the register's 与户主关系
    household_no: str = ""
    categories: list[str] = field(default_factory=list)  # 民政's
    monitoring: str = ""  # fangpin's category and risk status, as officials say it
    reasons: list[str] = field(default_factory=list)


@dataclass
class HouseholdRow:
    group: str
    region_code: str
    head_name: str
    head_masked: str
    household_no: str = ""
    household_id: int | None = None
    categories: list[str] = field(default_factory=list)
    aid_size: int | None = None  # 民政's 保障人数
    aid_people: int = 0  # people of the household on the list
    register_size: int | None = None
    monitoring: str = ""
    reasons: list[str] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)


@dataclass
class Result:
    households: list[HouseholdRow]
    people: list[PersonRow]
    ended: int = 0  # people of the list whose 结束日期 is before the list's date: not compared


def monitoring_text(household: Household) -> str:
    if not household.monitoring_category:
        return "未纳入监测"
    state = "风险已消除" if household.risk_eliminated else "风险未消除"
    return f"{household.monitoring_category}（{state}）"


def _yes_no(value: bool | None) -> str:
    return "未填写" if value is None else ("是" if value else "否")


def _merge(values: list[str], more: list[str]) -> list[str]:
    return values + [v for v in more if v not in values]


def build(aid_list: AidList, region: Region) -> Result:
    """The comparison inside `region` (uncached: `result` caches it for a user's scope)."""
    config = by_name()
    people = list(AidPerson.objects.filter(aid_list=aid_list))
    ended = [p for p in people if p.end_date and p.end_date < aid_list.as_of]
    people = [p for p in people if not (p.end_date and p.end_date < aid_list.as_of)]
    members: dict[str, Member] = {}
    hashes = [p.id_hash for p in people]
    for start in range(0, len(hashes), BATCH):
        for member in Member.objects.filter(id_number_hash__in=hashes[start : start + BATCH]).only(
            "id", "household_id", "region_code", "name", "relation", "id_number_hash", "id_number_masked",
            "dibao", "tekun",
        ):  # fmt: skip
            members[member.id_number_hash] = member

    def place(person: AidPerson) -> str:
        member = members.get(person.id_hash)
        return member.region_code if member else person.region_code

    people = [p for p in people if region.contains(place(p))]
    ended_count = sum(1 for p in ended if region.contains(place(p)))
    matched_households = {members[p.id_hash].household_id for p in people if p.id_hash in members}
    monitored = (
        Household.objects.in_region(region).exclude(monitoring_category="").exclude(risk_eliminated=True)
    )
    fangpin_only = set(monitored.exclude(pk__in=_all_matched(aid_list)).values_list("pk", flat=True))
    ids = sorted(matched_households | fangpin_only)
    households: dict[int, Household] = {}
    for start in range(0, len(ids), BATCH):
        for household in Household.objects.filter(pk__in=ids[start : start + BATCH]).only(
            "id", "household_no", "head_name", "region_code", "monitoring_category", "risk_eliminated",
            "no_labour_household", "current_size",
        ):  # fmt: skip
            households[household.pk] = household
    register_members: dict[int, list[Member]] = defaultdict(list)
    for start in range(0, len(ids), BATCH):
        for member in Member.objects.filter(household_id__in=ids[start : start + BATCH]).only(
            "id", "household_id", "region_code", "name", "relation", "id_number_hash", "id_number_masked",
            "dibao", "tekun",
        ):  # fmt: skip
            register_members[member.household_id].append(member)

    on_list = {p.id_hash for p in people}
    by_household: dict[int, list[AidPerson]] = defaultdict(list)
    by_key: dict[str, list[AidPerson]] = defaultdict(list)
    for person in people:
        by_key[person.household_key].append(person)
        if person.id_hash in members:
            by_household[members[person.id_hash].household_id].append(person)
    # people of a 民政 household the register has (through another of its people) but not as them
    strays: dict[int, list[AidPerson]] = defaultdict(list)
    unregistered_keys: list[str] = []
    for key, group in by_key.items():
        found = [members[p.id_hash].household_id for p in group if p.id_hash in members]
        missing = [p for p in group if p.id_hash not in members]
        if not found:
            unregistered_keys.append(key)
        elif missing:
            strays[found[0]].extend(missing)

    rows: list[HouseholdRow] = []
    person_rows: list[PersonRow] = []
    for household_id, listed in by_household.items():
        household = households[household_id]
        group = BOTH if household.monitoring_category else AID_REGISTERED
        categories: list[str] = []
        for person in listed:
            categories = _merge(categories, person.category_list)
        head = next((m for m in register_members[household_id] if m.relation == "户主"), None)
        row = HouseholdRow(
            group=group, region_code=household.region_code, head_name=household.head_name,
            head_masked=head.id_number_masked if head else "", household_no=household.household_no,
            household_id=household.pk, categories=categories, aid_size=_size(listed),
            aid_people=len(listed) + len(strays.get(household_id, [])), register_size=household.current_size,
            monitoring=monitoring_text(household),
        )  # fmt: skip
        if group == BOTH:
            row.reasons += _household_reasons(household, categories, config)
        for person in listed:
            member = members[person.id_hash]
            own = _person_reasons(member, person.category_list, config)
            if group == BOTH:
                own = _household_reasons(household, person.category_list, config) + own
            row.reasons += [
                f"{member.name}：{r}" for r in _person_reasons(member, person.category_list, config)
            ]
            person_rows.append(PersonRow(
                group=group, region_code=member.region_code, name=member.name, id_masked=member.id_number_masked,
                relation=member.relation, household_no=household.household_no, categories=person.category_list,
                monitoring=row.monitoring, reasons=own if group == BOTH else [WHY[group], *own],
            ))  # fmt: skip
        for member in register_members[household_id]:
            if member.id_number_hash not in on_list:
                row.reasons += [f"{member.name}：{r}" for r in _unlisted_reasons(member)]
        if missing := strays.get(household_id):
            names = "、".join(f"{p.name}（{p.id_masked}）" for p in missing)
            row.reasons.append(f"民政名单中同户的{names}不在本平台该户台账中")
            for person in missing:
                person_rows.append(PersonRow(
                    group=AID_UNREGISTERED, region_code=household.region_code, name=person.name,
                    id_masked=person.id_masked, household_no=household.household_no,
                    categories=person.category_list, monitoring="不在台账",
                    reasons=[WHY[AID_UNREGISTERED], f"民政名单中与{household.head_name}同户，本平台该户台账中没有此人"],
                ))  # fmt: skip
        if group == AID_REGISTERED:
            row.reasons.insert(0, WHY[AID_REGISTERED])
        rows.append(row)

    for key in unregistered_keys:
        listed = by_key[key]
        head = next((p for p in listed if p.id_hash == key), None)
        first = head or listed[0]
        categories = []
        for person in listed:
            categories = _merge(categories, person.category_list)
        rows.append(HouseholdRow(
            group=AID_UNREGISTERED, region_code=first.region_code, head_name=first.head_name or first.name,
            head_masked=first.head_id_masked or first.id_masked, categories=categories, aid_size=_size(listed),
            aid_people=len(listed), monitoring="不在台账", reasons=[WHY[AID_UNREGISTERED]],
        ))  # fmt: skip
        for person in listed:
            person_rows.append(PersonRow(
                group=AID_UNREGISTERED, region_code=person.region_code, name=person.name,
                id_masked=person.id_masked, categories=person.category_list, monitoring="不在台账",
                reasons=[WHY[AID_UNREGISTERED]],
            ))  # fmt: skip

    for household_id in fangpin_only:
        household = households[household_id]
        head = next((m for m in register_members[household_id] if m.relation == "户主"), None)
        row = HouseholdRow(
            group=FANGPIN, region_code=household.region_code, head_name=household.head_name,
            head_masked=head.id_number_masked if head else "", household_no=household.household_no,
            household_id=household.pk, register_size=household.current_size,
            monitoring=monitoring_text(household), reasons=[WHY[FANGPIN]],
        )  # fmt: skip
        for member in register_members[household_id]:
            own = _unlisted_reasons(member)
            row.reasons += [f"{member.name}：{r}" for r in own]
            person_rows.append(PersonRow(
                group=FANGPIN, region_code=member.region_code, name=member.name, id_masked=member.id_number_masked,
                relation=member.relation, household_no=household.household_no, monitoring=row.monitoring,
                reasons=[WHY[FANGPIN], *own],
            ))  # fmt: skip
        rows.append(row)

    rows.sort(key=lambda r: (list(GROUPS).index(r.group), r.region_code, r.household_no, r.head_name))
    person_rows.sort(key=lambda p: (list(GROUPS).index(p.group), p.region_code, p.household_no, p.name))
    return Result(rows, person_rows, ended_count)


def _all_matched(aid_list: AidList) -> Any:
    """The households any person of the list (still assisted on the list's date) belongs to."""
    listed = AidPerson.objects.filter(aid_list=aid_list).exclude(end_date__lt=aid_list.as_of)
    return Member.objects.filter(id_number_hash__in=listed.values("id_hash")).values("household_id")


def _size(listed: list[AidPerson]) -> int | None:
    sizes = [p.household_size for p in listed if p.household_size]
    return max(sizes) if sizes else None


def _household_reasons(household: Household, categories: list[str], config: dict) -> list[str]:
    reasons = []
    for name in categories:
        category = config.get(name)
        if category is None:
            continue
        if category.conflicts_with_eliminated and household.risk_eliminated:
            reasons.append(f"民政仍按{name}救助，本平台该户风险已消除：请核实风险消除是否稳定")
        if category.expects_no_labour and household.no_labour_household is not True:
            reasons.append(f"民政认定为{category.label}，本平台未标注“整户无劳动能力兜底保障户”")
    return reasons


def _person_reasons(member: Member, categories: list[str], config: dict) -> list[str]:
    """The register's own 是否享受低保/特困 against the category 民政 lists the person in."""
    reasons = []
    for name in categories:
        category = config.get(name)
        if category is None or not category.register_field:
            continue
        value = getattr(member, category.register_field)
        if value is not True:
            label = REGISTER_FIELDS[category.register_field]
            reasons.append(f"民政名单为{name}，本平台台账“{label}”为{_yes_no(value)}")
    return reasons


def _unlisted_reasons(member: Member) -> list[str]:
    """A member the register says enjoys 低保 or 特困 while 民政's list does not name them."""
    reasons = []
    for field_name in REGISTER_FIELDS:
        if getattr(member, field_name) is True:
            reasons.append(f"本平台台账“{REGISTER_FIELDS[field_name]}”为是，民政名单中没有此人")
    return reasons


def result(aid_list: AidList, user: Any) -> Result:
    """`build` in the user's scope, once per data version: every change to the register or a list is
    audited, so the cached comparison is never older than the last committed change. Only those who see
    the register see it (a 民政 data officer sees the lists they uploaded, not the comparison)."""
    if not user.can(VIEW) or user.region is None:
        return Result([], [])
    region = user.region
    return summary.cached(
        "socialaid", f"{summary.scope_key(user)}:{aid_list.pk}", lambda: build(aid_list, region)
    )


def totals(found: Result) -> dict[str, Any]:
    """What a list's history keeps of the comparison on the day it was put in use."""
    households = {g: sum(1 for r in found.households if r.group == g) for g in GROUPS}
    people = {g: sum(1 for p in found.people if p.group == g) for g in GROUPS}
    differing = sum(1 for r in found.households if r.group == BOTH and r.reasons)
    return {"households": households, "people": people, "differing": differing}


# --- what the page and the export read of a result --------------------------------------------------


@dataclass
class Filters:
    region: str = ""
    group: str = ""
    level: str = "household"  # household / person
    differ: str = ""  # 两边都有: only those with a disagreement

    @classmethod
    def from_params(cls, params: Any) -> Filters:
        values = {n: (params.get(n) or "").replace("\x00", "").strip()[:20] for n in cls.__dataclass_fields__}
        if values["level"] not in {"household", "person"}:
            values["level"] = "household"
        if values["group"] not in FILTER_GROUPS:
            values["group"] = ""
        if not values["region"].isdigit():
            values["region"] = ""
        return cls(**values)

    def as_params(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def _in_group(group: str, wanted: str) -> bool:
    if not wanted:
        return True
    if wanted == "aid":
        return group in (AID_REGISTERED, AID_UNREGISTERED)
    return group == wanted


def chosen(found: Result, filters: Filters, user: Any) -> list[Any]:
    rows = found.people if filters.level == "person" else found.households
    prefix = ""
    if filters.region and user.covers(filters.region):
        region = Region.objects.filter(code=filters.region).first()
        prefix = region.prefix if region else ""
    out = []
    for row in rows:
        if prefix and not row.region_code.startswith(prefix):
            continue
        if not _in_group(row.group, filters.group):
            continue
        if filters.differ and (row.group != BOTH or not row.reasons):
            continue
        out.append(row)
    return out


@dataclass
class CountRow:
    code: str
    name: str
    households: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    people: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    differing: int = 0  # 两边都有 households with a disagreement

    def cells(self) -> list[tuple[int, int]]:
        return [(self.households[g], self.people[g]) for g in GROUPS]


def counts(found: Result, user: Any) -> tuple[list[CountRow], CountRow]:
    """Households and people of each group per township (a county user) or per village (below)."""
    by_village = user.region.level >= Level.TOWNSHIP
    rows: dict[str, CountRow] = {}
    total = CountRow("", "合计")

    def unit(code: str) -> str:
        """The township (or village) of a code; "" when the list named none the scope knows."""
        if by_village:
            return code if code[9:12].strip("0") else ""
        return code[:9] + "000" if code[6:9].strip("0") else ""

    for row in found.households:
        key = unit(row.region_code)
        for target in (rows.setdefault(key, CountRow(key, "")), total):
            target.households[row.group] += 1
            target.differing += row.group == BOTH and bool(row.reasons)
    for person in found.people:
        key = unit(person.region_code)
        for target in (rows.setdefault(key, CountRow(key, "")), total):
            target.people[person.group] += 1
    names = dict(Region.objects.filter(code__in=[k for k in rows if k]).values_list("code", "name"))
    unknown = "未识别到村" if by_village else "未识别到乡镇"
    for row in rows.values():
        row.name = names.get(row.code, row.code) if row.code else unknown
    return sorted(rows.values(), key=lambda r: (r.code == "", r.code)), total


def region_names(codes: set[str]) -> dict[str, str]:
    """Township and village names of the codes (12 digits each), for lists and exports."""
    wanted = {c for c in codes if c} | {c[:9] + "000" for c in codes if c}
    return dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
