"""The monitoring work over the typed API: cases with their clocks, the inbox, a household's assistance
plan with its policy checks and elimination criteria, overdue visits. Read-only; scoped like the UI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from fangpin.api_scope import register_reader
from fangpin.registry.models import Household

from . import actions, assistance, elimination
from .models import Case, Clue

router = Router(tags=["监测帮扶"])


class CaseOut(Schema):
    id: int
    household_id: int
    household: str
    region_code: str
    kind: str
    status: str
    step: str
    step_label: str
    waiting_on: list[str]
    proposed_category: str
    risk_types: str
    green_channel: bool
    opened_at: dt.datetime
    finished_at: dt.datetime | None
    elapsed_days: float
    remaining_days: float
    step_due: dt.datetime
    step_overdue: bool
    overdue: bool


def _case(case: Case) -> dict:
    tick = actions.clock(case)
    return {
        "id": case.pk, "household_id": case.household_id, "household": str(case.household),
        "region_code": case.region_code, "kind": case.kind, "status": case.status, "step": case.step,
        "step_label": tick.step.label, "waiting_on": list(tick.step.owner), "proposed_category": case.proposed_category,
        "risk_types": case.risk_types, "green_channel": case.green_channel, "opened_at": case.opened_at,
        "finished_at": case.finished_at, "elapsed_days": tick.elapsed_days, "remaining_days": tick.remaining_days,
        "step_due": tick.step_due, "step_overdue": tick.step_overdue, "overdue": tick.overdue,
    }  # fmt: skip


@router.get("/cases", response=list[CaseOut], summary="识别和风险消除程序（含时钟）")
def list_cases(
    request: HttpRequest, kind: str = "", status: str = "open", overdue: bool = False
) -> list[dict]:
    cases = Case.objects.for_user(register_reader(request)).select_related("household")
    kind, status = kind.replace("\x00", ""), status.replace("\x00", "")  # PostgreSQL: U+0000 is a 500
    if kind:
        cases = cases.filter(kind=kind)
    if status:
        cases = cases.filter(status=status)
    rows = [_case(c) for c in cases[:1000]]
    return [r for r in rows if r["step_overdue"] or r["overdue"]] if overdue else rows


@router.get("/cases/{case_id}", response=CaseOut, summary="程序详情")
def get_case(request: HttpRequest, case_id: int) -> dict:
    return _case(
        get_object_or_404(
            Case.objects.for_user(register_reader(request)).select_related("household"), pk=case_id
        )
    )


class ClueOut(Schema):
    id: int
    household_id: int
    region_code: str
    source: str
    summary: str
    status: str
    outcome: str
    reported_at: dt.datetime
    verified_at: dt.datetime | None
    case_id: int | None


@router.get("/clues", response=list[ClueOut], summary="线索库")
def list_clues(request: HttpRequest, status: str = "pending") -> list[Clue]:
    clues = Clue.objects.for_user(register_reader(request))
    status = status.replace("\x00", "")  # PostgreSQL refuses U+0000 in a comparison (a 500)
    return list(clues.filter(status=status)[:1000] if status else clues[:1000])


class ProblemOut(Schema):
    basis: str
    message: str
    due: dt.date | None


class CriterionOut(Schema):
    label: str
    met: bool
    detail: str


class MeasureOut(Schema):
    id: int
    group: str
    item: str
    start: dt.date
    end: dt.date | None
    funding: Decimal | None
    funding_source: str


class PlanOut(Schema):
    household_id: int
    monitoring_category: str
    risk_types: list[str]
    risk_eliminated: bool | None
    cadre: str | None
    last_visit: dt.date | None
    measures: list[MeasureOut]
    problems: list[ProblemOut]
    elimination_criteria: list[CriterionOut]


@router.get(
    "/households/{household_id}/plan", response=PlanOut, summary="某户的帮扶计划、政策核验和风险消除条件"
)
def household_plan(request: HttpRequest, household_id: int) -> dict:
    household = get_object_or_404(Household.objects.for_user(register_reader(request)), pk=household_id)
    cadre = assistance.current_cadre(household)
    last = household.visits.order_by("-visited_on").first()
    eligible = household.monitoring_category and not household.risk_eliminated
    return {
        "household_id": household.pk, "monitoring_category": household.monitoring_category,
        "risk_types": household.risk_type_list, "risk_eliminated": household.risk_eliminated,
        "cadre": str(cadre) if cadre else None, "last_visit": last.visited_on if last else None,
        "measures": list(household.assistance.all()), "problems": assistance.plan_problems(household),
        "elimination_criteria": elimination.criteria(household) if eligible else [],
    }  # fmt: skip


class VisitDueOut(Schema):
    household_id: int
    household: str
    last_visit: dt.date | None
    due: dt.date
    days_over: int
    cadre: str | None


@router.get("/visits/overdue", response=list[VisitDueOut], summary="走访超期的监测户")
def overdue_visits(request: HttpRequest) -> list[dict]:
    rows = assistance.overdue_visits(Household.objects.for_user(register_reader(request)))
    return [
        {"household_id": r.household.pk, "household": str(r.household), "last_visit": r.last, "due": r.due,
         "days_over": r.days_over, "cadre": str(r.cadre) if r.cadre else None}
        for r in rows[:1000]
    ]  # fmt: skip
