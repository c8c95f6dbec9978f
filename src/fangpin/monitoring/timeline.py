"""一户一档: one timeline of everything that happened to a household in the monitoring work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from fangpin.registry.models import Household
from fangpin.rules.catalogue import rule_by_id
from fangpin.rules.models import WARNING_FAMILIES

from .models import CaseEvent, Clue
from .procedure import procedure


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str
    title: str
    detail: str = ""
    who: str = ""
    link: str = ""


def _moment(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _name(user) -> str:  # type: ignore[no-untyped-def]
    return str(user) if user else ""


def timeline(household: Household) -> list[Event]:
    events: list[Event] = []
    for f in household.findings.filter(family__in=WARNING_FAMILIES).select_related("outcome_by"):
        rule = rule_by_id(f.rule_id)  # the rule by its name, as the page says it
        events.append(Event(f.created_at, "预警", f"{f.family}：{f.message}", rule.name if rule else f.rule_id,
                            link=reverse("rules:finding", args=[f.pk])))  # fmt: skip
    for c in Clue.objects.filter(household=household).select_related("reported_by", "verified_by"):
        link = reverse("monitoring:clue", args=[c.pk])
        events.append(
            Event(
                c.reported_at,
                "线索",
                f"{c.get_source_display()}：{c.summary}",
                c.reporter,
                _name(c.reported_by),
                link,
            )
        )
        if c.verified_at:
            events.append(Event(c.verified_at, "入户核查", c.get_outcome_display(), c.verification_note,
                                _name(c.verified_by), link))  # fmt: skip
    for e in CaseEvent.objects.filter(case__household=household).select_related("case", "user"):
        flow = procedure(e.case.kind, e.case.regime)
        label = next((s.label for s in flow.steps if s.code == e.step), e.step)
        events.append(Event(e.at, e.case.get_kind_display(), f"{label} {e.get_action_display()}", e.note,
                            _name(e.user), reverse("monitoring:case", args=[e.case_id])))  # fmt: skip
        if e.action == CaseEvent.Action.DONE and flow.after(e.step) is None:
            decision = "纳入监测" if e.case.kind == "identification" else "风险消除"
            events.append(
                Event(
                    e.at,
                    "决定",
                    f"{decision}（{e.case.proposed_category}）",
                    e.case.risk_types,
                    _name(e.user),
                )
            )
    for case in household.cases.prefetch_related("objections"):
        for o in case.objections.all():
            events.append(Event(o.received_at, "公示异议", o.content, o.raised_by or "匿名"))
            if o.answered_at:
                events.append(Event(o.answered_at, "异议答复", o.answer))
    for p in household.pairings.select_related("cadre", "assigned_by"):
        events.append(Event(_moment(p.since), "结对帮扶", f"帮扶责任人：{_name(p.cadre)}",
                            f"至{p.until:%Y-%m-%d}" if p.until else "", _name(p.assigned_by)))  # fmt: skip
    for m in household.assistance.select_related("created_by"):
        period = f"{m.start:%Y-%m-%d}至{m.end:%Y-%m-%d}" if m.end else f"{m.start:%Y-%m-%d}起"
        events.append(Event(_moment(m.start), "帮扶措施", f"{m.group}：{m.item}",
                            f"{period}{f'，资金{m.funding}元' if m.funding else ''}", _name(m.created_by)))  # fmt: skip
    for v in household.visits.select_related("visitor"):
        events.append(Event(_moment(v.visited_on), "入户走访", v.changes, v.notes, _name(v.visitor)))
    for r in household.referrals.select_related("referred_by", "outcome_by"):
        events.append(Event(r.referred_at, "转介民政", "、".join(r.kinds), "；".join(r.reasons.values()),
                            _name(r.referred_by)))  # fmt: skip
        if r.outcome_at:
            events.append(
                Event(r.outcome_at, "民政审核结果", r.outcome_label, r.outcome_note, _name(r.outcome_by))
            )
    for r in household.reversions.select_related("by"):
        events.append(Event(r.at, "风险消除回退", r.reason, who=_name(r.by)))
    return sorted(events, key=lambda e: e.at, reverse=True)
