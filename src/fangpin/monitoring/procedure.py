"""The monitoring work as configuration: read once from procedure.toml (or FANGPIN_PROCEDURE_FILE)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

IDENTIFICATION, ELIMINATION = "identification", "elimination"
SHIPPED = Path(__file__).with_name("procedure.toml")


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    owner: tuple[str, ...]
    days: int
    checklist: tuple[str, ...]
    min_days: int = 0
    notice: bool = False


@dataclass(frozen=True)
class Procedure:
    kind: str
    label: str
    total_days: int
    steps: tuple[Step, ...]

    def step(self, code: str) -> Step:
        return next(s for s in self.steps if s.code == code)

    def index(self, code: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.code == code)

    def after(self, code: str) -> Step | None:
        i = self.index(code)
        return self.steps[i + 1] if i + 1 < len(self.steps) else None

    def before(self, code: str) -> Step | None:
        i = self.index(code)
        return self.steps[i - 1] if i > 0 else None


@dataclass(frozen=True)
class Config:
    procedures: dict[str, Procedure]
    months_since_identification: int
    stable_income_months: int
    development_groups: tuple[str, ...]
    development_within_days: int
    risk_measures: dict[str, tuple[str, ...]]
    visit_interval_days: dict[str, int]
    green_channel_risks: tuple[str, ...]
    measures_due_days: int  # a measure ending (or ended) within these days is 到期 on the phone's list


def _procedure(kind: str, data: dict[str, Any]) -> Procedure:
    steps = tuple(
        Step(code=s["code"], label=s["label"], owner=tuple(s["owner"]), days=int(s["days"]),
             checklist=tuple(s.get("checklist", ())), min_days=int(s.get("min_days", 0)),
             notice=bool(s.get("notice", False)))
        for s in data["step"]
    )  # fmt: skip
    return Procedure(kind=kind, label=data["label"], total_days=int(data["total_days"]), steps=steps)


@lru_cache(maxsize=4)
def _load(path: str) -> Config:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    assistance = data["assistance"]
    return Config(
        procedures={kind: _procedure(kind, data[kind]) for kind in (IDENTIFICATION, ELIMINATION)},
        months_since_identification=int(data["elimination_criteria"]["months_since_identification"]),
        stable_income_months=int(data["elimination_criteria"]["stable_income_months"]),
        development_groups=tuple(assistance["development_groups"]),
        development_within_days=int(assistance["development_within_days"]),
        risk_measures={risk: tuple(groups) for risk, groups in assistance["risk_measures"].items()},
        visit_interval_days={k: int(v) for k, v in data["visits"]["interval_days"].items()},
        green_channel_risks=tuple(data[IDENTIFICATION].get("green_channel_risks", ())),
        # practice, not policy: a province's own file without the key takes the shipped window
        measures_due_days=int(
            assistance.get("measures_due_days", 0) or _load(str(SHIPPED)).measures_due_days
        ),
    )


def config(regime_code: str = "") -> Config:
    """The procedure of a regime (政策口径): the one a case was opened under, or the one in force today."""
    from fangpin.regimes.regime import by_code, current

    regime = by_code(regime_code) if regime_code else current()
    return _load(regime.procedure_path or getattr(settings, "FANGPIN_PROCEDURE_FILE", "") or str(SHIPPED))


def procedure(kind: str = IDENTIFICATION, regime_code: str = "") -> Procedure:
    return config(regime_code).procedures[kind]
