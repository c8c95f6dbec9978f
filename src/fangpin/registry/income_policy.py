"""The yearly income parameters (收入参数, `IncomePolicy`): a county administrator enters a new year or
corrects one, naming the 依据 each time.

Every change goes through the model's audited save, so the audit log holds who, when, before and after;
the page's history is read back from there (no second history table that could disagree with it).
What depends on the parameters:

- the monitoring line is read when it is used: by the rules at the next screening (earlier findings keep
  the value they were found with), and live by the home page, the register's income filter and the §8
  elimination criteria. The per-capita income does not depend on it, so nothing is recomputed;
- the formula's switches (awards, special subsidy, insurance payouts, divisor, tolerance) decide the
  computed income: the income records those parameters govern are recomputed at once, audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Count

from fangpin.audit import actions as audit
from fangpin.audit.models import Action, AuditEntry

from . import income as income_rules
from .models import INCOME_COMPONENTS, Household, IncomePolicy, IncomeRecord, Member

# the county administrator who sets the rule parameters sets these too
MANAGE = "manage_rules"
# the switches of the formula: a change recomputes the income records they govern
FORMULA_FIELDS = ("awards_treatment", "special_subsidy_treatment", "claims_counted", "divisor", "tolerance")
EDITABLE = ("monitoring_line", "line_confirmed", "line_source", *FORMULA_FIELDS)
MODEL = IncomePolicy._meta.label
CENT = Decimal("0.01")
CHUNK = 2000

LINE_EFFECT = (
    "监测范围用于筛查规则，下一次筛查起按新值生成预警（已有的筛查发现保留当时的取值）；首页统计、农户台账的"
    "“低于监测范围”筛选和风险消除条件即时按新值判断。人均纯收入的计算不使用监测范围，无需重算。"
)
FORMULA_EFFECT = "口径开关（奖励、补贴、理赔、分母、容差）修改后，该口径适用的年度收入记录立即按新口径重算。"


def label(name: str) -> str:
    return "依据" if name == "line_source" else str(IncomePolicy._meta.get_field(name).verbose_name)


def show(name: str, value: Any) -> str:
    """A stored value as the page says it: choice labels, 已核实/待核实, yuan with thousands separators."""
    if value is None or value == "":
        return "（空）"
    if name == "line_confirmed":
        return "已核实" if value else "待核实"
    if name == "claims_counted":
        return "是" if value else "否"
    choices = dict(IncomePolicy._meta.get_field(name).choices or ())
    if choices:
        return str(choices.get(value, value))
    if name in ("monitoring_line", "tolerance"):
        amount = Decimal(str(value))
        return f"{int(amount):,}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return str(value)


@dataclass
class PolicyChange:
    """What one save did, for the page's message and the CLI's output."""

    policy: IncomePolicy
    created: bool
    changes: list[tuple[str, str, str]]  # (label, old, new) as shown
    line_changed: bool
    recomputed: int = 0  # income records computed again under the new parameters
    changed_incomes: int = 0  # of those, the ones whose result changed

    def summary(self) -> str:
        if self.created:
            said = "；".join(f"{name}：{new}" for name, _, new in self.changes)
        else:
            said = "；".join(f"{name}：{old} → {new}" for name, old, new in self.changes)
        parts = [f"已{'新增' if self.created else '修改'}{self.policy.year}年度收入参数（{said}）。"]
        if self.line_changed:
            parts.append(LINE_EFFECT)
        if self.recomputed:
            parts.append(
                f"已按新口径重算{self.recomputed:,}条收入记录，其中{self.changed_incomes:,}条结果有变化（记入审计日志）。"
            )
        return "".join(parts)


def may_manage(user: Any) -> bool:
    """The county administrator; `None` is the server's operator at the command line."""
    return user is None or user.can(MANAGE)


def _money(value: Any, name: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except ArithmeticError as exc:
        raise ValidationError(f"{label(name)}须为数字") from exc
    if amount < 0 or (name == "monitoring_line" and amount == 0):
        raise ValidationError(f"{label(name)}须为正数")
    return amount


@transaction.atomic
def save_policy(
    *,
    user: Any,
    year: int,
    source: str,
    monitoring_line: Any = None,
    line_confirmed: bool | None = None,
    awards_treatment: str | None = None,
    special_subsidy_treatment: str | None = None,
    claims_counted: bool | None = None,
    divisor: str | None = None,
    tolerance: Any = None,
    province_code: str | None = None,
) -> PolicyChange:
    """Enter a year's parameters or correct them. `None` keeps a value (a new year starts from the
    parameters in force for it until now, i.e. the previous year's); the 依据 is required every time."""
    if not may_manage(user):
        raise PermissionDenied("只有县级管理员可以修改收入参数")
    source = (source or "").strip()
    if not source:
        raise ValidationError("请填写依据（文件名称、文号）")
    province = province_code or settings.FANGPIN_PROVINCE_CODE
    policy = IncomePolicy.objects.select_for_update().filter(province_code=province, year=year).first()
    created = policy is None
    if policy is None:
        if monitoring_line is None:
            raise ValidationError(f"{year}年度还没有收入参数：请填写防止返贫监测范围")
        policy = IncomePolicy(province_code=province, year=year)
        previous = income_rules.policy_for(year, province)
        for name in FORMULA_FIELDS:
            if previous is not None:
                setattr(policy, name, getattr(previous, name))
    before = {name: getattr(policy, name) for name in EDITABLE}
    given = {
        "monitoring_line": None if monitoring_line is None else _money(monitoring_line, "monitoring_line"),
        "line_confirmed": line_confirmed,
        "line_source": source,
        "awards_treatment": awards_treatment,
        "special_subsidy_treatment": special_subsidy_treatment,
        "claims_counted": claims_counted,
        "divisor": divisor,
        "tolerance": None if tolerance is None else _money(tolerance, "tolerance"),
    }
    for name, value in given.items():
        if value is not None:
            setattr(policy, name, value)
    try:
        policy.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:  # flat, with the field named: the form and the CLI show it as one list
        raise ValidationError(
            [
                f"{label(name)}：{message}"
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        ) from exc
    # the 依据 last: it says why the values before it changed
    order = [name for name in EDITABLE if name != "line_source"] + ["line_source"]
    changed = [name for name in order if created or before[name] != getattr(policy, name)]
    if not created and not changed:
        raise ValidationError("取值与现有参数相同，没有修改")
    policy.save()
    shown = [
        (label(name), "（无）" if created else show(name, before[name]), show(name, getattr(policy, name)))
        for name in changed
        if name != "line_source" or not created
    ]
    result = PolicyChange(
        policy=policy, created=created, changes=shown, line_changed="monitoring_line" in changed
    )
    if created or any(name in FORMULA_FIELDS for name in changed):
        result.recomputed, result.changed_incomes = recompute_incomes(policy)
    return result


# --- recomputing what the formula's switches decide ------------------------------------------------

RESULT_FIELDS = ("computed_net", "computed_per_capita", "divisor_size", "discrepancy", "policy_id")


def governed_incomes(policy: IncomePolicy) -> models.QuerySet[IncomeRecord]:
    """The income records these parameters apply to: their year and the later years that have no
    parameters of their own (`policy_for` falls back to the previous year)."""
    records = IncomeRecord.objects.filter(region_code__startswith=policy.province_code, year__gte=policy.year)
    later = (IncomePolicy.objects.filter(province_code=policy.province_code, year__gt=policy.year)
             .order_by("year").values_list("year", flat=True).first())  # fmt: skip
    return records.filter(year__lt=later) if later else records


def _update_rows(model: type[models.Model], names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE … WHERE id = ? for many rows in one executemany: a whole county in seconds, where
    bulk_update's CASE per column grows with the square of the batch."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    params = [
        [f.get_db_prep_save(value, connection) for f, value in zip(fields, row[:-1], strict=True)] + [row[-1]]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE id = %s", params)


def recompute_incomes(policy: IncomePolicy) -> tuple[int, int]:
    """Compute every governed income record again under the current parameters; write and audit the ones
    whose result changed, and the household's per-capita income where it is that year's. Returns
    (records computed, records changed). Runs inside the caller's transaction."""
    policies = {p.year: p for p in IncomePolicy.objects.filter(province_code=policy.province_code)}
    columns = ("id", "household_id", "region_code", "year", *INCOME_COMPONENTS, "reported_per_capita",
               *RESULT_FIELDS)  # fmt: skip
    records = governed_incomes(policy).order_by("id")
    computed = changed = 0
    last = 0
    while True:
        chunk = [dict(zip(columns, row, strict=True))
                 for row in records.filter(id__gt=last).values_list(*columns)[:CHUNK]]  # fmt: skip
        if not chunk:
            return computed, changed
        last = chunk[-1]["id"]
        computed += len(chunk)
        changed += _recompute_chunk(chunk, policies)


def _governing(policies: dict[int, IncomePolicy], year: int) -> IncomePolicy | None:
    years = [y for y in policies if y <= year]
    return policies[max(years)] if years else None


def _recompute_chunk(chunk: list[dict[str, Any]], policies: dict[int, IncomePolicy]) -> int:
    household_ids = {row["household_id"] for row in chunk}
    households = {
        h["id"]: h
        for h in Household.objects.filter(id__in=household_ids).values(
            "id", "annual_size", "current_size", "claims_income", "income_year", "per_capita_income"
        )
    }
    members = dict(
        Member.objects.filter(household_id__in=household_ids).values("household_id")
        .annotate(n=Count("id")).values_list("household_id", "n")
    )  # fmt: skip
    updates: list[tuple[Any, ...]] = []
    household_updates: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    entries: list[audit.PendingEntry] = []
    for row in chunk:
        household = households[row["household_id"]]
        policy = _governing(policies, row["year"])
        result = income_rules.compute(
            row, policy=policy, annual_size=household["annual_size"], current_size=household["current_size"],
            member_count=members.get(row["household_id"], 0), claims_income=household["claims_income"],
        )  # fmt: skip
        new = {
            "computed_net": result.net, "computed_per_capita": result.per_capita, "divisor_size": result.divisor,
            "discrepancy": result.discrepancy, "policy_id": policy.pk if policy else None,
        }  # fmt: skip
        old = {name: row[name] for name in RESULT_FIELDS}
        before, after = audit.diff(audit.jsonable(old), audit.jsonable(new))
        if not after:
            continue
        updates.append((*(new[name] for name in RESULT_FIELDS), row["id"]))
        entries.append(audit.PendingEntry(
            action=Action.UPDATE, model=IncomeRecord._meta.label, object_id=str(row["id"]),
            object_repr=f"{row['year']}年收入（户{row['household_id']}）", household_id=row["household_id"],
            region_code=row["region_code"], before=before, after=after, detail="收入参数修改后按新口径重算",
        ))  # fmt: skip
        if household["income_year"] == row["year"] and household["per_capita_income"] != result.per_capita:
            household_updates[row["household_id"]] = (household["per_capita_income"], result.per_capita)
    _update_rows(IncomeRecord, RESULT_FIELDS, updates)
    if household_updates:
        now = dt.datetime.now(dt.UTC)
        _update_rows(Household, ("per_capita_income", "updated_at"),
                     [(new, now, pk) for pk, (_, new) in household_updates.items()])  # fmt: skip
        for household in Household.objects.filter(id__in=household_updates).only("id", "head_name",
                                                                                   "household_no", "region_code"):  # fmt: skip
            old, new = household_updates[household.pk]
            entries.append(audit.PendingEntry(
                action=Action.UPDATE, model=Household._meta.label, object_id=str(household.pk),
                object_repr=str(household), household_id=household.pk, region_code=household.region_code,
                before={"per_capita_income": audit.jsonable(old)}, after={"per_capita_income": audit.jsonable(new)},
                detail="收入参数修改后按新口径重算",
            ))  # fmt: skip
    audit.append(entries)
    return len(updates)


# --- reading: the years and their history ----------------------------------------------------------


@dataclass
class HistoryLine:
    """One change of one year's parameters, read back from the audit log."""

    at: dt.datetime
    username: str
    source: str  # web / cli / …
    action: str
    year: int | None
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    basis: str = ""  # the 依据 given with the change

    @property
    def from_cli(self) -> bool:
        return self.source == "cli"


@dataclass(frozen=True)
class YearRow:
    """One year as the page and the CLI list it."""

    policy: IncomePolicy
    incomes: int  # income records computed by these parameters

    @property
    def line(self) -> str:
        return show("monitoring_line", self.policy.monitoring_line)

    @property
    def tolerance(self) -> str:
        return show("tolerance", self.policy.tolerance)

    @property
    def switches(self) -> list[tuple[str, str]]:
        return [(label(name), show(name, getattr(self.policy, name))) for name in FORMULA_FIELDS]


def years(province_code: str | None = None) -> list[YearRow]:
    """The province's years, latest first, each with how many income records were computed by it."""
    province = province_code or settings.FANGPIN_PROVINCE_CODE
    policies = list(IncomePolicy.objects.filter(province_code=province).order_by("-year"))
    counts = dict(
        IncomeRecord.objects.filter(policy__in=policies).values("policy_id").annotate(n=Count("id"))
        .values_list("policy_id", "n")
    )  # fmt: skip
    return [YearRow(policy, counts.get(policy.pk, 0)) for policy in policies]


def history(province_code: str | None = None) -> list[HistoryLine]:
    """Every recorded change of the province's parameters, newest first. The state after each change is
    rebuilt backwards from today's rows, so each line knows its year and the 依据 in force with it even
    when the change did not touch them."""
    province = province_code or settings.FANGPIN_PROVINCE_CODE
    state = {str(p.pk): audit.snapshot(p) for p in IncomePolicy.objects.filter(province_code=province)}
    entries: Iterable[AuditEntry] = AuditEntry.objects.filter(
        model=MODEL, object_id__in=list(state), action__in=[Action.CREATE, Action.UPDATE, Action.DELETE]
    ).order_by("-seq")
    lines = []
    for entry in entries:
        after_state = dict(state[entry.object_id])
        line = HistoryLine(
            at=entry.at, username=entry.username, source=entry.source, action=entry.get_action_display(),
            year=after_state.get("year"), basis=after_state.get("line_source") or "",
        )  # fmt: skip
        if entry.action == Action.UPDATE:
            line.changes = [
                (label(name), show(name, (entry.before or {}).get(name)), show(name, value))
                for name, value in (entry.after or {}).items()
                if name in EDITABLE and name != "line_source"
            ]
            if "line_source" in (entry.after or {}) and not line.changes:
                line.changes = [("依据", show("line_source", (entry.before or {}).get("line_source")),
                                 show("line_source", entry.after["line_source"]))]  # fmt: skip
            state[entry.object_id].update(entry.before or {})
        elif entry.action == Action.CREATE:
            line.changes = [
                (label(name), "（无）", show(name, value))
                for name, value in (entry.after or {}).items()
                if name in EDITABLE and name != "line_source"
            ]
            state[entry.object_id] = {}
        lines.append(line)
    return lines
