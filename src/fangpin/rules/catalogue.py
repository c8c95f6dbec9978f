"""The rule catalogue: rules are data, one TOML file per topic under catalogue/.

Each rule holds its id, the national rule code where known, a Chinese name and one-line
explanation, family, severity, the SQL (one text for DuckDB and Spark), its parameters, the evidence
columns it returns, the sentence a finding reads as, and examples: households on which it must and
must not fire. The examples are the rule's own test (tests/test_rules.py runs them on both engines).

`basis` names the sections of the specification the rule rests on ("policy.md §10.3, §12.2;
formats.md §2"). Users never read those file names: the rule page shows `basis_text`, the same
citation in Chinese (依据：《防止返贫致贫监测和帮扶政策要点》第10.3节、第12.2节；《数据格式说明》第2节).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
FAMILIES = ("数据质量", "部门预警", "收入监测")
SEVERITIES = ("错误", "警告", "提示")
LEVELS = ("person", "household")
PARAMETER = re.compile(r"(?<![:\w]):([a-z][a-z0-9_]*)")
REQUIRED_COLUMNS = {"person": ("household_key", "person_key"), "household": ("household_key",)}


# the documents a rule may cite, as users know them
DOCUMENTS = {"policy.md": "《防止返贫致贫监测和帮扶政策要点》", "formats.md": "《数据格式说明》"}
SECTION = r"§\d+(?:\.\d+)*"
CITATION = re.compile(rf"^({'|'.join(re.escape(d) for d in DOCUMENTS)}) ({SECTION}(?:, ?{SECTION})*)$")


class CatalogueError(ValueError):
    pass


def _citations(basis: str) -> list[tuple[str, list[str]]]:
    """Split a basis: "policy.md §3.4, §7.3; formats.md §2" → [("policy.md", ["3.4", "7.3"]), …]."""
    parts = []
    for part in re.split(r"[;；]", basis):
        match = CITATION.match(part.strip())
        if not match:
            raise ValueError(part.strip())
        parts.append((match.group(1), re.findall(r"§(\d+(?:\.\d+)*)", match.group(2))))
    return parts


@dataclass(frozen=True)
class Example:
    expect: bool
    household: dict[str, Any] = field(default_factory=dict)
    head: dict[str, Any] = field(default_factory=dict)
    spouse: dict[str, Any] = field(default_factory=dict)
    child: dict[str, Any] = field(default_factory=dict)
    member: dict[str, Any] = field(default_factory=dict)  # an extra member added to the household
    income: dict[str, Any] = field(default_factory=dict)  # the income year of the run
    rosters: tuple[dict[str, Any], ...] = ()  # roster rows: kind, who (head/spouse/child/member), fields
    previous_income: dict[str, Any] = field(default_factory=dict)  # the year before
    expenditure: dict[str, Any] = field(default_factory=dict)  # rigid expenditure of the income year, if any
    twin: bool = False  # a second, identical household (for rules across households)
    note: str = ""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    explanation: str
    family: str
    severity: str
    level: str
    sql: str
    message: str
    evidence: tuple[str, ...]
    code: str = ""
    source: str = ""
    basis: str = ""  # the specification's sections, e.g. "policy.md §10.3; formats.md §2"
    period: str = (
        ""  # "" (the same problem while it lasts), "year" (per income year), "as_of_year" (per run year)
    )
    examples: tuple[Example, ...] = ()
    # the regimes (政策口径, fangpin.regimes) the rule runs under; empty: every regime
    regimes: tuple[str, ...] = ()
    file: str = ""

    @property
    def parameters(self) -> list[str]:
        return sorted(set(PARAMETER.findall(self.sql)) - BUILT_IN_PARAMETERS)

    @property
    def version(self) -> str:
        """Changes whenever the rule's SQL or message changes; every finding records it."""
        return hashlib.sha256(f"{self.sql}\n{self.message}".encode()).hexdigest()[:12]

    @property
    def basis_text(self) -> str:
        """The citation as the rule page shows it, in Chinese and without file names."""
        if not self.basis:
            return ""
        cited = [
            DOCUMENTS[document] + "、".join(f"第{section}节" for section in sections)
            for document, sections in _citations(self.basis)
        ]
        return "依据：" + "；".join(cited)

    def describe(self, row: dict[str, Any]) -> str:
        try:
            return self.message.format(**{k: _show(v) for k, v in row.items()})
        except (KeyError, IndexError, ValueError):
            return self.name


BUILT_IN_PARAMETERS = {
    "as_of",
    "as_of_year",
    "year_start",
    "twelve_months_ago",
    "income_year",
    "monitoring_line",
}


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    if value is None:
        return "（空）"
    return str(value)


def _rule(data: dict[str, Any], file: str) -> Rule:
    examples = tuple(
        Example(**{**example, "rosters": tuple(example.get("rosters", ()))})
        for example in data.pop("example", [])
    )
    data["evidence"] = tuple(data.get("evidence", ()))
    data["regimes"] = tuple(str(code) for code in data.get("regimes", ()))
    rule = Rule(**data, examples=examples, file=file)
    if rule.family not in FAMILIES or rule.severity not in SEVERITIES or rule.level not in LEVELS:
        raise CatalogueError(
            f"{file} {rule.id}: family/severity/level must be one of {FAMILIES}/{SEVERITIES}/{LEVELS}"
        )
    if rule.basis:
        try:
            _citations(rule.basis)
        except ValueError as exc:
            raise CatalogueError(
                f"{file} {rule.id}: basis「{exc}」应写作 policy.md §10.3, §12.2 或 formats.md §2（多项以分号分隔）"
            ) from None
    missing = [column for column in REQUIRED_COLUMNS[rule.level] if column not in rule.sql]
    if missing:
        raise CatalogueError(f"{file} {rule.id}: 规则的SQL须返回 {'、'.join(missing)}（{rule.level}级规则）")
    return rule


def load_catalogue() -> tuple[Rule, ...]:
    """The shipped catalogue plus the county's own rule files (FANGPIN_RULES_DIR): a county adds a
    rule by writing a TOML file there, in the same form, without touching Python."""
    from django.conf import settings

    return _load(CATALOGUE_DIR, getattr(settings, "FANGPIN_RULES_DIR", "") or "")


@lru_cache(maxsize=4)
def _load(directory: Path, county_directory: str) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    paths = sorted(directory.glob("*.toml"))
    if county_directory:
        paths += sorted(Path(county_directory).glob("*.toml"))
    for path in paths:
        if path.name == "parameters.toml":
            continue
        label = path.name if path.parent == directory else f"本县：{path.name}"
        try:
            with open(path, "rb") as fh:
                content = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{label}: {exc}") from exc
        for data in content.get("rule", []):
            rules.append(_rule(dict(data), label))
    ids = [r.id for r in rules]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise CatalogueError(f"duplicate rule ids: {sorted(duplicates)}")
    return tuple(rules)


def rule_by_id(rule_id: str) -> Rule | None:
    from django.conf import settings

    return _index(CATALOGUE_DIR, getattr(settings, "FANGPIN_RULES_DIR", "") or "").get(rule_id)


@lru_cache(maxsize=4)
def _index(directory: Path, county_directory: str) -> dict[str, Rule]:
    return {rule.id: rule for rule in _load(directory, county_directory)}
