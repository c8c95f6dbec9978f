"""Keeping the summary tables: the facts refresh, the daily counts and the daily flows.

The refresh reads the audit log as its change feed: every change to a household, member, case, measure,
pairing or visit writes an entry naming the household (registry and monitoring save through audited
models; imports write the entries in bulk), so the households to recompute are those named by entries
after the last one read. Their dimensions are computed with a handful of set-based queries over the
batch (never a query per household), compared with the current fact by digest, and only the changed
ones get a new row: the old row is closed at the same moment. Unchanged households are untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, Count, Max, Q, Sum, Value, When
from django.utils import timezone

from fangpin.audit.models import Action, AuditEntry
from fangpin.common.bulk import insert_rows
from fangpin.monitoring import procedure
from fangpin.monitoring.assistance import LABOUR, identification_date
from fangpin.monitoring.models import Case as MonitoringCase
from fangpin.monitoring.models import Measure, Pairing, Visit
from fangpin.registry.models import Household, Member
from fangpin.rules.models import TRUE_OUTCOMES, WARNING_FAMILIES, Finding

from .models import (
    BitCode,
    CountDay,
    DailyCount,
    DailyFlow,
    HouseholdFact,
    Metric,
    RefreshState,
    Status,
)

log = logging.getLogger(__name__)

CHUNK = 2000  # households per batch of set-based reads (well under every database's parameter limit)
DIMENSION_FIELDS = (
    "region_code", "household_type", "category", "status", "elimination_method", "risk_mask", "measure_mask",
    "labour", "development", "risks_covered", "paired", "case_kind",
)  # fmt: skip
FACT_FIELDS = (*DIMENSION_FIELDS, "people", "visit_due")
CHANGES = (Action.CREATE, Action.UPDATE, Action.DELETE)


# ---- bit codes ------------------------------------------------------------------------------------


class Bits:
    """Label ↔ bit for the risk types and measure groups; a new label gets the next free bit."""

    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], int] = {(c.kind, c.label): c.bit for c in BitCode.objects.all()}

    def bit(self, kind: str, label: str) -> int:
        key = (kind, label)
        if key not in self.codes:
            used = [b for (k, _), b in self.codes.items() if k == kind]
            bit = max(used, default=-1) + 1
            BitCode.objects.create(kind=kind, label=label, bit=bit)
            self.codes[key] = bit
        return self.codes[key]

    def mask(self, kind: str, labels: Iterable[str]) -> int:
        mask = 0
        for label in labels:
            mask |= 1 << self.bit(kind, label)
        return mask


def bit_labels(kind: str) -> list[tuple[str, int]]:
    """(label, bit) of one kind, in the national code table's order; values outside it after, as seen."""
    from fangpin.registry import choices

    order = choices.RISK_TYPES if kind == BitCode.Kind.RISK else choices.MEASURE_GROUPS
    rows = BitCode.objects.filter(kind=kind).order_by("bit").values_list("label", "bit")
    return sorted(rows, key=lambda row: (order.index(row[0]) if row[0] in order else len(order), row[1]))


# ---- departments ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _departments() -> dict[str, str]:
    from fangpin.feeds.kinds import KINDS
    from fangpin.rules.catalogue import load_catalogue

    roster = re.compile(r"roster_(\w+)")
    found = {}
    for rule in load_catalogue():
        if rule.family not in WARNING_FAMILIES:
            continue
        kinds = [k for k in roster.findall(rule.sql) if k in KINDS]
        found[rule.id] = KINDS[kinds[0]].department if kinds else rule.family
    return found


def department_of(rule_id: str) -> str:
    """The department whose roster raised a warning (收入监测 for the register's own income checks)."""
    return _departments().get(rule_id, "其他")


def department_rules(department: str) -> Q:
    """The findings whose warnings `department_of` counts under `department` (the 其他 of rules outside
    the catalogue included), so a list of a department's warnings counts what its figure counts."""
    known = _departments()
    q = Q(rule_id__in=sorted(rule for rule, name in known.items() if name == department))
    if department == "其他":
        q |= ~Q(rule_id__in=sorted(known))
    return q


# ---- facts ----------------------------------------------------------------------------------------


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _digest(values: dict[str, Any]) -> str:
    text = "|".join(str(values[name]) for name in FACT_FIELDS)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


Batch = list[int] | tuple[int, int]  # some households, or all of those with pk in [low, high]


def _where(batch: Batch, name: str = "household_id") -> dict[str, Any]:
    if isinstance(batch, tuple):  # a foreign key has no __range lookup
        return {f"{name}__gte": batch[0], f"{name}__lte": batch[1]}
    return {f"{name}__in": batch}


def compute_dimensions(batch: Batch, today: dt.date, bits: Bits) -> dict[int, dict[str, Any]]:
    """Each household's dimensions today, from eight set-based reads over the batch."""
    config = procedure.config()
    ids = _where(batch)
    households = Household.objects.filter(**_where(batch, "pk")).values_list(
        "id", "region_code", "household_type", "monitoring_category", "risk_eliminated", "elimination_method",
        "risk_types", "no_labour_household", "identified_month",
    )  # fmt: skip
    members = {
        row["household_id"]: (row["n"], row["able"])
        for row in Member.objects.filter(**ids)
        .values("household_id")
        .annotate(n=Count("id"), able=Count("id", filter=Q(labour_skill__in=LABOUR)))
    }
    groups: dict[int, set[str]] = defaultdict(set)
    running = Measure.objects.filter(**ids, start__lte=today).filter(Q(end__isnull=True) | Q(end__gte=today))
    for household_id, group in running.values_list("household_id", "group").distinct():
        groups[household_id].add(group)
    paired = set(Pairing.objects.filter(**ids, until__isnull=True).values_list("household_id", flat=True))
    last_visit = dict(
        Visit.objects.filter(**ids)
        .values("household_id")
        .annotate(last=Max("visited_on"))
        .values_list("household_id", "last")
    )
    cases = MonitoringCase.objects.filter(**ids)
    approved = dict(
        cases.filter(kind=MonitoringCase.Kind.IDENTIFICATION, status=MonitoringCase.Status.DONE)
        .values("household_id")
        .annotate(at=Max("finished_at"))
        .values_list("household_id", "at")
    )
    open_cases = dict(cases.filter(status=MonitoringCase.Status.OPEN).values_list("household_id", "kind"))
    development_groups = set(config.development_groups)
    result = {}
    for pk, region, htype, category, eliminated, method, risk_text, no_labour, month in households:
        risks = [r for r in risk_text.split("、") if r]
        running_groups = groups.get(pk, set())
        n, able = members.get(pk, (0, 0))
        status = Status.NONE
        if category:
            status = Status.ELIMINATED if eliminated else Status.UNELIMINATED
        covered = all(
            not (wanted := config.risk_measures.get(risk)) or running_groups & set(wanted) for risk in risks
        )
        visit_due = None
        if category:
            interval = config.visit_interval_days.get("风险已消除" if eliminated else category)
            start = last_visit.get(pk) or identification_date(month, approved.get(pk))
            if interval is not None and start is not None:
                visit_due = start + dt.timedelta(days=interval)
        result[pk] = {
            "region_code": region, "household_type": htype, "category": category, "status": str(status),
            "elimination_method": method if status == Status.ELIMINATED else "",
            "risk_mask": bits.mask(BitCode.Kind.RISK, risks),
            "measure_mask": bits.mask(BitCode.Kind.MEASURE, sorted(running_groups)),
            "labour": bool(able) and not no_labour, "development": bool(running_groups & development_groups),
            "risks_covered": bool(covered), "paired": pk in paired, "case_kind": open_cases.get(pk, ""),
            "people": n, "visit_due": visit_due,
        }  # fmt: skip
    return result


def _changed_households(state: RefreshState, now: dt.datetime) -> tuple[list[int] | None, int]:
    """Households named by audit entries after the last one read (None: all, on the first refresh), plus
    those whose measures started or ended since the last refresh (a date, not an event, changed them)."""
    latest = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    if not HouseholdFact.objects.exists():
        return None, latest
    ids = set(
        AuditEntry.objects.filter(seq__gt=state.audit_seq, seq__lte=latest, action__in=CHANGES)
        .exclude(household_id__isnull=True)
        .values_list("household_id", flat=True)
        .distinct()
    )
    if state.refreshed_at is not None:
        since, today = timezone.localtime(state.refreshed_at).date(), timezone.localtime(now).date()
        if since < today:
            crossed = Measure.objects.filter(
                Q(start__gt=since, start__lte=today) | Q(end__gte=since, end__lt=today)
            )
            ids |= set(crossed.values_list("household_id", flat=True))
    return sorted(ids), latest


@transaction.atomic
def refresh_facts(
    households: Iterable[int] | None = None, *, now: dt.datetime | None = None
) -> dict[str, int]:
    """Bring the facts up to date: for the given households, or (None) for those changed since the last
    refresh. Returns counts of households read, rows closed and opened."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    state, _ = RefreshState.objects.select_for_update().get_or_create(pk=1)
    if households is None:
        ids, latest = _changed_households(state, now)
    else:
        ids, latest = sorted(set(households)), state.audit_seq
    if ids is None:  # everything
        ids = list(Household.objects.order_by("pk").values_list("pk", flat=True))
    bits = Bits()
    stats = {"read": 0, "closed": 0, "opened": 0}
    villages: set[str] = set()
    for chunk in _chunks(ids):
        # a dense batch is read by key range (Django compiles long IN lists slowly), a sparse one by IN
        dense = len(chunk) * 4 >= chunk[-1] - chunk[0] + 1
        batch: Batch = (chunk[0], chunk[-1]) if dense else chunk
        wanted = set(chunk)
        computed = {k: v for k, v in compute_dimensions(batch, today, bits).items() if k in wanted}
        current = {
            f.household_id: f
            for f in HouseholdFact.objects.filter(**_where(batch), valid_to__isnull=True).only(
                "id", "household_id", "region_code", "digest"
            )
            if f.household_id in wanted
        }
        members = chunk
        to_close, to_open = [], []
        for pk in members:
            values = computed.get(pk)
            fact = current.get(pk)
            if values is None:  # the household is gone
                if fact is not None:
                    to_close.append(fact.pk)
                    villages.add(fact.region_code)
                continue
            digest = _digest(values)
            if fact is not None and fact.digest == digest:
                continue
            if fact is not None:
                to_close.append(fact.pk)
                villages.add(fact.region_code)
            villages.add(values["region_code"])
            to_open.append(
                {"household_id": pk, "valid_from": now, "valid_to": None, "digest": digest, **values}
            )
        if to_close:
            HouseholdFact.objects.filter(pk__in=to_close).update(valid_to=now)
        insert_rows(HouseholdFact, to_open)
        stats["read"] += len(computed)
        stats["closed"] += len(to_close)
        stats["opened"] += len(to_open)
    flow_villages = villages | _event_villages(state.refreshed_at)
    if state.refreshed_at is None:
        rebuild_flows(None)
    elif flow_villages:
        rebuild_flows(sorted(flow_villages))
    if villages and CountDay.objects.filter(as_of=today).exists():
        _store_counts(today, sorted(villages))
        CountDay.objects.filter(as_of=today).update(computed_at=now)
    state.audit_seq = max(state.audit_seq, latest)
    state.refreshed_at = now
    state.first_refresh_at = state.first_refresh_at or now
    state.save()
    return stats


def _event_villages(since: dt.datetime | None) -> set[str]:
    """Villages with warnings raised or changed since the last refresh: a screening run writes its
    findings in bulk, without audit entries, so they are found by their own times."""
    if since is None:
        return set()
    changed = Finding.objects.filter(family__in=WARNING_FAMILIES).filter(
        Q(created_at__gte=since) | Q(updated_at__gte=since) | Q(outcome_at__gte=since)
    )
    return set(changed.values_list("region_code", flat=True).distinct())


def refresh_quietly(households: Iterable[int] | None = None) -> None:
    """The refresh after an import, a screening or a decision: a failure here is logged, never raised,
    so it cannot undo or fail the work that triggered it (the next refresh catches up)."""
    try:
        refresh_facts(households)
    except Exception:
        log.exception("summary tables refresh failed; the next refresh will catch up")


def refresh_soon() -> None:
    """Queue a refresh to run after the current transaction commits (in the worker)."""
    from .tasks import refresh_task

    transaction.on_commit(lambda: refresh_task())


def needs_refresh() -> bool:
    """Whether a household changed after the last audit entry the refresh read (reads the entries after it)."""
    seq = RefreshState.objects.filter(pk=1).values_list("audit_seq", flat=True).first()
    if seq is None:
        return True
    # read along the sequence (its unique index), not by action: the entries after `seq` are few
    after = AuditEntry.objects.filter(seq__gt=seq).order_by("seq").values_list("action", "household_id")
    return any(action in CHANGES and household for action, household in after[:1000])


# ---- daily counts ---------------------------------------------------------------------------------


def end_of(day: dt.date) -> dt.datetime:
    """The first moment after `day`, local time: facts valid at the end of the day are those with
    valid_from before it and valid_to (if any) at or after it."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def facts_on(day: dt.date, facts: Any = None) -> Any:
    """Facts valid at the end of `day` (of `facts`, a scoped queryset, when given)."""
    moment = end_of(day)
    facts = HouseholdFact.objects.all() if facts is None else facts
    return facts.filter(valid_from__lt=moment).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=moment))


def _overdue(day: dt.date) -> Case:
    return Case(When(visit_due__lt=day, then=Value(True)), default=Value(False), output_field=BooleanField())


def _store_counts(day: dt.date, villages: list[str] | None) -> int:
    facts = facts_on(day)
    if villages is not None:
        DailyCount.objects.filter(as_of=day, region_code__in=villages).delete()
        facts = facts.filter(region_code__in=villages)
    rows = (
        facts.annotate(overdue_flag=_overdue(day))
        .values(*DIMENSION_FIELDS, "overdue_flag")
        .annotate(households=Count("id"), people_sum=Sum("people"))
        .order_by()
    )
    objects = []
    for row in rows.iterator(chunk_size=5000):
        people = row.pop("people_sum") or 0
        overdue = row.pop("overdue_flag")
        objects.append(DailyCount(as_of=day, overdue=overdue, people=people, **row))
    DailyCount.objects.bulk_create(objects, batch_size=2000)
    return len(objects)


def ensure_counts(day: dt.date) -> CountDay:
    """The counts of a day, computed and stored on first request; later requests read them as stored,
    so the same request gives the same numbers whatever changed since."""
    stored = CountDay.objects.filter(as_of=day).first()
    if stored is not None:
        return stored
    try:
        with transaction.atomic():
            stored = CountDay.objects.create(as_of=day, computed_at=timezone.now())
            _store_counts(day, None)
    except IntegrityError:  # computed meanwhile by another request
        stored = CountDay.objects.get(as_of=day)
    return stored


# ---- daily flows ----------------------------------------------------------------------------------


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def rebuild_flows(villages: list[str] | None) -> int:
    """Recount the events of some villages (None: all) by day from the times the other apps store."""
    counter: Counter[tuple[dt.date, str, str, str]] = Counter()
    limits = {kind: procedure.procedure(kind).total_days for kind in ("identification", "elimination")}

    def batches(queryset, fields):  # type: ignore[no-untyped-def]
        if villages is None:
            yield from queryset.values_list(*fields).iterator(chunk_size=5000)
            return
        for start in range(0, len(villages), CHUNK):
            part = villages[start : start + CHUNK]
            yield from queryset.filter(region_code__in=part).values_list(*fields).iterator(chunk_size=5000)

    warnings = Finding.objects.filter(family__in=WARNING_FAMILIES)
    for region, rule_id, created, outcome, outcome_at in batches(
        warnings, ("region_code", "rule_id", "created_at", "outcome", "outcome_at")
    ):
        department = department_of(rule_id)
        counter[(_day(created), region, Metric.WARNING_RAISED, department)] += 1
        if outcome and outcome_at is not None:
            day = _day(outcome_at)
            counter[(day, region, Metric.WARNING_VERIFIED, department)] += 1
            if outcome in TRUE_OUTCOMES:
                counter[(day, region, Metric.WARNING_TRUE, department)] += 1
            if outcome == Finding.Outcome.CONFIRMED:
                counter[(day, region, Metric.WARNING_CONFIRMED, department)] += 1
    cases = MonitoringCase.objects.all()
    for region, kind, status, opened, finished in batches(
        cases, ("region_code", "kind", "status", "opened_at", "finished_at")
    ):
        identification = kind == MonitoringCase.Kind.IDENTIFICATION
        if identification:
            counter[(_day(opened), region, Metric.CASE_OPENED, "")] += 1
        if status == MonitoringCase.Status.DONE and finished is not None:
            on_time = (finished - opened).days <= limits[kind]
            done, timely = (
                (Metric.IDENTIFIED, Metric.IDENTIFIED_ON_TIME)
                if identification
                else (Metric.ELIMINATED, Metric.ELIMINATED_ON_TIME)
            )
            counter[(_day(finished), region, done, "")] += 1
            if on_time:
                counter[(_day(finished), region, timely, "")] += 1
    stale = DailyFlow.objects.all()
    if villages is not None:
        for start in range(0, len(villages), CHUNK):
            stale.filter(region_code__in=villages[start : start + CHUNK]).delete()
    else:
        stale.delete()
    rows = [
        DailyFlow(day=day, region_code=region, metric=str(metric), key=key, n=n)
        for (day, region, metric, key), n in counter.items()
    ]
    DailyFlow.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
