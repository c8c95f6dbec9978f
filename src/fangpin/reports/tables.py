"""官方统计表: the five tables officials hand in, each one small declarative definition (title, columns,
how its rows are produced for a user, a region, an as-of day and a period), and one writer per format
(.xlsx, .docx, .pdf) shared by all five.

Every figure is what fangpin knew at the end of the as-of day, so an old date keeps its old numbers:
- household dimensions from the facts valid then (`actions.facts_on`, the dashboard's own source);
- register details a fact does not hold (户编号, 户主, the head's masked ID, 识别/消除监测时间, the paired
  cadre, the measures' dates) replayed from the audit log up to that moment (`audit.actions.replay`), never
  read from today's register;
- events (warnings verified, cases opened and decided) by the times their apps store, up to that moment.
IDs are only ever the stored masks. The statutory limits come from procedure.toml.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.db.models import Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from fangpin.audit.actions import record, replay
from fangpin.audit.models import Action, AuditEntry
from fangpin.common.safe_cells import merge_text, write_cell
from fangpin.monitoring import procedure
from fangpin.monitoring.actions import within_limit
from fangpin.monitoring.models import Case
from fangpin.reconciliation.exporter import local_date
from fangpin.regions.models import Level, Region, code_range
from fangpin.registry.filters import keyset_page
from fangpin.rules.models import WARNING_FAMILIES, Finding

from . import actions, figures
from .models import BitCode, HouseholdFact, Status

BATCH = 500  # rows expanded at a time: one replay query per batch, never a query per household
HISTORY_MODELS = ("registry.Household", "registry.Member", "monitoring.Pairing")
CHANGES = (Action.CREATE, Action.UPDATE, Action.DELETE)


# ---- what a table is -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | days (one decimal) | percent (a ratio, or None: —)
    width: int = 8  # in Latin letters (a CJK character is two): the share of the page in every format

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass(frozen=True)
class Scope:
    """Who asks, for which region (already checked against their scope), as of which day, for which
    period (tables about a period only; the period never ends after the as-of day)."""

    user: Any
    region: Region
    day: dt.date
    start: dt.date
    end: dt.date

    @property
    def moment(self) -> dt.datetime:
        return actions.end_of(self.day)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    note: Callable[[Scope], str]
    period: bool = False
    # a detail list: what is listed (scoped), the key it is paged and written in, a batch → its rows
    items: Callable[[Scope], QuerySet] | None = None
    key_fields: tuple[str, str] = ("region_code", "id")
    expand: Callable[[list[Any], Scope], list[dict[str, Any]]] | None = None
    # a summary: its rows (a 合计 row is added by summing), and the ratios of a row from its counts
    summary: Callable[[Scope], list[dict[str, Any]]] | None = None
    derive: Callable[[dict[str, Any]], None] = lambda row: None

    @property
    def detail(self) -> bool:
        return self.items is not None

    unit: str = ""  # 单位 of the counts (a detail list has none)

    def heading(self, scope: Scope) -> str:
        return f"{scope.region.name}{self.title}"


@dataclass(frozen=True)
class Signature:
    """The people under the table, and the day it was made (the figures do not depend on it)."""

    unit: str
    preparer: str
    reviewer: str
    made_on: dt.date = field(default_factory=timezone.localdate)


# ---- shared helpers --------------------------------------------------------------------------------


def _batches(items: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _region_names(region: Region) -> dict[str, str]:
    low, high = code_range(region.code[:6])  # the county's tree: townships of a village's rows too
    return dict(Region.objects.filter(code__range=(low, high)).values_list("code", "name"))


def _place(code: str, names: dict[str, str]) -> tuple[str, str]:
    return names.get(code[:9] + "000", ""), names.get(code, code)


def _month(text: Any) -> str:
    text = str(text or "")
    return f"{text[:4]}年{int(text[4:])}月" if len(text) == 6 and text.isdigit() else text


def _labels(kind: str) -> list[tuple[str, int]]:
    return actions.bit_labels(kind)


def _mask_text(mask: int, labels: list[tuple[str, int]]) -> str:
    return "、".join(label for label, bit in labels if mask & (1 << bit))


@dataclass
class Known:
    """A household as fangpin knew it at a moment, rebuilt from the audit log."""

    household: dict[str, Any]
    members: list[dict[str, Any]]
    pairings: list[dict[str, Any]]

    @property
    def head(self) -> dict[str, Any]:
        return next((m for m in self.members if m.get("relation") == "户主"), {})

    def cadre_id(self, day: dt.date) -> int | None:
        for pairing in self.pairings:
            since, until = pairing.get("since") or "", pairing.get("until") or ""
            if since <= day.isoformat() and (not until or until >= day.isoformat()):
                return pairing.get("cadre_id")
        return None


def known_at(household_ids: list[int], at: dt.datetime | dict[int, dt.datetime]) -> dict[int, Known]:
    """Each household as known at `at` (one moment, or one per household): its create/update/delete
    entries up to then, replayed. One query for the batch, along the (household_id, seq) index."""
    latest = at if isinstance(at, dt.datetime) else max(at.values(), default=timezone.now())
    entries = (
        AuditEntry.objects.filter(
            household_id__in=household_ids, model__in=HISTORY_MODELS, action__in=CHANGES, at__lt=latest
        )
        .only("household_id", "seq", "model", "object_id", "action", "after", "at")
        .order_by("household_id", "seq")
    )
    grouped: dict[int, list[AuditEntry]] = defaultdict(list)
    for entry in entries:
        cutoff = at if isinstance(at, dt.datetime) else at[entry.household_id]
        if entry.at < cutoff:
            grouped[entry.household_id].append(entry)
    result = {}
    for household_id in household_ids:
        rows = replay(grouped.get(household_id, []))
        by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (model, _), values in rows.items():
            by_model[model].append(values)
        households = by_model.get("registry.Household", [{}])
        result[household_id] = Known(households[0], by_model.get("registry.Member", []),
                                     by_model.get("monitoring.Pairing", []))  # fmt: skip
    return result


def _cadre_names(ids: Iterable[int | None]) -> dict[int, str]:
    from fangpin.accounts.models import User

    wanted = {i for i in ids if i}
    return {u.pk: u.display_name for u in User.objects.filter(pk__in=wanted)}


def _identity(known: Known) -> dict[str, Any]:
    head = known.head
    return {
        "household_no": known.household.get("household_no", ""),
        "head": known.household.get("head_name") or head.get("name", ""),
        "id_masked": head.get("id_number_masked", ""),  # the stored mask: never the clear number
    }


def _units(region: Region) -> tuple[str, int, list[tuple[str, str]]]:
    """(label, code digits, [(code prefix, name)]) of the rows of a summary: the townships of a county, the
    villages of a township, the village itself."""
    level = figures.child_level(region)
    if level is None:
        return "村", 12, [(region.code, region.name)]
    digits, label = level
    children = Region.objects.filter(
        code__range=code_range(region.prefix), level=Level.TOWNSHIP if digits == 9 else Level.VILLAGE
    )
    return label, digits, [(r.code[:digits], r.name) for r in children.order_by("code")]


def _by_unit(
    region: Region, counted: dict[str, dict[str, Any]], empty: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per unit (with zeros where nothing was counted), then any code outside the region list."""
    units = _units(region)[2]
    rows = [{"unit": name, **empty, **counted.get(prefix, {})} for prefix, name in units]
    known = {prefix for prefix, _ in units}
    rows += [
        {"unit": prefix, **empty, **row} for prefix, row in sorted(counted.items()) if prefix not in known
    ]
    return rows


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ---- 监测对象明细表 -------------------------------------------------------------------------------


def _monitored_items(scope: Scope) -> QuerySet:
    facts = HouseholdFact.objects.for_user(scope.user).in_region(scope.region)
    return actions.facts_on(scope.day, facts).filter(figures.MONITORED)


def _monitored_rows(facts: list[HouseholdFact], scope: Scope) -> list[dict[str, Any]]:
    names = _region_names(scope.region)
    risks, measures = _labels(BitCode.Kind.RISK), _labels(BitCode.Kind.MEASURE)
    known = known_at([f.household_id for f in facts], scope.moment)
    cadres = _cadre_names(k.cadre_id(scope.day) for k in known.values())
    rows = []
    for fact in facts:
        history = known[fact.household_id]
        township, village = _place(fact.region_code, names)
        eliminated = fact.status == Status.ELIMINATED
        rows.append({
            "township": township, "village": village, **_identity(history), "people": fact.people,
            "household_type": fact.household_type, "category": fact.category,
            "risks": _mask_text(fact.risk_mask, risks),
            "identified": _month(history.household.get("identified_month")),
            "status": Status(fact.status).label, "method": fact.elimination_method if eliminated else "",
            "eliminated": _month(history.household.get("eliminated_month")) if eliminated else "",
            "measures": _mask_text(fact.measure_mask, measures),
            "cadre": cadres.get(history.cadre_id(scope.day) or 0, ""),
        })  # fmt: skip
    return rows


IDENTITY = (
    Column("township", "乡镇", width=10), Column("village", "村", width=10),
    Column("household_no", "户编号", width=20), Column("head", "户主姓名", width=8),
    Column("id_masked", "证件号码", width=22),
)  # fmt: skip

MONITORED = Table(
    key="monitored",
    title="防止返贫监测对象明细表",
    columns=(
        *IDENTITY,
        Column("people", "人口数", "int", 5),
        Column("household_type", "户类型", width=8),
        Column("category", "监测对象类别", width=12),
        Column("risks", "风险类型", width=14),
        Column("identified", "识别监测时间", width=10),
        Column("status", "风险状态", width=11),
        Column("method", "风险消除方式", width=8),
        Column("eliminated", "消除监测时间", width=10),
        Column("measures", "在实施帮扶措施", width=16),
        Column("cadre", "帮扶责任人", width=8),
    ),
    note=lambda scope: (
        "按统计截止日期当天结束时系统掌握的情况列出；户主、证件号码、监测时间和帮扶责任人取自当时的变更记录，"
        "证件号码已脱敏。当时的联系电话、收入等未保存历史口径，不列入。"
    ),
    items=_monitored_items,
    key_fields=("region_code", "household_id"),
    expand=_monitored_rows,
)


# ---- 风险消除明细表 ------------------------------------------------------------------------------


def _period_moments(scope: Scope) -> tuple[dt.datetime, dt.datetime]:
    return actions.end_of(scope.start - dt.timedelta(days=1)), actions.end_of(scope.end)


def _eliminated_items(scope: Scope) -> QuerySet:
    low, high = _period_moments(scope)
    cases = Case.objects.for_user(scope.user).in_region(scope.region)
    return cases.filter(kind=Case.Kind.ELIMINATION, status=Case.Status.DONE, finished_at__gte=low,
                        finished_at__lt=high)  # fmt: skip


def _eliminated_rows(cases: list[Case], scope: Scope) -> list[dict[str, Any]]:
    names = _region_names(scope.region)
    # the household as it stood when the risk was declared eliminated (the decision's own save comes
    # just after the case's finishing time: the category and risks are those it was monitored for)
    known = known_at([c.household_id for c in cases], {c.household_id: c.finished_at for c in cases})
    unknown = [pk for pk, k in known.items() if not k.household]
    if unknown:  # a decision recorded with an earlier date than the household's import: as of the day
        known.update(known_at(unknown, scope.moment))
    rows = []
    for case in cases:
        history = known[case.household_id]
        township, village = _place(case.region_code, names)
        opened, finished = timezone.localtime(case.opened_at), timezone.localtime(case.finished_at)
        rows.append({
            "township": township, "village": village, **_identity(history),
            "people": len(history.members), "category": history.household.get("monitoring_category", ""),
            "risks": history.household.get("risk_types", ""),
            "identified": _month(history.household.get("identified_month")),
            "method": case.elimination_method, "opened": f"{opened:%Y-%m-%d}", "finished": f"{finished:%Y-%m-%d}",
            "days": (case.finished_at - case.opened_at).days,
            "on_time": "按时" if within_limit(case) else "超时",
        })  # fmt: skip
    return rows


ELIMINATED = Table(
    key="eliminated",
    title="防止返贫监测对象风险消除明细表",
    columns=(
        *IDENTITY,
        Column("people", "人口数", "int", 5),
        Column("category", "监测对象类别", width=12),
        Column("risks", "风险类型", width=14),
        Column("identified", "识别监测时间", width=10),
        Column("method", "风险消除方式", width=8),
        Column("opened", "发起时间", width=10),
        Column("finished", "消除时间", width=10),
        Column("days", "办理天数", "int", 5),
        Column("on_time", "是否在时限内", width=6),
    ),
    note=lambda scope: (
        f"统计期间内办结的风险消除程序；户的情况为办结当时的记录。办理时限"
        f"{procedure.procedure(procedure.ELIMINATION).total_days}天（程序配置）。"
    ),
    period=True,
    items=_eliminated_items,
    expand=_eliminated_rows,
)


# ---- 帮扶措施落实情况表 ---------------------------------------------------------------------------


def _measure_states(scope: Scope) -> list[dict[str, Any]]:
    """The region's measures as known at the end of the as-of day (dates as then recorded)."""
    low, high = code_range(scope.region.prefix)
    entries = AuditEntry.objects.filter(model="monitoring.Measure", region_code__range=(low, high),
                                        action__in=CHANGES, at__lt=scope.moment).order_by("seq")  # fmt: skip
    entries = list(entries.only("seq", "model", "object_id", "action", "after", "region_code"))
    for entry in entries:
        # a bulk load that did not name its rows (the demo's measures): each entry is a row of its own
        entry.object_id = entry.object_id or f"#{entry.seq}"
    regions = {entry.object_id: entry.region_code for entry in entries}
    return [
        {**values, "region_code": regions[object_id]} for (_, object_id), values in replay(entries).items()
    ]


def _measure_summary(scope: Scope) -> list[dict[str, Any]]:
    digits = _units(scope.region)[1]
    open_ = figures.UNELIMINATED
    sums = {
        "monitored": figures._sum(figures.MONITORED), "open": figures._sum(open_),
        "with_measures": figures._sum(open_ & ~Q(measure_mask=0)),
        "covered": figures._sum(open_ & Q(risks_covered=True)),
        "uncovered": figures._sum(open_ & Q(risks_covered=False)),
        "labour": figures._sum(open_ & Q(labour=True)),
        "developed": figures._sum(open_ & Q(labour=True, development=True)),
        "paired": figures._sum(open_ & Q(paired=True)),
    }  # fmt: skip
    rows = (
        figures.counts(scope.region, scope.day)
        .annotate(unit_code=Substr("region_code", 1, digits))
        .values("unit_code")
        .annotate(**{"x_" + name: total for name, total in sums.items()})  # never a column's own name
        .order_by("unit_code")
    )
    counted: dict[str, dict[str, Any]] = {row["unit_code"]: {n: row["x_" + n] for n in sums} for row in rows}
    day = scope.day.isoformat()
    for measure in _measure_states(scope):
        start, end = str(measure.get("start") or ""), str(measure.get("end") or "")
        state = "completed" if end and end < day else "running" if start and start <= day else ""
        if state:
            unit = counted.setdefault(str(measure.get("region_code", ""))[:digits], {})
            unit[state] = unit.get(state, 0) + 1
    return _by_unit(scope.region, counted, dict.fromkeys((*sums, "running", "completed"), 0))


# the label of a summary's first column follows the scope (乡镇 of a county, 村 of a township): columns_of
UNIT = Column("unit", "单位", width=12)


MEASURES = Table(
    key="measures",
    title="防止返贫监测对象帮扶措施落实情况表",
    columns=(
        UNIT,
        Column("monitored", "监测户数", "int"),
        Column("open", "风险未消除户数", "int"),
        Column("with_measures", "有在实施帮扶措施户数", "int"),
        Column("covered", "每项风险均有对应措施户数", "int"),
        Column("uncovered", "风险未全覆盖户数", "int"),
        Column("labour", "有劳动能力户数", "int"),
        Column("developed", "其中落实开发式措施户数", "int"),
        Column("paired", "已结对帮扶户数", "int"),
        Column("running", "在实施措施（项）", "int"),
        Column("completed", "已完成措施（项）", "int"),
    ),
    note=lambda scope: (
        "户数为统计截止日期风险未消除的监测户（监测户数除外）；措施项数按当时录入的措施起止日期统计，"
        "“风险对应措施”和“开发式措施”的口径见程序配置。"
    ),
    summary=_measure_summary,
    unit="户（措施：项）",
)


# ---- 部门预警处置情况表 ---------------------------------------------------------------------------

REASONS = ("no_risk", "wrong_person", "already_helped", "identifying", "closed", "not_opened")


def _department_summary(scope: Scope) -> list[dict[str, Any]]:
    low, high = _period_moments(scope)
    moment = scope.moment
    verified = (
        Finding.objects.for_user(scope.user).in_region(scope.region)
        .filter(family__in=WARNING_FAMILIES, outcome_at__gte=low, outcome_at__lt=high).exclude(outcome="")
        .values_list("pk", "rule_id", "outcome")
    )  # fmt: skip
    outcomes = {pk: (actions.department_of(rule_id), outcome) for pk, rule_id, outcome in verified}
    confirmed = [pk for pk, (_, outcome) in outcomes.items() if outcome == Finding.Outcome.CONFIRMED]
    # what became of each confirmed warning by the end of the as-of day: its best case then
    fate: dict[int, str] = {}
    rank = {"included": 3, "identifying": 2, "closed": 1}
    for batch in _batches(confirmed, 2000):
        cases = Case.objects.filter(finding_id__in=batch, kind=Case.Kind.IDENTIFICATION, opened_at__lt=moment)
        for finding_id, status, finished in cases.values_list("finding_id", "status", "finished_at"):
            if finished is None or finished >= moment:
                state = "identifying"
            else:
                state = "included" if status == Case.Status.DONE else "closed"
            if rank[state] > rank.get(fate.get(finding_id, ""), 0):
                fate[finding_id] = state
    counted: dict[str, Counter[str]] = defaultdict(Counter)
    for pk, (department, outcome) in outcomes.items():
        if outcome == Finding.Outcome.CONFIRMED:
            counted[department][fate.get(pk, "not_opened")] += 1
        else:
            counted[department][outcome] += 1
    rows = []
    for row in figures.by_department(scope.region, scope.start, scope.end):
        got = counted.get(row["department"], Counter())
        rows.append({"unit": row["department"], "raised": row["raised"], "verified": row["verified"],
                     "right": row["right"], "confirmed": row["confirmed"], "included": got["included"],
                     **{reason: got[reason] for reason in REASONS}})  # fmt: skip
    return rows


def _department_ratios(row: dict[str, Any]) -> None:
    row["not_included"] = row["verified"] - row["included"]
    row["precision"] = _ratio(row["right"], row["verified"])


DEPARTMENTS = Table(
    key="departments",
    title="部门预警信息处置情况表",
    columns=(
        Column("unit", "部门", width=10),
        Column("raised", "推送", "int", 6),
        Column("verified", "已核实", "int", 6),
        Column("right", "核实属实", "int", 6),
        Column("confirmed", "确认有风险", "int", 6),
        Column("included", "识别纳入", "int", 6),
        Column("not_included", "未纳入", "int", 6),
        Column("no_risk", "其中：经核实无风险", "int", 8),
        Column("wrong_person", "非本人", "int", 6),
        Column("already_helped", "已在帮扶", "int", 6),
        Column("identifying", "识别办理中", "int", 6),
        Column("closed", "识别终止", "int", 6),
        Column("not_opened", "未发起识别", "int", 6),
        Column("precision", "精准率", "percent", 7),
    ),
    note=lambda scope: (
        "推送按预警发现日期、核实按核实日期计入统计期间；识别纳入为确认有风险的预警至统计截止日期已办结"
        "识别纳入的；精准率＝核实属实（确认有风险、已在帮扶）÷已核实。"
    ),
    period=True,
    summary=_department_summary,
    unit="条",
    derive=_department_ratios,
)


# ---- 识别时效统计表 -------------------------------------------------------------------------------


def _timeliness_summary(scope: Scope) -> list[dict[str, Any]]:
    digits = _units(scope.region)[1]
    low, high = _period_moments(scope)
    moment = scope.moment
    limit = procedure.procedure(procedure.IDENTIFICATION).total_days
    cases = (
        Case.objects.for_user(scope.user).in_region(scope.region)
        .filter(kind=Case.Kind.IDENTIFICATION, opened_at__lt=moment)
        .filter(Q(opened_at__gte=low) | Q(finished_at__isnull=True) | Q(finished_at__gte=low))
        .only("region_code", "kind", "status", "opened_at", "finished_at")
    )  # fmt: skip
    counted: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases.iterator(chunk_size=2000):
        unit = counted[case.region_code[:digits]]
        if low <= case.opened_at < high:
            unit["opened"] += 1
        finished = case.finished_at is not None and case.finished_at < moment
        if finished and low <= case.finished_at < high:
            if case.status == Case.Status.DONE:
                on_time = within_limit(case)
                unit["identified"] += 1
                unit["on_time" if on_time else "late"] += 1
                unit["_days"] += (case.finished_at - case.opened_at).days
            elif case.status == Case.Status.CLOSED:
                unit["closed"] += 1
        if not finished:  # still open at the end of the as-of day
            unit["open"] += 1
            if (moment - case.opened_at).days > limit:  # as within_limit counts days
                unit["overdue"] += 1
    empty = dict.fromkeys(
        ("opened", "identified", "on_time", "late", "closed", "open", "overdue", "_days"), 0
    )
    return _by_unit(scope.region, {k: dict(v) for k, v in counted.items()}, empty)


def _timeliness_ratios(row: dict[str, Any]) -> None:
    row["average"] = round(row["_days"] / row["identified"], 1) if row["identified"] else None
    row["rate"] = _ratio(row["on_time"], row["identified"])


TIMELINESS = Table(
    key="timeliness",
    title="防止返贫监测对象识别时效统计表",
    columns=(
        UNIT,
        Column("opened", "发起识别", "int", 6),
        Column("identified", "办结纳入", "int", 6),
        Column("on_time", "其中：时限内办结", "int", 8),
        Column("late", "超时限办结", "int", 6),
        Column("closed", "终止", "int", 5),
        Column("open", "办理中（截止日）", "int", 8),
        Column("overdue", "其中：已超时限", "int", 8),
        Column("average", "平均办理天数", "days", 7),
        Column("rate", "时限内办结率", "percent", 7),
    ),
    note=lambda scope: (
        f"识别纳入办理时限{procedure.procedure(procedure.IDENTIFICATION).total_days}天（程序配置），自线索登记起算；"
        "发起、办结、终止按发生日期计入统计期间，办理中为统计截止日期当天结束时仍在办理的程序。"
    ),
    period=True,
    summary=_timeliness_summary,
    unit="件",
    derive=_timeliness_ratios,
)


TABLES: dict[str, Table] = {t.key: t for t in (MONITORED, ELIMINATED, MEASURES, DEPARTMENTS, TIMELINESS)}


# ---- rows ------------------------------------------------------------------------------------------


def _numbered(rows: Iterable[dict[str, Any]], first: int = 1) -> Iterator[dict[str, Any]]:
    for number, row in enumerate(rows, start=first):
        yield {"no": number, **row}


def summary_rows(table: Table, scope: Scope) -> list[dict[str, Any]]:
    """The rows of a summary table, its 合计 row last (sums of the counts, ratios from the sums)."""
    assert table.summary is not None
    rows = table.summary(scope)
    total: dict[str, Any] = {"unit": "合计"}
    for row in rows:
        for key, value in row.items():
            if key != "unit" and isinstance(value, int):
                total[key] = total.get(key, 0) + value
    for key in {k for row in rows for k in row} - set(total):
        total.setdefault(key, 0)
    for row in [*rows, total]:
        table.derive(row)
    total["is_total"] = True
    return [*rows, total]


def rows(table: Table, scope: Scope) -> Iterator[dict[str, Any]]:
    """Every row, in the table's order: a detail list streamed batch by batch (numbered), a summary whole."""
    if not table.detail:
        yield from summary_rows(table, scope)
        return
    assert table.items is not None and table.expand is not None
    items = table.items(scope).order_by(*table.key_fields)

    def expanded() -> Iterator[dict[str, Any]]:
        for batch in _batches(items.iterator(chunk_size=BATCH)):
            yield from table.expand(batch, scope)

    yield from _numbered(expanded())


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    next_cursor: str


def page(table: Table, scope: Scope, cursor: str = "", first: int = 1, size: int = 50) -> Page:
    """One page of a detail list, by key (as fast on the last page as on the first)."""
    assert table.items is not None and table.expand is not None
    items = table.items(scope)
    batch, next_cursor = keyset_page(items, cursor, size, key=table.key_fields)
    return Page(list(_numbered(table.expand(batch, scope), first)), items.count(), next_cursor)


def display(column: Column, value: Any) -> str:
    """A value as printed (the screen, .docx, .pdf): counts with separators, ratios as percent."""
    if value is None or value == "":
        return "—" if column.kind in ("percent", "days") else ""
    if column.kind == "percent":
        return f"{100 * value:.1f}%"
    if column.kind == "days":
        return f"{value:.1f}"
    if column.kind == "int":
        return f"{value:,}"
    return str(value)


def columns_of(table: Table, scope: Scope) -> tuple[Column, ...]:
    if table.detail:
        return (Column("no", "序号", "int", 5), *table.columns)
    label = _units(scope.region)[0]
    return tuple(Column(c.key, label, c.kind, c.width) if c is UNIT else c for c in table.columns)


def header_lines(table: Table, scope: Scope, signature: Signature) -> tuple[str, str]:
    """The line under the title, and the line under the table: the same on the screen and in every file."""
    top = f"填报单位：{signature.unit}　统计截止日期：{local_date(scope.day)}"
    if table.period:
        top += f"　统计期间：{local_date(scope.start)}至{local_date(scope.end)}"
    if table.unit:
        top += f"　单位：{table.unit}"
    bottom = f"制表人：{signature.preparer}　　审核人：{signature.reviewer}　　制表日期：{local_date(signature.made_on)}"
    return top, bottom


def _landscape(columns: tuple[Column, ...]) -> bool:
    return sum(c.width for c in columns) > 90


# ---- writers ---------------------------------------------------------------------------------------


def write_xlsx(table: Table, scope: Scope, signature: Signature, out: Any) -> None:
    """A4 (paper size 9), fit to the page width, the header repeated on each page; text cells are always
    string cells (a name typed as a formula stays text)."""
    import xlsxwriter

    columns = columns_of(table, scope)
    # a path streams row by row (constant memory); a file object is built in memory
    options = {"constant_memory": True} if isinstance(out, str | Path) else {"in_memory": True}
    workbook = xlsxwriter.Workbook(out, options)
    sheet = workbook.add_worksheet(table.title[:31])
    title = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = workbook.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True,
                                "align": "center", "valign": "vcenter"})  # fmt: skip
    kinds = {
        "text": {"border": 1, "text_wrap": True, "valign": "top"},
        "int": {"border": 1, "num_format": "#,##0", "align": "right"},  # numbers right-aligned
        "days": {"border": 1, "num_format": "0.0", "align": "right"},
        "percent": {"border": 1, "num_format": "0.0%", "align": "right"},
    }
    formats = {kind: workbook.add_format(spec) for kind, spec in kinds.items()}
    bold = {kind: workbook.add_format({**spec, "bold": True}) for kind, spec in kinds.items()}
    dash = workbook.add_format({"border": 1, "align": "right"})
    last = len(columns) - 1
    for i, column in enumerate(columns):
        sheet.set_column(i, i, max(5, column.width + 1))
    top, bottom = header_lines(table, scope, signature)
    merge_text(sheet, 0, 0, 0, last, table.heading(scope), title)
    merge_text(sheet, 1, 0, 1, last, top, None)
    for i, column in enumerate(columns):
        sheet.write_string(2, i, column.label, head)
    line = 3
    for row in rows(table, scope):
        chosen = bold if row.get("is_total") else formats
        for i, column in enumerate(columns):
            value = row.get(column.key)
            if column.numeric and value is None:
                sheet.write_string(line, i, "—", dash)
            else:
                write_cell(sheet, line, i, value, chosen[column.kind])
        line += 1
    merge_text(sheet, line, 0, line, last, "说明：" + table.note(scope), None)
    merge_text(sheet, line + 2, 0, line + 2, last, bottom, None)
    sheet.set_paper(9)  # A4
    sheet.set_landscape() if _landscape(columns) else sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(2)
    sheet.center_horizontally()
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_footer("&C第 &P 页，共 &N 页")
    workbook.close()


def write_docx(table: Table, scope: Scope, signature: Signature, out: Any) -> None:
    """An A4 section (landscape for a wide table), the header row repeated on each page."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt
    from docx.table import _Cell

    columns = columns_of(table, scope)
    document = Document()
    section = document.sections[0]
    wide = _landscape(columns)
    # python-docx's default is US Letter: every table is printed on A4
    if wide:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    else:
        section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Mm(15))
    style = document.styles["Normal"]
    style.font.name, style.font.size = "宋体", Pt(9)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(table.heading(scope))
    run.bold, run.font.size = True, Pt(16)
    top, bottom = header_lines(table, scope, signature)
    document.add_paragraph(top)
    grid = document.add_table(rows=1, cols=len(columns))
    grid.style, grid.alignment = "Table Grid", WD_TABLE_ALIGNMENT.CENTER
    usable = (section.page_width - section.left_margin - section.right_margin) / sum(c.width for c in columns)
    header = grid.rows[0]
    marker = OxmlElement("w:tblHeader")  # repeat the header row on each page
    marker.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(marker)
    for cell, column in zip(header.cells, columns, strict=True):
        cell.text = column.label
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.paragraphs[0].runs[0].bold = True
    widths = [int(usable * c.width) for c in columns]
    for cell, width in zip(header.cells, widths, strict=True):
        cell.width = width
    for row in rows(table, scope):
        # the row's own cells: `_Row.cells` walks the whole table, which is quadratic over a long list
        cells = [_Cell(tc, grid) for tc in grid.add_row()._tr.tc_lst]
        for cell, column, width in zip(cells, columns, widths, strict=True):
            cell.width = width
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(display(column, row.get(column.key)))
            run.bold = bool(row.get("is_total"))
            if column.numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph("说明：" + table.note(scope))
    document.add_paragraph(bottom)
    document.save(out)


def write_pdf(table: Table, scope: Scope, signature: Signature, out: Any) -> None:
    """A4 with the vendored CJK TrueType font embedded (dossiers' register_font), page numbers below."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    from fangpin.dossiers.pdf import GRID, register_font

    font = register_font()
    columns = columns_of(table, scope)
    size = landscape(A4) if _landscape(columns) else A4
    margin = 12 * mm
    base = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    styles = {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=15, leading=22, alignment=1, spaceAfter=2 * mm
        ),
        "line": ParagraphStyle("line", parent=base, fontSize=9, leading=13, spaceAfter=2 * mm),
        "head": ParagraphStyle("head", parent=base, alignment=1),
        "text": base,
        "number": ParagraphStyle("number", parent=base, alignment=2),
    }

    def cell(text: str, style: str) -> Paragraph:
        return Paragraph(escape(text), styles[style])  # a name typed as markup prints as typed

    data = [[cell(c.label, "head") for c in columns]]
    totals = []
    for i, row in enumerate(rows(table, scope), start=1):
        data.append([cell(display(c, row.get(c.key)), "number" if c.numeric else "text") for c in columns])
        if row.get("is_total"):
            totals.append(i)
    width = size[0] - 2 * margin
    widths = [width * c.width / sum(c.width for c in columns) for c in columns]
    grid = LongTable(data, colWidths=widths, repeatRows=1)
    style = [*GRID, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef3f8"))]
    style += [("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f5f5f5")) for i in totals]
    grid.setStyle(TableStyle(style))
    top, bottom = header_lines(table, scope, signature)

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(size[0] / 2, 7 * mm, f"{table.heading(scope)}　第{doc.page}页")
        canvas.restoreState()

    doc = SimpleDocTemplate(out, pagesize=size, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin, title=table.heading(scope), author=signature.unit,
                            creator="fangpin")  # fmt: skip
    story = [cell(table.heading(scope), "title"), cell(top, "line"), grid, Spacer(1, 3 * mm),
             cell("说明：" + table.note(scope), "line"), cell(bottom, "line")]  # fmt: skip
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


FORMATS: dict[str, tuple[Callable[..., None], str]] = {
    "xlsx": (write_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": (write_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": (write_pdf, "application/pdf"),
}


def export(table: Table, scope: Scope, signature: Signature, fmt: str) -> tuple[bytes, str, str]:
    """The file (bytes, file name, content type), and its 导出 entry in the audit log."""
    writer, content_type = FORMATS[fmt]
    if fmt == "xlsx":  # through a file, so that a county's detail list is written in constant memory
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "table.xlsx"
            writer(table, scope, signature, path)
            data = path.read_bytes()
    else:
        out = io.BytesIO()
        writer(table, scope, signature, out)
        data = out.getvalue()
    period = f"，{scope.start:%Y-%m-%d}至{scope.end:%Y-%m-%d}" if table.period else ""
    record(Action.EXPORT, model="reports.OfficialTable", object_id=scope.region.code,
           object_repr=scope.region.name, region_code=scope.region.code,
           detail=f"导出{table.title}（截至{scope.day:%Y-%m-%d}{period}，{fmt}）")  # fmt: skip
    return data, f"{table.heading(scope)}_{scope.day:%Y%m%d}.{fmt}", content_type
