"""What a user may read of a comparison, always through the region scope: one filter definition for the
list, the counts and the export."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from fangpin.regions.models import Level, Region, code_range

from .compare import GROUPS, group_q
from .models import CheckMark, Comparison, Difference, Entry

STATUSES = {
    "open": "待核对",
    "checked": "已核对",
    "only_national": "仅国家系统有",
    "only_fangpin": "仅本平台有",
}


@dataclass
class Filters:
    region: str = ""
    group: str = ""
    status: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params: Any) -> Filters:
        values = {
            name: (params.get(name) or "").replace("\x00", "").strip()[:40]
            for name in cls.__dataclass_fields__
        }
        return cls(**values)

    def as_params(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}

    def narrow(self, queryset: QuerySet, *, on_entry: str = "") -> QuerySet:
        """Narrow an already scoped queryset of entries (or of differences, `on_entry="entry__"`)."""
        if self.region.isdigit() and (region := Region.objects.filter(code=self.region).first()):
            queryset = queryset.filter(region_code__range=code_range(region.prefix))
        if self.q:
            queryset = queryset.filter(
                Q(**{f"{on_entry}household_no": self.q}) | Q(**{f"{on_entry}head_name__startswith": self.q})
            )
        return queryset


def _checked(prefix: str = "") -> Exists:
    return Exists(
        CheckMark.objects.filter(household_no=OuterRef(f"{prefix}household_no"),
                                 fingerprint=OuterRef(f"{prefix}fingerprint"))
    )  # fmt: skip


def entries(user: Any, comparison: Comparison, filters: Filters) -> QuerySet[Entry]:
    """The households with differences the user may see, with `checked` (已核对) annotated."""
    queryset = (
        Entry.objects.for_user(user)
        .filter(comparison=comparison, differences__gt=0)
        .annotate(checked=_checked())
    )
    queryset = filters.narrow(queryset)
    if filters.group in GROUPS:
        matching = Difference.objects.filter(comparison=comparison).filter(group_q(filters.group))
        queryset = queryset.filter(pk__in=matching.values("entry_id"))
    if filters.status == "open":
        queryset = queryset.filter(checked=False)
    elif filters.status == "checked":
        queryset = queryset.filter(checked=True)
    elif filters.status == "only_national":
        queryset = queryset.filter(in_fangpin=False)
    elif filters.status == "only_fangpin":
        queryset = queryset.filter(national__isnull=True)
    return queryset


def differences(user: Any, comparison: Comparison, filters: Filters) -> QuerySet[Difference]:
    """The differences of the households `entries` lists (the export's rows)."""
    chosen = entries(user, comparison, filters)
    queryset = Difference.objects.for_user(user).filter(comparison=comparison, entry__in=chosen.values("pk"))
    if filters.group in GROUPS:
        queryset = queryset.filter(group_q(filters.group))
    return queryset


def checked_entries(user: Any, comparison: Comparison) -> set[int]:
    scoped = Entry.objects.for_user(user).filter(comparison=comparison, differences__gt=0)
    return set(scoped.filter(_checked()).values_list("pk", flat=True))


@dataclass
class CountRow:
    code: str
    name: str
    households: int = 0
    only_national: int = 0
    only_fangpin: int = 0
    checked: int = 0
    by_group: dict[str, int] | None = None

    @property
    def open(self) -> int:
        return self.households - self.checked


def counts(user: Any, comparison: Comparison) -> tuple[list[CountRow], CountRow]:
    """Households with differences per township (a county user) or per village (anyone below), with the
    kinds of difference, and the total of the user's scope."""
    region = user.region
    by_village = region is not None and region.level >= Level.TOWNSHIP
    width = 12 if by_village else 9

    def unit(code: str) -> str:
        return code[:width].ljust(12, "0")

    rows: dict[str, CountRow] = {}
    total = CountRow("", "合计", by_group=defaultdict(int))
    scoped = (
        Entry.objects.for_user(user)
        .filter(comparison=comparison, differences__gt=0)
        .annotate(checked=_checked(), only_ours=ExpressionWrapper(Q(national__isnull=True), BooleanField()))
    )
    for code, in_fangpin, national_missing, checked in scoped.values_list(
        "region_code", "in_fangpin", "only_ours", "checked"
    ):
        row = rows.setdefault(unit(code), CountRow(unit(code), "", by_group=defaultdict(int)))
        for target in (row, total):
            target.households += 1
            target.only_national += not in_fangpin
            target.only_fangpin += bool(national_missing)
            target.checked += bool(checked)
    field_group = {name: group for group, (_, names) in GROUPS.items() for name in names}
    seen: set[tuple[int, str]] = set()
    for entry_id, code, field in (
        Difference.objects.for_user(user)
        .filter(comparison=comparison)
        .values_list("entry_id", "region_code", "field")
    ):
        group = "measures" if field.startswith("measure:") else field_group.get(field, "")
        if (entry_id, group) in seen or unit(code) not in rows:
            continue
        seen.add((entry_id, group))
        rows[unit(code)].by_group[group] += 1
        total.by_group[group] += 1
    names = dict(Region.objects.filter(code__in=list(rows)).values_list("code", "name"))
    for row in rows.values():
        row.name = names.get(row.code, row.code)
        row.by_group = dict(row.by_group)
    total.by_group = dict(total.by_group)
    return sorted(rows.values(), key=lambda r: r.code), total
