"""The dashboard's figures for one scope and one as-of day, read from the summary tables.

Every function takes the region (already checked against the user's scope) and the day; the counts come
from DailyCount (stored once per day), the pipeline from DailyFlow (events by day), the rectification
progress from the ledger's own items (a short table of its own, scoped by the ledger's queryset).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.db.models.lookups import GreaterThan

from fangpin.monitoring import procedure
from fangpin.monitoring.models import Case as MonitoringCase
from fangpin.regions.models import Level, Region, code_range
from fangpin.registry import choices
from fangpin.rules.models import TRUE_OUTCOMES, WARNING_FAMILIES, Finding

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
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        row["households"], row["people"] = row.pop("n_households"), row.pop("n_people")
        found[row["child"].ljust(12, "0")] = row
    late = (
        cases_over_limit(region, day)
        .annotate(child=Substr("region_code", 1, digits))
        .values("child", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in late:
        found.setdefault(row["child"].ljust(12, "0"), {})[f"{row['kind']}_late"] = row["n"]
    regions = Region.objects.filter(code__range=code_range(region.prefix), level=4 if digits == 9 else 5)
    empty = dict.fromkeys(
        ("households", "people", "open", "eliminated", "overdue", "uncovered", "undeveloped",
         "identification_late", "elimination_late"), 0
    )  # fmt: skip
    result = []
    for child in regions.order_by("code"):
        row = {**empty, **found.get(child.code, {})}
        row.update(code=child.code, name=child.name)
        result.append(row)
    return label, result


# ---- cases over the clock -------------------------------------------------------------------------

CASE_KINDS = (procedure.IDENTIFICATION, procedure.ELIMINATION)


def limits() -> dict[str, int]:
    """Each procedure's statutory limit in days (procedure.toml)."""
    return {kind: procedure.procedure(kind).total_days for kind in CASE_KINDS}


def cases_over_limit(
    region: Region, day: dt.date, cases: QuerySet[MonitoringCase] | None = None
) -> QuerySet[MonitoringCase]:
    """Identification and elimination cases still open at the end of `day` that can no longer finish
    within their limit: counted in whole days as `within_limit` and the 识别时效统计表 count them
    ((end of day − opened).days > limit), so a case on the dashboard is one those call late. Read from
    the cases' own times, so a past day gives that day's number whatever was decided since."""
    moment = actions.end_of(day)
    late = Q(pk__in=[])
    for kind, days in limits().items():
        late |= Q(kind=kind, opened_at__lte=moment - dt.timedelta(days=days + 1))
    # region_code range first: the (region_code, status) index narrows a township or village
    cases = MonitoringCase.objects.all() if cases is None else cases
    return (
        cases.in_region(region).filter(late).filter(Q(finished_at__isnull=True) | Q(finished_at__gte=moment))
    )


def over_limit(region: Region, day: dt.date) -> dict[str, int]:
    """How many cases of each kind are open past their limit at the end of `day`."""
    got = dict.fromkeys(CASE_KINDS, 0)
    rows = cases_over_limit(region, day).values("kind").annotate(n=Count("id")).order_by()
    for row in rows:
        got[row["kind"]] = row["n"]
    return got


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
    wanted = WARNING_METRICS
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
            "query": urlencode({"dept": department}),
        })  # fmt: skip
    return result


# ---- the events behind a number ------------------------------------------------------------------

LATE = {"identification_late": procedure.IDENTIFICATION, "elimination_late": procedure.ELIMINATION}
LATE_LABELS = {"identification_late": "识别纳入超时未办结", "elimination_late": "风险消除超时未办结"}
WARNING_METRICS = (
    Metric.WARNING_RAISED,
    Metric.WARNING_VERIFIED,
    Metric.WARNING_TRUE,
    Metric.WARNING_CONFIRMED,
)


@dataclass
class Events:
    """The warnings or cases behind one number of the dashboard, scoped to the user and the region."""

    metric: str
    label: str
    warnings: bool  # Finding rows (else Case rows)
    period: bool  # counted over start..end (else at the end of the as-of day)
    rows: QuerySet[Any]


def metric_label(metric: str) -> str | None:
    if metric in LATE_LABELS:
        return LATE_LABELS[metric]
    return Metric(metric).label if metric in Metric.values else None


def events(
    user: Any, region: Region, metric: str, start: dt.date, end: dt.date, day: dt.date, department: str = ""
) -> Events | None:
    """The rows the DailyFlow refresh counts for `metric` (rebuild_flows: the same tables, the same
    local days, the same on-time rule), or the cases `over_limit` counts; None for an unknown metric.
    Read from the event tables through `for_user`, so a list can never reach past the user's scope."""
    label = metric_label(metric)
    if label is None:
        return None
    if metric in LATE:
        cases = MonitoringCase.objects.for_user(user).filter(kind=LATE[metric])
        return Events(metric, label, False, False, cases_over_limit(region, day, cases))
    low, high = actions.end_of(start - dt.timedelta(days=1)), actions.end_of(end)
    if metric in WARNING_METRICS:
        found = Finding.objects.for_user(user).in_region(region).filter(family__in=WARNING_FAMILIES)
        if department:
            found = found.filter(actions.department_rules(department))
        if metric == Metric.WARNING_RAISED:
            found = found.filter(created_at__gte=low, created_at__lt=high)
        else:
            found = found.exclude(outcome="").filter(outcome_at__gte=low, outcome_at__lt=high)
        if metric == Metric.WARNING_TRUE:
            found = found.filter(outcome__in=TRUE_OUTCOMES)
        elif metric == Metric.WARNING_CONFIRMED:
            found = found.filter(outcome=Finding.Outcome.CONFIRMED)
        return Events(metric, label, True, True, found)
    cases = MonitoringCase.objects.for_user(user).in_region(region)
    if metric == Metric.CASE_OPENED:
        cases = cases.filter(kind=procedure.IDENTIFICATION, opened_at__gte=low, opened_at__lt=high)
        return Events(metric, label, False, True, cases)
    kind = procedure.IDENTIFICATION if metric.startswith("identified") else procedure.ELIMINATION
    cases = cases.filter(
        kind=kind, status=MonitoringCase.Status.DONE, finished_at__gte=low, finished_at__lt=high
    )
    if metric.endswith("on_time"):  # (finished − opened).days <= limit, as rebuild_flows counts it
        deadline = ExpressionWrapper(
            F("opened_at") + dt.timedelta(days=limits()[kind] + 1), output_field=DateTimeField()
        )
        cases = cases.filter(finished_at__lt=deadline)
    return Events(metric, label, False, True, cases)


def describe(found: Events, rows: list[Any], day: dt.date) -> list[Any]:
    """Each row of a page with what the list shows beside the household: a warning's department, a
    case's days (to its decision, or to the end of the as-of day while open)."""
    moment = actions.end_of(day)
    for row in rows:
        if found.warnings:
            row.department = actions.department_of(row.rule_id)
        else:
            finished = row.finished_at if row.finished_at is not None and row.finished_at < moment else None
            row.decided_at = finished
            row.step_label = procedure.procedure(row.kind).step(row.step).label
            row.days = ((finished or moment) - row.opened_at).days
    return rows


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
