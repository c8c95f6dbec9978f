"""The entity lists a phone carries: the cadre's own households only, masked, with a version per
household so that a submission made on facts someone has changed since can be told apart, the facts a
home verification may update (as the register holds them at sync) and the measures due; and the
household's pending clues for the 入户核查 form, their text masked."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.db.models import Max, QuerySet
from django.utils import timezone

from fangpin.accounts.roles import Role
from fangpin.audit.models import AuditEntry
from fangpin.monitoring import procedure
from fangpin.monitoring.models import Clue, Measure, Visit
from fangpin.registry.facts import HOUSEHOLD_FACTS, INCOME_FACTS
from fangpin.registry.models import Household, IncomeRecord
from fangpin.retention.scrub import scrub

# whole-village lists for the village team; everyone else (a 帮扶责任人, a township official who is paired
# with households too) carries their paired households only: a township's list on a phone is too much
VILLAGE_LIST_ROLES = (Role.VILLAGE,)
# the register rows whose change makes a phone's copy of the household stale
REGISTER_MODELS = ("registry.Household", "registry.Member", "registry.IncomeRecord")
# the facts the verification form pre-fills, as the register holds them at sync: h_<field> of the
# household, i_<field> of its latest income year (income_year); the form's question names are the same
FACT_COLUMNS = (*(f"h_{n}" for n in HOUSEHOLD_FACTS), "income_year", *(f"i_{n}" for n in INCOME_FACTS))
COLUMNS = ("name", "label", "__version", "village", "last_visit", "risks", "measures_due")
# only a phone with the verification form carries the facts (verify_clue's capability): a 帮扶责任人's
# phone needs no incomes to visit
VERIFYING = "verify_warnings"
CLUE_COLUMNS = ("name", "label", "household")
CLUE_TEXT = 40  # characters of a clue's text on the phone: enough to tell two clues apart


def field_households(user: Any) -> QuerySet[Household]:
    """The households a user's phone may list and submit for: checked again at every submission."""
    in_scope = Household.objects.for_user(user)
    if user.role in VILLAGE_LIST_ROLES:
        return in_scope
    return in_scope.filter(pairings__cadre=user, pairings__until__isnull=True)


def mask_name(name: str) -> str:
    """张*国, 王*, 欧阳**雪: the first character (and the last of three or more) stay readable."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def versions(household_ids: list[int]) -> dict[int, str]:
    """The household's version: the sequence number of the newest audit entry about its register rows
    (a visit or a case step is no change of facts). Every change of the register is on the chain."""
    rows = (
        AuditEntry.objects.filter(household_id__in=household_ids, model__in=REGISTER_MODELS)
        .values("household_id").annotate(v=Max("seq")).order_by()
    )  # fmt: skip
    found = {row["household_id"]: str(row["v"]) for row in rows}
    return {pk: found.get(pk, "0") for pk in household_ids}


def version_of(household: Household) -> str:
    return versions([household.pk])[household.pk]


def fact_text(value: Any) -> str:
    """A fact as the phone carries it and sends it back: 1/0 for 是/否, yuan with two decimals, blank
    for 未填写 (field.verification reads the same forms)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def default_income_year() -> int:
    """The year registry.facts.apply writes income to when a household has no income record yet."""
    return timezone.localdate().year - 1


def measures_due_days() -> int:
    """The procedure's [assistance] measures_due_days (of the regime in force)."""
    return procedure.config().measures_due_days


def due_measures(household_ids: list[int], today: dt.date | None = None) -> dict[int, str]:
    """Per household, its measures ending within the window from today, or ended within the window
    before today (a measure has no other closing than its end date: one just ended is what the visit
    checks, was it delivered and what follows it), as short Chinese text."""
    today = today or timezone.localdate()
    window = dt.timedelta(days=measures_due_days())
    measures = (
        Measure.objects.filter(household_id__in=household_ids, end__isnull=False,
                               end__gte=today - window, end__lte=today + window)
        .order_by("household_id", "end", "id").only("household_id", "group", "item", "end")
    )  # fmt: skip
    found: dict[int, list[str]] = {}
    for m in measures:
        when = f"{m.end.month}月{m.end.day}日" + ("到期" if m.end >= today else "已到期")
        found.setdefault(m.household_id, []).append(f"{m.group}·{m.item}（{when}）")
    return {pk: "；".join(texts) for pk, texts in found.items()}


def _facts(households: list[Household]) -> dict[int, dict[str, str]]:
    """The verification form's pre-filled values: the household facts and its latest year's income."""
    latest: dict[int, IncomeRecord] = {}
    incomes = IncomeRecord.objects.filter(household_id__in=[h.pk for h in households]).order_by(
        "household_id", "-year"
    ).only("household_id", "year", *INCOME_FACTS)  # fmt: skip
    for record in incomes:
        latest.setdefault(record.household_id, record)
    out = {}
    for h in households:
        record = latest.get(h.pk)
        row = {f"h_{n}": fact_text(getattr(h, n)) for n in HOUSEHOLD_FACTS}
        row["income_year"] = str(record.year if record else default_income_year())
        row |= {f"i_{n}": fact_text(getattr(record, n) if record else None) for n in INCOME_FACTS}
        out[h.pk] = row
    return out


def rows(user: Any) -> list[dict[str, str]]:
    households = list(
        field_households(user).select_related("region")
        .only("id", "head_name", "region__name", "risk_types", "risk_eliminated", "monitoring_category",
              *HOUSEHOLD_FACTS)
        .order_by("region_code", "household_no")
    )  # fmt: skip
    ids = [h.pk for h in households]
    last = dict(
        Visit.objects.filter(household_id__in=ids).values_list("household").annotate(Max("visited_on"))
    )
    version = versions(ids)
    due = due_measures(ids)
    facts = _facts(households) if user.can(VERIFYING) else {}
    out = []
    for h in households:
        masked, village = mask_name(h.head_name), h.region.name
        open_risks = h.risk_types if h.monitoring_category and not h.risk_eliminated else ""
        day = last.get(h.pk)
        out.append({
            "name": str(h.pk), "label": f"{masked}（{village}）", "__version": version[h.pk], "village": village,
            "last_visit": f"{day:%Y-%m-%d}" if day else "未走访", "risks": open_risks,
            "measures_due": due.get(h.pk, "无"), **facts.get(h.pk, {}),
        })  # fmt: skip
    return out


def _csv(columns: tuple[str, ...], data: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(data)
    return buffer.getvalue().encode("utf-8")


def households_csv(user: Any) -> bytes:
    return _csv(COLUMNS + (FACT_COLUMNS if user.can(VERIFYING) else ()), rows(user))


def clue_text(clue: Clue, names: list[str]) -> str:
    """A clue as the phone lists it: source, day and the start of its text, with ID-like and mobile
    numbers masked and the household members' names masked as on the list (a hotline note often quotes
    them)."""
    text = scrub(" ".join(clue.summary.split()))
    for name in sorted(names, key=len, reverse=True):
        if len(name) >= 2:
            text = text.replace(name, mask_name(name))
    if len(text) > CLUE_TEXT:
        text = text[: CLUE_TEXT - 1] + "…"
    day = timezone.localtime(clue.reported_at)
    return f"{clue.get_source_display()}·{day.month}月{day.day}日：{text}"


def pending_clues(user: Any) -> QuerySet[Clue]:
    """The pending clues of the user's phone households, in the user's scope."""
    return Clue.objects.for_user(user).filter(
        household__in=field_households(user), status=Clue.Status.PENDING
    )


def clue_rows(user: Any) -> list[dict[str, str]]:
    clues = list(
        pending_clues(user).select_related("household").order_by("household_id", "reported_at", "id")
    )
    names: dict[int, list[str]] = {}
    for household_id, name in (
        Household.objects.filter(pk__in={c.household_id for c in clues})
        .values_list("pk", "members__name")
    ):  # fmt: skip
        names.setdefault(household_id, []).append(name or "")
    for clue in clues:
        names.setdefault(clue.household_id, []).append(clue.household.head_name)
    return [{"name": str(c.pk), "label": clue_text(c, names[c.household_id]), "household": str(c.household_id)}
            for c in clues]  # fmt: skip


def clues_csv(user: Any) -> bytes:
    return _csv(CLUE_COLUMNS, clue_rows(user))
