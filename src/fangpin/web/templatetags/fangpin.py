"""Template filters for showing stored values the way officials write them."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def display(value: Any) -> str:
    """是/否 for booleans, “（空）” for nothing, 组：项、项 for measure groups, a list joined with 、."""
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value in (None, "", [], {}):
        return "（空）"
    if isinstance(value, dict):
        return "；".join(f"{k}：{display(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


@register.filter
def get_item(mapping: dict, key: str) -> Any:
    return mapping.get(key, key)


@register.filter
def regime_label(code: str) -> str:
    """A stored regime code (Case.regime, …) as its 口径 name."""
    from fangpin.regimes.regime import label_of

    return label_of(code)


@register.filter
def rule_name(rule_id: str) -> str:
    """A rule as officials know it: its name (a rule gone from the catalogue by its id)."""
    from fangpin.rules.catalogue import rule_by_id

    rule = rule_by_id(rule_id)
    return rule.name if rule else rule_id


@register.filter
def evidence_text(values: dict) -> str:
    """A finding's evidence in one line, with Chinese labels and readable numbers."""
    from fangpin.rules.evidence import rows

    return "；".join(f"{label}：{display(value)}" for label, value in rows(values))
