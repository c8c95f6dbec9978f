"""Running the catalogue and keeping its findings."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from fangpin.audit.actions import jsonable, record
from fangpin.audit.models import Action
from fangpin.regimes.regime import regime_for
from fangpin.registry.models import Household, IncomeRecord

from .catalogue import Rule, load_catalogue
from .engines import bind, open_engine
from .models import TRUE_OUTCOMES, WARNING_FAMILIES, Finding, RuleParameter, RuleSetting, ScreeningRun
from .parameters import resolve
from .snapshot import write_snapshot

Progress = Callable[[int, int | None], None]


def enabled_rules(as_of: dt.date | None = None) -> list[Rule]:
    """The rules switched on that apply under the regime in force on `as_of` (today by default)."""
    switched_off = set(RuleSetting.objects.filter(enabled=False).values_list("rule_id", flat=True))
    regime = regime_for(as_of)
    return [rule for rule in load_catalogue() if rule.id not in switched_off and regime.applies(rule)]


def run_parameters(rules: list[Rule], as_of: dt.date, province_code: str) -> dict[str, Any]:
    names = {name for rule in rules for name in rule.parameters}
    values = resolve(names, as_of, province_code)
    # the income year a run looks at: the latest one the register holds up to the run date
    latest = IncomeRecord.objects.filter(year__lte=as_of.year).aggregate(year=Max("year"))["year"]
    values["income_year"] = latest or as_of.year - 1
    return values


def run_screening(
    *,
    as_of: dt.date | None = None,
    engine: str = "duckdb",
    rules: list[Rule] | None = None,
    progress: Progress | None = None,
) -> ScreeningRun:
    """Snapshot the register, run every enabled rule on the engine, and file the findings."""
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    rules = enabled_rules(as_of) if rules is None else rules
    province = settings.FANGPIN_PROVINCE_CODE
    values = run_parameters(rules, as_of, province)
    run = ScreeningRun.objects.create(engine=engine, as_of=as_of, province_code=province,
                                      regime=regime_for(as_of, province).code,
                                      parameters=jsonable(values))  # fmt: skip
    snapshot = settings.DATA_DIR / "screening" / f"run-{run.pk}"
    try:
        counts = write_snapshot(snapshot, as_of)
        results: dict[str, list[dict[str, Any]]] = {}
        with open_engine(engine, snapshot) as runner:
            for done, rule in enumerate(rules, start=1):
                results[rule.id] = runner.run(rule, bind(rule.sql, values))
                if progress:
                    progress(done, len(rules))
    finally:
        if not getattr(settings, "FANGPIN_KEEP_SNAPSHOTS", False):
            shutil.rmtree(snapshot, ignore_errors=True)  # it holds names: keep it no longer than needed
    file_findings(run, rules, results, values)
    run.people = counts["person"]
    run.households = counts["household"]  # with people: the denominators of each rule's share (rule health)
    run.rule_counts = {rule_id: len(rows) for rule_id, rows in results.items()}
    run.finished_at = timezone.now()
    run.seconds = round(time.perf_counter() - started, 2)
    run.save()
    record(Action.CREATE, model="rules.ScreeningRun", object_id=str(run.pk), object_repr=str(run),
           detail=f"筛查{len(rules)}条规则，{run.people}人，发现{sum(run.rule_counts.values())}条")  # fmt: skip
    return run


def _subject(rule: Rule, row: dict[str, Any], values: dict[str, Any]) -> tuple[int, int | None, str]:
    person = row.get("person_key") if rule.level == "person" else None
    period = {"year": str(values["income_year"]), "as_of_year": str(values["as_of_year"])}.get(
        rule.period, ""
    )
    return int(row["household_key"]), (int(person) if person is not None else None), period


FindingKey = tuple[int | None, int | None, str]


def finding_key(household_id: int, member_id: int | None, period: str) -> FindingKey:
    """What makes a finding "the same one" again, exactly as Finding's two unique constraints say: a
    person's finding is theirs in whatever household they are now (people move between households),
    a household's finding is the household's."""
    return (None, member_id, period) if member_id is not None else (household_id, None, period)


@transaction.atomic
def file_findings(
    run: ScreeningRun, rules: list[Rule], results: dict[str, list[dict[str, Any]]], values: dict[str, Any]
) -> None:
    """New findings are created, known ones refreshed; a data-quality finding of a rule that ran and
    no longer fires is marked 已消除. The same rule, household, person and period is never raised twice."""
    household_keys = {int(row["household_key"]) for rows in results.values() for row in rows}
    regions = dict(Household.objects.filter(pk__in=household_keys).values_list("pk", "region_code"))
    for rule in rules:
        rows = results.get(rule.id, [])
        parameters = {name: jsonable(values[name]) for name in rule.parameters}
        existing = {
            finding_key(f.household_id, f.member_id, f.period): f
            for f in Finding.objects.filter(rule_id=rule.id)
        }
        seen: set[FindingKey] = set()
        to_create, to_update, touched = [], [], []
        for row in rows:
            household_id, member_id, period = _subject(rule, row, values)
            key = finding_key(household_id, member_id, period)
            if key in seen or household_id not in regions:
                continue
            seen.add(key)
            place = {"household_id": household_id, "region_code": regions[household_id]}
            evidence = {name: jsonable(row.get(name)) for name in rule.evidence}
            fields = {
                "rule_version": rule.version, "family": rule.family, "severity": rule.severity,
                "message": rule.describe(row)[:500], "evidence": evidence, "parameters": parameters,
                "status": Finding.Status.OPEN, **place,
            }  # fmt: skip
            finding = existing.get(key)
            if finding is None:
                to_create.append(Finding(rule_id=rule.id, member_id=member_id, period=period,
                                         first_run=run, last_run=run, **fields))  # fmt: skip
            elif finding.status == Finding.Status.VERIFIED:
                # verified for this period: only seen again, but it follows a person who moved
                if any(getattr(finding, name) != value for name, value in place.items()):
                    for name, value in place.items():
                        setattr(finding, name, value)
                    finding.last_run = run
                    to_update.append(finding)
                else:
                    touched.append(finding.pk)
            elif all(getattr(finding, name) == value for name, value in fields.items()):
                touched.append(finding.pk)  # unchanged: only seen again
            else:
                for name, value in fields.items():
                    setattr(finding, name, value)
                finding.last_run = run
                to_update.append(finding)
        if rule.family == "数据质量":
            for key, finding in existing.items():
                if key not in seen and finding.status == Finding.Status.OPEN:
                    finding.status = Finding.Status.CLEARED
                    finding.last_run = run
                    to_update.append(finding)
        for start in range(0, len(touched), 5000):
            Finding.objects.filter(pk__in=touched[start : start + 5000]).update(last_run=run)
        Finding.objects.bulk_create(to_create, batch_size=1000)
        Finding.objects.bulk_update(
            to_update,
            ["rule_version", "family", "severity", "message", "evidence", "parameters", "status", "last_run",
             "household_id", "region_code"],
            batch_size=1000,
        )  # fmt: skip


def set_enabled(*, rule_id: str, enabled: bool, user: Any) -> RuleSetting:
    """A county switches a rule on or off; the change is audited through the model's signals."""
    setting, _ = RuleSetting.objects.get_or_create(rule_id=rule_id)
    setting.enabled = enabled
    setting.changed_by = user
    setting.save()
    return setting


def add_parameter_value(
    *, name: str, value: Any, effective_from: dt.date, source: str, confirmed: bool, user: Any
) -> RuleParameter:
    """A new value from a date on, for the county's province. Earlier values stay: runs stay explainable."""
    return RuleParameter.objects.create(
        name=name, province_code=settings.FANGPIN_PROVINCE_CODE, effective_from=effective_from, value=value,
        source=source, confirmed=confirmed, created_by=user,
    )  # fmt: skip


def record_outcome(*, finding: Finding, user: Any, outcome: str, note: str) -> Finding:
    """The village's verification of a warning (入户核查): closes it for its period."""
    if finding.family not in WARNING_FAMILIES:
        raise ValueError("只有预警线索需要核实")
    finding.outcome = Finding.Outcome(outcome)
    finding.outcome_note = note
    finding.outcome_by = user
    finding.outcome_at = timezone.now()
    finding.status = Finding.Status.VERIFIED
    finding.save()
    return finding


def precision() -> dict[str, tuple[float, int]]:
    """Per rule: the share of verified warnings that were right, and how many were verified."""
    from django.db.models import Count, Q

    rows = (Finding.objects.exclude(outcome="").values("rule_id")
            .annotate(n=Count("id"), right=Count("id", filter=Q(outcome__in=TRUE_OUTCOMES))))  # fmt: skip
    return {row["rule_id"]: (row["right"] / row["n"], row["n"]) for row in rows}
