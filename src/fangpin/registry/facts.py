"""Household facts that home verifications and visits update (income components, illness, schooling,
insurance, housing, water): one form pre-filled from the register, and one audited way to save it.

Every change goes through the models' audited save, so the household's history (and its state on any
past day) shows who changed which fact and when; income is recomputed by the policy of its year."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.validators import MinValueValidator
from django.db import transaction

from . import income as income_rules
from .models import INCOME_COMPONENTS, ExpenditureRecord, Household, IncomeRecord, Member

HOUSEHOLD_FACTS = ("dangerous_house", "safe_drinking_water", "compliant_self_pay", "no_labour_household")
MEMBER_FACTS = (
    "health", "labour_skill", "school_status", "dropout_reason", "resident_medical_insurance",
    "employee_medical_insurance", "work_months", "work_place",
)  # fmt: skip
INCOME_FACTS = ("wage", "business", "property", "transfer", "business_expense")


def _field(model: type, name: str) -> forms.Field:
    return model._meta.get_field(name).formfield(required=False)


class FactsForm(forms.Form):
    """The household's facts, pre-filled; only what the user changes is saved."""

    def __init__(self, *args: Any, household: Household, expenditure: Any = None, **kwargs: Any) -> None:
        """`expenditure`: the regime (fangpin.regimes) whose accounting's rigid items a home verification
        asks for, as "e-<item>" fields of the income year (saved by registry.accounting)."""
        super().__init__(*args, **kwargs)
        self.household = household
        self.members = list(household.members.order_by("id"))
        self.income = household.incomes.order_by("-year").first()
        for name in HOUSEHOLD_FACTS:
            self.fields[f"h-{name}"] = _field(Household, name)
            self.initial[f"h-{name}"] = getattr(household, name)
        for member in self.members:
            for name in MEMBER_FACTS:
                self.fields[f"m{member.pk}-{name}"] = _field(Member, name)
                self.initial[f"m{member.pk}-{name}"] = getattr(member, name)
        self.fields["income_year"] = forms.IntegerField(label="收入年度", min_value=2000, max_value=2100,
                                                        required=False)  # fmt: skip
        self.initial["income_year"] = self.income.year if self.income else date.today().year - 1
        for name in INCOME_FACTS:
            self.fields[f"i-{name}"] = _field(IncomeRecord, name)
            self.initial[f"i-{name}"] = getattr(self.income, name) if self.income else None
        self.rigid_items = list(expenditure.accounting.rigid_items) if expenditure is not None else []
        spent = (
            household.expenditures.filter(year=self.initial["income_year"]).first()
            if self.rigid_items
            else None
        )
        for name in self.rigid_items:
            self.fields[f"e-{name}"] = _field(ExpenditureRecord, name)
            self.fields[f"e-{name}"].validators.append(MinValueValidator(0))
            self.initial[f"e-{name}"] = getattr(spent, name) if spent else None

    def household_fields(self) -> list[forms.BoundField]:
        return [self[f"h-{name}"] for name in HOUSEHOLD_FACTS]

    def member_rows(self) -> list[tuple[Member, list[forms.BoundField]]]:
        return [(m, [self[f"m{m.pk}-{name}"] for name in MEMBER_FACTS]) for m in self.members]

    def income_fields(self) -> list[forms.BoundField]:
        return [self["income_year"], *(self[f"i-{name}"] for name in INCOME_FACTS)]

    def expenditure_fields(self) -> list[forms.BoundField]:
        return [self[f"e-{name}"] for name in self.rigid_items]

    @staticmethod
    def member_labels() -> list[str]:
        return [str(Member._meta.get_field(name).verbose_name) for name in MEMBER_FACTS]

    def changed(self) -> dict[str, Any]:
        """The changed cleaned values (the form must be valid). A field missing from the submission is
        left alone rather than read as emptied, so a partial post never blanks a fact."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.data}


@transaction.atomic
def apply(household: Household, changes: dict[str, Any]) -> list[str]:
    """Save changed facts (keys as in FactsForm) through the audited models; returns what changed, in
    Chinese, for the visit or verification record."""
    said: list[str] = []

    def update(obj: Any, values: dict[str, Any], who: str = "") -> bool:
        changed = False
        for name, value in values.items():
            if getattr(obj, name) != value:
                label = obj._meta.get_field(name).verbose_name
                said.append(f"{who}{label}：{_show(getattr(obj, name))} → {_show(value)}")
                setattr(obj, name, value)
                changed = True
        return changed

    def picked(prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: changes[prefix + name] for name in names if prefix + name in changes}

    if update(household, picked("h-", HOUSEHOLD_FACTS)):
        household.save()
    for member in household.members.all():
        if update(member, picked(f"m{member.pk}-", MEMBER_FACTS), who=member.name):
            member.save()
    income_changes = picked("i-", INCOME_FACTS)
    if income_changes:
        year = (
            changes.get("income_year")
            or household.incomes.order_by("-year").values_list("year", flat=True).first()
        )
        year = year or date.today().year - 1
        record = household.incomes.filter(year=year).first() or IncomeRecord(
            household=household, region_code=household.region_code, year=year
        )
        update(record, income_changes, who=f"{year}年")
        _recompute(household, record)
        record.save()
        if household.incomes.order_by("-year").values_list("year", flat=True).first() == year:
            household.per_capita_income, household.income_year = record.computed_per_capita, year
            household.save()
    return said


def _recompute(household: Household, record: IncomeRecord) -> None:
    policy = income_rules.policy_for(record.year, household.region_code[:2])
    values = {name: getattr(record, name) for name in (*INCOME_COMPONENTS, "reported_per_capita")}
    result = income_rules.compute(
        values, policy=policy, annual_size=household.annual_size, current_size=household.current_size,
        member_count=household.members.count(), claims_income=household.claims_income,
    )  # fmt: skip
    record.computed_net, record.computed_per_capita = result.net, result.per_capita
    record.divisor_size, record.discrepancy = result.divisor, result.discrepancy
    record.policy = policy


def _show(value: Any) -> str:
    if value is None or value == "":
        return "未填写"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)
