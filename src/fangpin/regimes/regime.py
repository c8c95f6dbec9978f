"""The regime in force (口径): which policy a county works under on a given day, as configuration.

A regime names the categories an identification may decide, the identification standard, the income
accounting, the procedure file, the rules that apply, and whether joint intake with 民政 and the
classification of 原建档立卡脱贫人口 are part of the work. The shipped regimes are `config/2025.toml`
(the transition period: what fangpin has always done) and `config/2026.toml` (常态化防止返贫致贫机制).

A province writes its own file of a regime (same form, its `province` code, its `from` date) into
FANGPIN_REGIMES_DIR: for a day, fangpin takes the regime with the latest `from` on or before it, a
province's own file before the national one. So a county switches by configuration only, and every
decision stores the code of the regime it was taken under (Case.regime, Clue.regime, …): a later
switch never rewrites what was decided before.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

CONFIG_DIR = Path(__file__).resolve().parent / "config"
POPULATIONS = {"registered": "国家系统登记的脱贫户和监测户", "rural": "全部农村人口"}
FORMULAS = {"net_income": "人均纯收入", "disposable": "人均可支配收入"}
RIGID_ITEMS = {"medical": "医疗", "education": "教育", "disability_care": "残疾康复护理"}
PENDING = "待核实"


class RegimeError(ValueError):
    """A regime file that cannot be used: named by file and key, so the administrator can fix it."""


@dataclass(frozen=True)
class Standard:
    label: str
    income: str
    line: str
    rigid_expenditure: bool
    confirmed: bool
    source: str


@dataclass(frozen=True)
class Accounting:
    code: str
    label: str
    version: str
    formula: str
    rigid_items: tuple[str, ...]
    confirmed: bool
    source: str

    @property
    def rigid_labels(self) -> list[str]:
        return [RIGID_ITEMS[item] for item in self.rigid_items]


@dataclass(frozen=True)
class JointIntake:
    enabled: bool
    referral_kinds: tuple[str, ...] = ()
    confirmed: bool = True
    source: str = ""


@dataclass(frozen=True)
class ClassOption:
    code: str
    label: str
    description: str
    exits: bool


@dataclass(frozen=True)
class ClassStep:
    code: str
    label: str
    owner: tuple[str, ...]
    days: int
    checklist: tuple[str, ...]


@dataclass(frozen=True)
class Classification:
    enabled: bool
    label: str = ""
    population: str = ""
    total_days: int = 0
    classes: tuple[ClassOption, ...] = ()
    steps: tuple[ClassStep, ...] = ()
    confirmed: bool = True
    source: str = ""

    def option(self, code: str) -> ClassOption:
        return next(c for c in self.classes if c.code == code)

    def step(self, code: str) -> ClassStep:
        return next(s for s in self.steps if s.code == code)

    def after(self, code: str) -> ClassStep | None:
        codes = [s.code for s in self.steps]
        i = codes.index(code)
        return self.steps[i + 1] if i + 1 < len(self.steps) else None


@dataclass(frozen=True)
class Regime:
    code: str
    label: str
    short_label: str
    province: str
    effective_from: dt.date
    object_label: str
    categories: tuple[str, ...]
    categories_confirmed: bool
    assistance_categories: tuple[str, ...]
    population: str
    procedure_file: str
    excluded_rules: tuple[str, ...]
    standard: Standard
    accounting: Accounting
    joint_intake: JointIntake
    classification: Classification
    sources: tuple[str, ...] = ()
    file: str = field(default="", compare=False)

    @property
    def population_label(self) -> str:
        return POPULATIONS[self.population]

    @property
    def whole_population(self) -> bool:
        return self.population == "rural"

    def pending(self) -> list[str]:
        """What this regime takes from no published source: shown to users as 待核实."""
        marks = []
        if not self.categories_confirmed:
            marks.append("监测对象类别")
        for name, part in (("认定标准", self.standard), ("收支核算口径", self.accounting),
                           ("统筹监测和转介", self.joint_intake), ("分类管理", self.classification)):  # fmt: skip
            if getattr(part, "enabled", True) and not part.confirmed:
                marks.append(name)
        return marks

    @property
    def procedure_path(self) -> str:
        """The procedure file of this regime, relative to the regime's own file; "" for the default."""
        if not self.procedure_file:
            return ""
        return str(Path(self.file).parent / self.procedure_file)

    def applies(self, rule: Any) -> bool:
        """Whether a catalogue rule runs under this regime (its `regimes` list, the regime's exclusions)."""
        regimes = getattr(rule, "regimes", ()) or ()
        return (not regimes or self.code in regimes) and rule.id not in self.excluded_rules


def _date(value: Any, file: str, key: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RegimeError(f"{file}：{key} 应为日期（如 2026-01-01），现为「{value}」") from None


def _regime(data: dict[str, Any], path: Path) -> Regime:
    from fangpin.registry.choices import MONITORING_CATEGORIES

    file = path.name

    try:
        standard, accounting = data["standard"], data["accounting"]
        joint, classification = data.get("joint_intake", {}), data.get("classification", {})
        regime = Regime(
            code=str(data["code"]), label=data["label"], short_label=data.get("short_label", data["label"]),
            province=str(data.get("province", "*")), effective_from=_date(data["from"], file, "from"),
            object_label=data.get("object_label", "监测对象"), categories=tuple(data["categories"]),
            categories_confirmed=bool(data.get("categories_confirmed", True)),
            assistance_categories=tuple(data.get("assistance_categories", ())),
            population=data.get("population", "registered"), procedure_file=data.get("procedure_file", ""),
            excluded_rules=tuple(data.get("excluded_rules", ())),
            standard=Standard(label=standard["label"], income=standard["income"], line=standard["line"],
                              rigid_expenditure=bool(standard.get("rigid_expenditure", False)),
                              confirmed=bool(standard.get("confirmed", False)), source=standard.get("source", "")),
            accounting=Accounting(code=accounting["code"], label=accounting["label"], version=str(accounting["version"]),
                                  formula=accounting["formula"], rigid_items=tuple(accounting.get("rigid_items", ())),
                                  confirmed=bool(accounting.get("confirmed", False)),
                                  source=accounting.get("source", "")),
            joint_intake=JointIntake(enabled=bool(joint.get("enabled", False)),
                                     referral_kinds=tuple(joint.get("referral_kinds", ())),
                                     confirmed=bool(joint.get("confirmed", True)), source=joint.get("source", "")),
            classification=Classification(
                enabled=bool(classification.get("enabled", False)), label=classification.get("label", ""),
                population=classification.get("population", ""),
                total_days=int(classification.get("total_days", 0)),
                classes=tuple(ClassOption(code=c["code"], label=c["label"], description=c.get("description", ""),
                                          exits=bool(c.get("exits", False)))
                              for c in classification.get("class", ())),
                steps=tuple(ClassStep(code=s["code"], label=s["label"], owner=tuple(s["owner"]), days=int(s["days"]),
                                      checklist=tuple(s.get("checklist", ())))
                            for s in classification.get("step", ())),
                confirmed=bool(classification.get("confirmed", True)), source=classification.get("source", ""),
            ),
            sources=tuple(data.get("sources", ())), file=str(path),
        )  # fmt: skip
    except KeyError as exc:
        raise RegimeError(f"{file}：缺少配置项 {exc.args[0]}") from None
    unknown = [c for c in regime.categories if c not in MONITORING_CATEGORIES]
    if unknown:
        raise RegimeError(f"{file}：监测对象类别「{'、'.join(unknown)}」不在台账的类别中")
    if regime.population not in POPULATIONS:
        raise RegimeError(f"{file}：population 应为 {' 或 '.join(POPULATIONS)}")
    if regime.accounting.formula not in FORMULAS or regime.standard.income not in FORMULAS:
        raise RegimeError(f"{file}：收入口径应为 {' 或 '.join(FORMULAS)}")
    if bad := [i for i in regime.accounting.rigid_items if i not in RIGID_ITEMS]:
        raise RegimeError(f"{file}：刚性支出项目「{'、'.join(bad)}」应为 {'、'.join(RIGID_ITEMS)}")
    if regime.classification.enabled and not (regime.classification.classes and regime.classification.steps):
        raise RegimeError(f"{file}：分类管理须配置类别（class）和环节（step）")
    return regime


@lru_cache(maxsize=4)
def _load(directories: tuple[str, ...]) -> tuple[Regime, ...]:
    found: dict[tuple[str, str], Regime] = {}
    for directory in directories:
        for path in sorted(Path(directory).glob("*.toml")):
            with open(path, "rb") as fh:
                try:
                    data = tomllib.load(fh)
                except tomllib.TOMLDecodeError as exc:
                    raise RegimeError(f"{path.name}：{exc}") from None
            regime = _regime(data, path)
            found[(regime.code, regime.province)] = regime  # a later directory replaces the same regime
    return tuple(sorted(found.values(), key=lambda r: (r.effective_from, r.province != "*")))


def regimes() -> tuple[Regime, ...]:
    """Every regime configured, shipped and the province's own, by effective date."""
    extra = getattr(settings, "FANGPIN_REGIMES_DIR", "") or ""
    return _load((str(CONFIG_DIR), *((extra,) if extra else ())))


def _province(province: str | None) -> str:
    return province or settings.FANGPIN_PROVINCE_CODE


def for_province(province: str | None = None) -> list[Regime]:
    """The province's regimes by effective date: for each code, the province's own file if it has one
    (so a province may also move a regime's start), else the national one."""
    province = _province(province)
    chosen: dict[str, Regime] = {}
    for regime in regimes():
        if regime.province == province or (regime.province == "*" and regime.code not in chosen):
            chosen[regime.code] = regime
    return sorted(chosen.values(), key=lambda r: r.effective_from)


def regime_for(day: dt.date | None = None, province: str | None = None) -> Regime:
    """The regime in force on `day` (today by default) in the province."""
    day = day or timezone.localdate()
    started = [r for r in for_province(province) if r.effective_from <= day]
    if not started:
        raise RegimeError(f"没有{day:%Y年%-m月%-d日}适用的政策口径，请检查口径配置的生效日期")
    return started[-1]


def by_code(code: str, province: str | None = None) -> Regime:
    """The regime a stored decision names (its province's own file first)."""
    for regime in for_province(province):
        if regime.code == code:
            return regime
    raise RegimeError(f"未配置代码为「{code}」的政策口径")


def current() -> Regime:
    return regime_for()


def label_of(code: str) -> str:
    """A stored regime code as the pages show it; an unknown code (a removed file) shown as it is."""
    if not code:
        return ""
    try:
        return by_code(code).short_label
    except RegimeError:
        return code
