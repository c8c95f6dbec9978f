"""What a classification assessment reads about a 脱贫户, each fact with its source, and the system's
suggested class with its reasoning (suggestion.toml; the income multiple is a rule parameter).

Economic status (经济状况): the latest year's 人均纯收入 against the monitoring line in force, the income
history (years above the line, growth, months without a value at or below the line), and the risk of
falling back (监测对象 not eliminated, an open identification case, unverified warnings).
Self-development capacity (自我发展能力): labour by the members' 劳动技能, 务工 months, 公益性岗位,
产业 (生产经营性收入, 产业帮扶 measures, land), and the household's 整户无劳动能力 flag."""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils import timezone

from fangpin.audit.models import AuditEntry
from fangpin.monitoring.elimination import NO_LABOUR, months_between
from fangpin.monitoring.models import Case, Measure
from fangpin.regimes.regime import Classification, Regime
from fangpin.registry import income
from fangpin.registry.models import Household
from fangpin.rules.models import WARNING_FAMILIES
from fangpin.rules.parameters import value_on

ECONOMY, CAPACITY = "经济状况", "自我发展能力"
MULTIPLE = "classification_income_multiple"  # rules/catalogue/parameters.toml
ABLE = ("普通劳动力", "技能劳动力")
PENDING = "待核实"


@dataclass(frozen=True)
class Suggestion:
    code: str  # "" when no class of the regime is configured for the conditions that hold
    label: str
    reasons: tuple[str, ...]

    @property
    def text(self) -> str:
        return "；".join(self.reasons)


def _money(value: Decimal | float | None) -> str:
    return "—" if value is None else f"{Decimal(str(value)):,.2f}元"


def _number(value: Decimal) -> str:
    """6 rather than 6.0, 3.5 as it is."""
    return f"{Decimal(value).normalize():f}"


def multiple_parameter(household: Household, day: dt.date | None = None) -> Any:
    """The income multiple in force for the household's province (its value, 待核实 and source)."""
    return value_on(MULTIPLE, day or timezone.localdate(), household.region_code[:2])


def running_measures(household: Household, day: dt.date | None = None) -> list[Measure]:
    """The household's measures running on the day (started, not ended): what a decision may carry over."""
    day = day or timezone.localdate()
    return [m for m in household.assistance.order_by("start", "id") if m.running_on(day)]


def _income_history(household: Household, line: Decimal | None) -> tuple[str, Any]:
    """Years above the line, growth, and since when no value at or below the line was on record."""
    records = [r for r in household.incomes.order_by("year") if r.computed_per_capita is not None]
    if not records:
        return "没有收入记录", None
    steps = "；".join(f"{r.year}年{_money(r.computed_per_capita)}" for r in records)
    rising = 0
    for before, after in itertools.pairwise(records):
        rising = rising + 1 if after.computed_per_capita > before.computed_per_capita else 0
    text = f"{steps}" + (f"；连续{rising}年增长" if rising else ("；未增长" if len(records) > 1 else ""))
    months = None
    if line is not None:
        latest = records[-1]
        entries = list(AuditEntry.objects.filter(model="registry.IncomeRecord", object_id=str(latest.pk))
                       .order_by("seq").only("at", "before", "after"))  # fmt: skip
        since = None
        for entry in entries:
            values = [
                (entry.before or {}).get("computed_per_capita"),
                (entry.after or {}).get("computed_per_capita"),
            ]
            if any(v is not None and Decimal(str(v)) <= line for v in values):
                since = entry.at  # a value at or below the line was on record until here
        if latest.computed_per_capita > line:
            first = since or (entries[0].at if entries else None)
            if first is not None:
                start = timezone.localtime(first).date()
                months = months_between(f"{start:%Y%m}", timezone.localdate())
                span = f"{months}个月" if months else "不足1个月"
                text += (f"；自{start:%Y年%-m月}{'变更后' if since else '录入以来'}，"
                         f"记录的人均纯收入均高于监测范围（{span}）")  # fmt: skip
    return text, months


def _multiple(household: Household, day: dt.date) -> tuple[Decimal | None, str]:
    row = value_on(MULTIPLE, day, household.region_code[:2])
    if row is None:
        return None, "未配置“分类评估收入倍数”参数"
    return Decimal(str(row.value)), "已核实" if row.confirmed else PENDING


def gather(household: Household, day: dt.date | None = None) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The facts (each with its source) and the signals the suggestion reads."""
    day = day or timezone.localdate()
    facts: list[dict[str, str]] = []

    def fact(group: str, label: str, value: str, source: str) -> None:
        facts.append({"group": group, "label": label, "value": value, "source": source})

    province = household.region_code[:2]
    members = list(household.members.order_by("id"))
    record = household.incomes.order_by("-year").first()
    per_capita = record.computed_per_capita if record is not None else None
    policy = income.policy_for(day.year, province)
    line = policy.monitoring_line if policy is not None else None
    line_source = (f"收入参数：{policy.year}年度监测范围（{'已核实' if policy.line_confirmed else PENDING}）"
                   if policy is not None else "收入参数：未设置监测范围")  # fmt: skip
    multiple, multiple_source = _multiple(household, day)
    if record is None or per_capita is None:
        fact(ECONOMY, "人均纯收入", "没有收入记录", "农户台账：年度收入")
    else:
        compared = ""
        if line is not None:
            compared = f"，{'高于' if per_capita > line else '不高于'}{day.year}年监测范围{_money(line)}"
            if multiple is not None:
                compared += f"（{per_capita / line:.2f}倍）"
        fact(ECONOMY, "人均纯收入", f"{record.year}年{_money(per_capita)}{compared}",
             f"农户台账：{record.year}年度收入（本平台计算）；{line_source}")  # fmt: skip
    history, months_above = _income_history(household, line)
    fact(ECONOMY, "收入变化（稳定增收）", history, "农户台账：各年度收入及其变更记录")
    low_income = per_capita is None or line is None or (per_capita < line * (multiple or 1))
    if multiple is not None and line is not None:
        fact(ECONOMY, "分类评估收入倍数", f"监测范围的{multiple}倍，即{_money(line * multiple)}",
             f"规则参数：分类评估收入倍数（{multiple_source}）")  # fmt: skip
    else:
        fact(ECONOMY, "分类评估收入倍数", multiple_source if multiple is None else "未设置监测范围，无法比较",
             "规则参数")  # fmt: skip

    risks = []
    if household.monitoring_category and not household.risk_eliminated:
        risks.append(f"监测对象（{household.monitoring_category}），风险未消除"
                     + (f"：{household.risk_types}" if household.risk_types else ""))  # fmt: skip
    elif household.monitoring_category:
        risks.append(f"曾为监测对象（{household.monitoring_category}），风险已消除"
                     + (f"（{household.eliminated_month[:4]}年{int(household.eliminated_month[4:])}月）"
                        if len(household.eliminated_month) == 6 else ""))  # fmt: skip
    open_case = Case.objects.filter(household=household, status=Case.Status.OPEN,
                                    kind=Case.Kind.IDENTIFICATION).exists()  # fmt: skip
    if open_case:
        risks.append("有办理中的识别纳入程序")
    warnings = list(household.findings.filter(family__in=WARNING_FAMILIES, status="open")
                    .values_list("message", flat=True)[:3])  # fmt: skip
    if warnings:
        risks.append(f"未核实的预警：{'；'.join(warnings)}")
    open_risk = bool(
        open_case or warnings or (household.monitoring_category and not household.risk_eliminated)
    )
    fact(ECONOMY, "返贫致贫风险", "；".join(risks) if risks else "无", "监测程序、预警线索、监测对象台账")
    aid = [m.name for m in members if m.dibao or m.tekun]
    if aid:
        fact(ECONOMY, "社会救助", f"享受低保或特困供养{len(aid)}人", "农户台账：家庭成员")

    skills: dict[str, int] = {}
    for m in members:
        skills[m.labour_skill or "未填写"] = skills.get(m.labour_skill or "未填写", 0) + 1
    able = sum(skills.get(s, 0) for s in ABLE)
    fact(CAPACITY, "劳动力", f"家庭成员{len(members)}人，"
         + "、".join(f"{skill}{n}人" for skill, n in skills.items()), "农户台账：家庭成员劳动技能")  # fmt: skip
    workers = [m for m in members if m.work_months]
    fact(CAPACITY, "务工", (f"{len(workers)}人务工，合计{_number(sum(m.work_months for m in workers))}个月"
                            if workers else "无务工记录"), "农户台账：家庭成员务工时间")  # fmt: skip
    posts = [m for m in members if m.public_welfare_post]
    if posts:
        fact(CAPACITY, "公益性岗位", f"{len(posts)}人（{'、'.join(m.public_welfare_post for m in posts)}）",
             "农户台账：家庭成员")  # fmt: skip
    industry = [m.item for m in running_measures(household, day) if m.group == "产业帮扶"]
    business = record.business if record is not None else None
    fact(CAPACITY, "产业", "；".join(filter(None, [
        f"{record.year}年生产经营性收入{_money(business)}" if record is not None else "",
        f"耕地{_number(household.cultivated_area)}亩" if household.cultivated_area else "",
        f"产业帮扶：{'、'.join(industry)}" if industry else "无在实施的产业帮扶措施",
    ])), "农户台账：年度收入、户基本情况；帮扶措施")  # fmt: skip
    unable_all = bool(members) and all(m.labour_skill in NO_LABOUR for m in members)
    no_labour = bool(household.no_labour_household) or unable_all
    flag = {True: "是", False: "否", None: "未填写"}[household.no_labour_household]
    fact(CAPACITY, "整户无劳动能力", flag + ("（全部成员丧失劳动力或无劳动力）" if unable_all else ""),
         "农户台账：整户无劳动能力兜底保障户")  # fmt: skip
    signals = {
        "no_labour": no_labour, "open_risk": open_risk, "low_income": low_income, "otherwise": True,
        "able": able, "months_above": months_above,
        "per_capita": str(per_capita) if per_capita is not None else None,
        "line": str(line) if line is not None else None, "multiple": str(multiple) if multiple is not None else None,
    }  # fmt: skip
    return facts, signals


@lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    with open(Path(__file__).with_name("suggestion.toml"), "rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=8)
def _province_conditions(file: str) -> dict[str, tuple[str, ...]]:
    """`suggest_when` of the classes in a regime file (a province's own classes name their conditions)."""
    if not file:
        return {}
    with open(file, "rb") as fh:
        data = tomllib.load(fh)
    return {c["code"]: tuple(c["suggest_when"]) for c in data.get("classification", {}).get("class", ())
            if "suggest_when" in c}  # fmt: skip


def conditions(regime: Regime) -> dict[str, tuple[str, ...]]:
    """Each class of the regime → the conditions that suggest it."""
    own = _province_conditions(regime.file)
    shipped = _rules()["classes"]
    return {c.code: own.get(c.code, tuple(shipped.get(c.code, ()))) for c in regime.classification.classes}


def condition_labels() -> dict[str, str]:
    return {c["code"]: c["label"] for c in _rules()["condition"]}


def _reason(code: str, signals: dict[str, Any]) -> str:
    if code == "low_income":
        if signals["per_capita"] is None:
            return "没有收入记录，经济状况无法确认稳定"
        if signals["line"] is None:
            return "未设置当年监测范围，收入无法比较"
        shown = Decimal(signals["line"]) * Decimal(signals["multiple"] or 1)
        return f"人均纯收入{_money(Decimal(signals['per_capita']))}低于{_money(shown)}（监测范围的{signals['multiple'] or 1}倍）"
    return condition_labels()[code]


def suggest(regime: Regime, signals: dict[str, Any]) -> Suggestion:
    """The first condition (in suggestion.toml's order) that holds and names a class of the regime."""
    classification: Classification = regime.classification
    mapped = conditions(regime)
    for condition in (c["code"] for c in _rules()["condition"]):
        if not signals.get(condition):
            continue
        for option in classification.classes:
            if condition in mapped[option.code]:
                held = [
                    _reason(c, signals) for c in mapped[option.code] if signals.get(c) and c != "otherwise"
                ]
                reasons = tuple(held or [_reason(condition, signals)])
                return Suggestion(option.code, option.label, reasons)
    return Suggestion("", "", ("本口径的分类类别未配置建议条件，请村级按评估情况选择",))
