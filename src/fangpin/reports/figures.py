"""The dashboard's figures for one scope and one as-of day, read from the summary tables.

Every function takes the region (already checked against the user's scope) and the day; the counts come
from DailyCount (stored once per day), the pipeline from DailyFlow (events by day), the rectification
progress from the ledger's own items (a short table of its own, scoped by the ledger's queryset).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Substr
from django.db.models.lookups import GreaterThan

from fangpin.regions.models import Level, Region, code_range
from fangpin.registry import choices

from . import actions
from .models import BitCode, DailyCount, DailyFlow, Metric, Status


def counts(region: Region, day: dt.date) -> QuerySet[DailyCount]:
    actions.ensure_counts(day)
    return DailyCount.objects.filter(as_of=day).in_region(region)


def _sum(q: Q | None = None, measure: str = "households") -> Any:
    if q is None:
        return Coalesce(Sum(measure), 0)
    return Coalesce(Sum(Case(When(q, then=F(measure)), default=Value(0), output_field=IntegerField())), 0)


def has_bit(field_name: str, bit: int) -> Q:
    return Q(GreaterThan(F(field_name).bitand(1 << bit), 0))


MONITORED = ~Q(category="")
UNELIMINATED = Q(status=Status.UNELIMINATED)


@dataclass
class Overview:
    monitored: dict[str, int]
    by_category: list[dict[str, Any]]
    by_status: list[dict[str, Any]]
    by_type: list[dict[str, Any]]
    by_risk: list[dict[str, Any]]
    coverage: dict[str, int]
    children: list[dict[str, Any]] = field(default_factory=list)
    child_level: str = ""


def overview(region: Region, day: dt.date) -> Overview:
    rows = counts(region, day)
    sums: dict[str, Any] = {
        "households": _sum(MONITORED), "people": _sum(MONITORED, "people"), "all_households": _sum(),
        "all_people": _sum(None, "people"),
        "open": _sum(UNELIMINATED), "open_people": _sum(UNELIMINATED, "people"),
        "eliminated": _sum(Q(status=Status.ELIMINATED)),
        "eliminated_people": _sum(Q(status=Status.ELIMINATED), "people"),
        "overdue": _sum(MONITORED & Q(overdue=True)),
        "covered": _sum(UNELIMINATED & Q(risks_covered=True)),
        "labour": _sum(UNELIMINATED & Q(labour=True)),
        "labour_developed": _sum(UNELIMINATED & Q(labour=True, development=True)),
        "paired": _sum(UNELIMINATED & Q(paired=True)),
        "identifying": _sum(Q(case_kind="identification")),
        "eliminating": _sum(Q(case_kind="elimination")),
    }  # fmt: skip
    for category in choices.MONITORING_CATEGORIES:
        sums[f"c:{category}"] = _sum(Q(category=category))
        sums[f"cp:{category}"] = _sum(Q(category=category), "people")
    for htype in choices.HOUSEHOLD_TYPES:
        sums[f"t:{htype}"] = _sum(MONITORED & Q(household_type=htype))
        sums[f"tp:{htype}"] = _sum(MONITORED & Q(household_type=htype), "people")
    risks = actions.bit_labels(BitCode.Kind.RISK)
    for _label, bit in risks:
        sums[f"r:{bit}"] = _sum(UNELIMINATED & has_bit("risk_mask", bit))
        sums[f"re:{bit}"] = _sum(Q(status=Status.ELIMINATED) & has_bit("risk_mask", bit))
    aliases = {f"x{i}": name for i, name in enumerate(sums)}  # never a column's own name
    total = rows.aggregate(**{alias: sums[name] for alias, name in aliases.items()})
    got = {name: total[alias] for alias, name in aliases.items()}
    return Overview(
        monitored={
            k: got[k]
            for k in (
                "households",
                "people",
                "all_households",
                "all_people",
                "overdue",
                "open",
                "open_people",
                "eliminated",
                "eliminated_people",
                "identifying",
                "eliminating",
            )
        },
        by_category=[
            {"value": c, "label": c, "households": got[f"c:{c}"], "people": got[f"cp:{c}"]}
            for c in choices.MONITORING_CATEGORIES
        ],
        by_status=[
            {"value": "open", "label": "风险未消除", "households": got["open"], "people": got["open_people"]},
            {
                "value": "eliminated",
                "label": "风险已消除",
                "households": got["eliminated"],
                "people": got["eliminated_people"],
            },
        ],
        by_type=[
            {"value": t, "label": t, "households": got[f"t:{t}"], "people": got[f"tp:{t}"]}
            for t in choices.HOUSEHOLD_TYPES
        ],
        by_risk=[
            {"value": label, "label": label, "open": got[f"r:{bit}"], "eliminated": got[f"re:{bit}"]}
            for label, bit in risks
        ],
        coverage={k: got[k] for k in ("open", "covered", "labour", "labour_developed", "paired")}
        | {
            "uncovered": got["open"] - got["covered"],
            "undeveloped": got["labour"] - got["labour_developed"],
            "unpaired": got["open"] - got["paired"],
        },
    )


def child_level(region: Region) -> tuple[int, str] | None:
    """(code digits, label) of the next level down, or None for a village."""
    if region.level <= Level.COUNTY:
        return 9, "乡镇"
    if region.level == Level.TOWNSHIP:
        return 12, "村"
    return None


def children(region: Region, day: dt.date) -> tuple[str, list[dict[str, Any]]]:
    """The figures of each township (of a county) or village (of a township)."""
    level = child_level(region)
    if level is None:
        return "", []
    digits, label = level
    rows = (
        counts(region, day)
        .annotate(child=Substr("region_code", 1, digits))
        .values("child")
        .annotate(
            n_households=_sum(MONITORED),
            n_people=_sum(MONITORED, "people"),
            open=_sum(UNELIMINATED),
            eliminated=_sum(Q(status=Status.ELIMINATED)),
            overdue=_sum(MONITORED & Q(overdue=True)),
            uncovered=_sum(UNELIMINATED & Q(risks_covered=False)),
            undeveloped=_sum(UNELIMINATED & Q(labour=True, development=False)),
        )
        .order_by("child")
    )
    found = {}
    for row in rows:
        row["households"], row["people"] = row.pop("n_households"), row.pop("n_people")
        found[row["child"].ljust(12, "0")] = row
    regions = Region.objects.filter(code__range=code_range(region.prefix), level=4 if digits == 9 else 5)
    empty = dict.fromkeys(
        ("households", "people", "open", "eliminated", "overdue", "uncovered", "undeveloped"), 0
    )
    result = []
    for child in regions.order_by("code"):
        row = {**empty, **found.get(child.code, {})}
        row.update(code=child.code, name=child.name)
        result.append(row)
    return label, result


# ---- the pipeline of a period --------------------------------------------------------------------


def flows(region: Region, start: dt.date, end: dt.date) -> QuerySet[DailyFlow]:
    return DailyFlow.objects.in_region(region).filter(day__range=(start, end))


def pipeline(region: Region, start: dt.date, end: dt.date) -> dict[str, int]:
    totals = {m.value: 0 for m in Metric}
    for row in flows(region, start, end).values("metric").annotate(n=Sum("n")).order_by():
        totals[row["metric"]] = row["n"]
    return totals


def by_department(region: Region, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Warnings per department: pushed, verified, right (confirmed or already helped), precision."""
    wanted = (Metric.WARNING_RAISED, Metric.WARNING_VERIFIED, Metric.WARNING_TRUE, Metric.WARNING_CONFIRMED)
    table: dict[str, dict[str, int]] = {}
    rows = flows(region, start, end).filter(metric__in=wanted).values("key", "metric").annotate(n=Sum("n"))
    for row in rows.order_by():
        table.setdefault(row["key"], {m.value: 0 for m in wanted})[row["metric"]] = row["n"]
    result = []
    for department in sorted(table):
        row = table[department]
        verified, right = row[Metric.WARNING_VERIFIED], row[Metric.WARNING_TRUE]
        result.append({
            "department": department, "raised": row[Metric.WARNING_RAISED], "verified": verified,
            "right": right, "confirmed": row[Metric.WARNING_CONFIRMED],
            "precision": f"{100 * right / verified:.1f}%" if verified else "—",
        })  # fmt: skip
    return result


def month_ends(day: dt.date, months: int = 12) -> list[dt.date]:
    """The last day of each of the `months` months up to `day` (the last one is `day` itself)."""
    ends = [day]
    first = day.replace(day=1)
    for _ in range(months - 1):
        last = first - dt.timedelta(days=1)
        ends.append(last)
        first = last.replace(day=1)
    return list(reversed(ends))


def trend(region: Region, day: dt.date, since: dt.date | None) -> list[dict[str, Any]]:
    """Per month: monitored households at its end (from the facts, once they exist) and the events."""
    result = []
    for end in month_ends(day):
        start = end.replace(day=1)
        row: dict[str, Any] = {"month": f"{end:%Y-%m}", "end": end}
        row.update(pipeline(region, start, end))
        if since is not None and end >= since:
            got = counts(region, end).aggregate(m=_sum(MONITORED), o=_sum(UNELIMINATED))
            row["monitored"], row["open"] = got["m"], got["o"]
        else:
            row["monitored"] = row["open"] = None
        result.append(row)
    return result


# ---- rectification 清零 ---------------------------------------------------------------------------


def rectification(user: Any, region: Region, day: dt.date) -> dict[str, int] | None:
    """Items of the ledger in the scope as they stood at the end of `day`: raised, 销号, open, overdue."""
    if not user.can("view_rectification"):
        return None
    from fangpin.rectification.models import Item

    moment = actions.end_of(day)
    items = Item.objects.for_user(user).in_region(region).filter(created_at__lt=moment)
    closed = Q(closed_at__isnull=False, closed_at__lt=moment)
    got = items.aggregate(
        total=Coalesce(Sum(Value(1)), 0),
        closed=Coalesce(Sum(Case(When(closed, then=1), default=0)), 0),
        overdue=Coalesce(Sum(Case(When(~closed & Q(deadline__lt=day), then=1), default=0)), 0),
    )
    got["open"] = got["total"] - got["closed"]
    got["percent"] = round(100 * got["closed"] / got["total"]) if got["total"] else 100
    return got
