"""The procedure as configuration: read once from procedure.toml (or FANGPIN_PROCEDURE_FILE)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    owner: tuple[str, ...]
    days: int
    checklist: tuple[str, ...]
    min_days: int = 0


@dataclass(frozen=True)
class Procedure:
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


@lru_cache(maxsize=4)
def _load(path: str) -> Procedure:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    steps = tuple(
        Step(code=s["code"], label=s["label"], owner=tuple(s["owner"]), days=int(s["days"]),
             checklist=tuple(s.get("checklist", ())), min_days=int(s.get("min_days", 0)))
        for s in data["step"]
    )  # fmt: skip
    return Procedure(total_days=int(data["total_days"]), steps=steps)


def procedure() -> Procedure:
    return _load(
        getattr(settings, "FANGPIN_PROCEDURE_FILE", "") or str(Path(__file__).with_name("procedure.toml"))
    )
