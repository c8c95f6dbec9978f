"""A 入户核查 from the phone, read against the register: per household fact, what the official found
(the answer), what the phone was pre-filled with at sync (the hidden copy in the same submission) and
what the register holds now. A fact whose answer equals its copy was left alone: no change. One the
phone changed is applied as the web form would (registry.facts.apply's keys) unless someone changed the
register since the sync too; then the village chooses, per fact, which value stands."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models

from fangpin.monitoring.models import Outcome
from fangpin.registry.facts import HOUSEHOLD_FACTS, INCOME_FACTS
from fangpin.registry.models import Household, IncomeRecord

from . import entities

PHONE, CURRENT = "phone", "current"  # the village's pick for a contested fact
CENT = Decimal("0.01")


class BadAnswer(ValueError):
    """An answer the phone should not have been able to send (a county's form without the constraint)."""


@dataclass(frozen=True)
class Fact:
    key: str  # registry.facts.apply's key: h-<field>, i-<field>
    question: str  # the form's question (h_<field>, i_<field>); its synced copy is s_<question>
    field: models.Field


FACTS = (
    *(Fact(f"h-{n}", f"h_{n}", Household._meta.get_field(n)) for n in HOUSEHOLD_FACTS),
    *(Fact(f"i-{n}", f"i_{n}", IncomeRecord._meta.get_field(n)) for n in INCOME_FACTS),
)


def parse(fact: Fact, text: str) -> Any:
    """An answer or copy as the model holds it: True/False/None, Decimal to the cent, None for blank."""
    text = text.strip()
    if text == "":
        return None
    if isinstance(fact.field, models.BooleanField):
        if text in ("1", "0"):
            return text == "1"
        raise BadAnswer(f"{fact.field.verbose_name}的填写无效")
    try:
        value = Decimal(text).quantize(CENT)
    except (InvalidOperation, ValueError) as exc:
        raise BadAnswer(f"{fact.field.verbose_name}的填写无效") from exc
    if value < 0 or not value.is_finite():
        raise BadAnswer(f"{fact.field.verbose_name}不能为负数")
    return value


def show(value: Any, fact: Fact) -> str:
    """A value as the register's pages show it: 是/否, yuan, 未填写."""
    if value is None or value == "":
        return "未填写"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(fact.field, models.DecimalField):
        return f"{value:,.2f}元"
    return str(value)


@dataclass(frozen=True)
class Diff:
    fact: Fact
    label: str  # 是否危房户, 2025年工资性收入
    phone: Any
    synced: Any
    current: Any

    @property
    def contested(self) -> bool:
        """Someone changed the register since the phone's sync, to another value than the phone's."""
        return self.current != self.synced and self.current != self.phone

    @property
    def key(self) -> str:
        return self.fact.key

    def shown(self) -> dict[str, str]:
        return {"label": self.label, "phone": show(self.phone, self.fact),
                "synced": show(self.synced, self.fact), "current": show(self.current, self.fact)}  # fmt: skip


def income_year(values: dict[str, str]) -> int:
    text = values.get("income_year", "")
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else entities.default_income_year()


def diffs(values: dict[str, str], household: Household) -> list[Diff]:
    """The facts the phone changed (answer ≠ its synced copy), beside the register's value now. A fact
    a county's form does not ask (no answer or no copy) is never touched."""
    year = income_year(values)
    record = household.incomes.filter(year=year).first()
    out = []
    for fact in FACTS:
        if fact.question not in values or f"s_{fact.question}" not in values:
            continue
        phone, synced = parse(fact, values[fact.question]), parse(fact, values[f"s_{fact.question}"])
        if phone == synced:
            continue
        if fact.key.startswith("h-"):
            current, label = getattr(household, fact.field.name), str(fact.field.verbose_name)
        else:
            current = getattr(record, fact.field.name) if record else None
            label = f"{year}年{fact.field.verbose_name}"
        out.append(Diff(fact, label, phone, synced, current))
    return out


def changes(found: list[Diff], picks: dict[str, str] | None = None) -> dict[str, Any]:
    """registry.facts.apply's changes: every fact the phone changed that nobody changed since the sync,
    and each contested one the village chose the phone's value for."""
    picks = picks or {}
    out: dict[str, Any] = {d.key: d.phone for d in found if not d.contested or picks.get(d.key) == PHONE}
    return out


def with_year(values: dict[str, str], out: dict[str, Any]) -> dict[str, Any]:
    """The income changes go to the year the phone was shown, not a newer one added since."""
    if any(key.startswith("i-") for key in out):
        out["income_year"] = income_year(values)
    return out


def outcome_label(code: str) -> str:
    return dict(Outcome.choices).get(code, "")
