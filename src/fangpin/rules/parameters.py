"""Resolving parameter values for a run: the province's value in force on the run date, else the
default; the monitoring line from the income formula's yearly parameters."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings

from .catalogue import CATALOGUE_DIR
from .models import RuleParameter


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    label: str


@lru_cache(maxsize=1)
def _defaults() -> dict[str, dict[str, Any]]:
    with open(CATALOGUE_DIR / "parameters.toml", "rb") as fh:
        return tomllib.load(fh)


def specs() -> dict[str, ParameterSpec]:
    return {name: ParameterSpec(name, data["label"]) for name, data in _defaults().items()}


def sync_defaults(**_: Any) -> None:
    """Create the default rows of parameters.toml that are not in the database yet."""
    for name, data in _defaults().items():
        for value in data.get("value", []):
            RuleParameter.objects.get_or_create(
                name=name,
                province_code=value["province"],
                effective_from=value["from"],
                created_by=None,
                defaults={
                    "value": value["value"],
                    "confirmed": value["confirmed"],
                    "source": value["source"],
                },
            )


def value_on(name: str, day: dt.date, province_code: str | None = None) -> RuleParameter | None:
    province_code = province_code or settings.FANGPIN_PROVINCE_CODE
    rows = RuleParameter.objects.filter(
        name=name, effective_from__lte=day, province_code__in=[province_code, "*"]
    )
    # the province's own value wins over the default; then the latest effective date, then the latest entry
    return (
        sorted(rows, key=lambda r: (r.province_code != "*", r.effective_from, r.id), reverse=True)[0]
        if rows
        else None
    )


def resolve(names: set[str], day: dt.date, province_code: str | None = None) -> dict[str, Any]:
    from fangpin.registry.income import policy_for

    values: dict[str, Any] = {
        "as_of": day,
        "as_of_year": day.year,
        "year_start": dt.date(day.year, 1, 1),
        "twelve_months_ago": day.replace(year=day.year - 1)
        if (day.month, day.day) != (2, 29)
        else day - dt.timedelta(days=365),
    }
    policy = policy_for(day.year, province_code)
    values["monitoring_line"] = float(policy.monitoring_line) if policy else None
    values["income_year"] = day.year - 1
    for name in names:
        row = value_on(name, day, province_code)
        if row is None:
            raise KeyError(f"参数 {name} 没有 {day} 时有效的取值")
        values[name] = row.value
    return values
