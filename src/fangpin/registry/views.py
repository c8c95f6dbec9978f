from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fangpin.audit.actions import household_as_of
from fangpin.audit.models import Action, AuditEntry
from fangpin.jobs.models import Job
from fangpin.monitoring.assistance import plan_problems
from fangpin.monitoring.models import Clue, Referral
from fangpin.monitoring.timeline import timeline
from fangpin.regions.models import Level, Region
from fangpin.web import summary
from fangpin.web.views import capability_required, forbidden, submit

from . import accounting, actions, choices, faults, income_policy
from .filters import INCOME_BANDS, HouseholdFilter, keyset_page
from .forms import ExportForm, ImportForm, IncomePolicyForm
from .income import policy_for
from .models import ExpenditureRecord, Household, IncomePolicy, IncomeRecord, Member
from .status import guarantees

PAGE_SIZE = 50
# what a row of the list shows (and its key): not the ~60 columns and three JSON documents of a household
LIST_COLUMNS = ("household_no", "region_code", "head_name", "region__name", "household_type", "monitoring_category",
                "risk_types", "annual_size", "current_size", "per_capita_income", "phone_masked")  # fmt: skip


def region_options(user) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Townships and villages inside the user's scope, for the region filter: read once per change of
    the data (regions are audited), not on every page of a county's list (some 200 rows)."""
    if user.region is None:
        return []
    prefix = user.region.prefix
    regions = Region.objects.filter(code__startswith=prefix, level__in=[Level.TOWNSHIP, Level.VILLAGE])
    return summary.cached(
        "region_options", prefix, lambda: list(regions.order_by("code").values("code", "name", "level"))
    )


@capability_required("view_register")
def household_list(request: HttpRequest) -> HttpResponse:
    filters = HouseholdFilter.from_params(request.GET)
    queryset = filters.apply(Household.objects.for_user(request.user))
    page, next_cursor = keyset_page(
        queryset.select_related("region").only(*LIST_COLUMNS), request.GET.get("after", ""), PAGE_SIZE
    )
    params = request.GET.copy()
    params.pop("after", None)
    context = {
        "households": page,
        "next_cursor": next_cursor,
        "filters": filters,
        "total": summary.cached(
            "household_count", f"{summary.scope_key(request.user)}:{params.urlencode()}", queryset.count
        ),
        "query_string": params.urlencode(),
        "is_first_page": not request.GET.get("after"),
        "regions": region_options(request.user),
        "household_types": choices.HOUSEHOLD_TYPES,
        "categories": choices.MONITORING_CATEGORIES,
        "risk_types": choices.RISK_TYPES,
        "income_bands": INCOME_BANDS,
    }
    return render(request, "registry/household_list.html", context)


def _as_of(request: HttpRequest) -> dt.datetime | None:
    raw = request.GET.get("as_of", "")
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


HIDDEN_FIELDS = {
    "id",
    "extra",
    "region_id",
    "region_code",
    "created_at",
    "updated_at",
    "household_no",
    "head_name",
}


def _labelled(model: type, snapshot: dict) -> list[tuple[str, object]]:
    """(label, value) of the non-empty fields a person should read, in model order."""
    return [
        (str(f.verbose_name), snapshot[f.attname])
        for f in model._meta.concrete_fields
        if f.attname in snapshot
        and f.attname not in HIDDEN_FIELDS
        and not f.attname.endswith(("_enc", "_hash"))
        and snapshot[f.attname] not in (None, "", {}, [])
    ]


def history_changes(entry: AuditEntry) -> list[tuple[str, object, object]]:
    """(label, before, after) of an update, as officials read them: links to other rows (the case a clue
    became, who verified it) are left out — the entry names who acted —, times in local time, choices by
    their label."""
    if entry.action != Action.UPDATE:
        return []
    fields = HISTORY_FIELDS.get(entry.model, {})
    return [
        (str(fields[name].verbose_name) if name in fields else name,
         _shown(fields.get(name), (entry.before or {}).get(name)), _shown(fields.get(name), value))
        for name, value in (entry.after or {}).items()
        if not (name in fields and (fields[name].is_relation or name in HIDDEN_FIELDS))
    ]  # fmt: skip


def _shown(field: Any, value: Any) -> object:
    if field is None or value in (None, ""):
        return accounting.condensed(value)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            return f"{timezone.localtime(dt.datetime.fromisoformat(value)):%Y-%m-%d %H:%M}"
        except ValueError:
            return value
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    return accounting.condensed(value)


HISTORY_FIELDS = {
    model._meta.label: {f.attname: f for f in model._meta.concrete_fields}
    for model in (Household, Member, IncomeRecord, ExpenditureRecord, Clue, Referral)
}


@capability_required("view_register")
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = get_object_or_404(
        Household.objects.for_user(request.user).select_related("region__parent"), pk=pk
    )
    members = list(household.members.order_by("id"))
    as_of = _as_of(request)
    past = None
    if as_of is not None:
        state = household_as_of(household.pk, as_of)
        past = {
            "date": request.GET["as_of"],
            "household": _labelled(Household, state.get(("registry.Household", str(household.pk)), {})),
            "members": [s for (model, _), s in state.items() if model == "registry.Member"],
            "incomes": [s for (model, _), s in state.items() if model == "registry.IncomeRecord"],
        }
    entries = AuditEntry.objects.filter(
        household_id=household.pk, action__in=[Action.CREATE, Action.UPDATE, Action.DELETE]
    ).order_by("-seq")[:100]
    history = [(entry, history_changes(entry)) for entry in entries]
    context = {
        "household": household,
        "members": members,
        "incomes": household.incomes.select_related("policy").order_by("-year"),
        "guarantees": guarantees(household, members),
        "history": history,
        "cases": household.cases.order_by("-opened_at"),
        "can_open_case": request.user.can("open_cases")
        and not household.cases.filter(status="open").exists(),
        "can_report_clue": request.user.can("report_clues"),
        "findings": household.findings.filter(status="open")
        .select_related("member")
        .order_by("family", "rule_id"),
        "past": past,
        "timeline": timeline(household),
        "accounting": accounting.card(household),  # 收支核算 where both accountings apply (2026 regime)
        "last_visit": household.visits.order_by("-visited_on").first(),
        "plan_problems": [p for p in plan_problems(household) if not p.due],
        "can_reveal": request.user.can("reveal_sensitive"),
        "household_fields": _labelled(
            Household, {f.attname: getattr(household, f.attname) for f in Household._meta.concrete_fields}
        ),
    }
    return render(request, "registry/household_detail.html", context)


@require_POST
@capability_required("view_register")
def reveal_member(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    if field not in actions.SENSITIVE_FIELDS:
        raise Http404
    member = get_object_or_404(Member.objects.for_user(request.user), pk=pk)
    try:
        value = actions.reveal(user=request.user, obj=member, field=field)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return render(request, "registry/_revealed.html", {"value": value})


@require_POST
@capability_required("view_register")
def reveal_household_phone(request: HttpRequest, pk: int) -> HttpResponse:
    household = get_object_or_404(Household.objects.for_user(request.user), pk=pk)
    try:
        value = actions.reveal(user=request.user, obj=household, field="phone")
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return render(request, "registry/_revealed.html", {"value": value})


@capability_required("import_register")
def import_page(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = actions.queue_import(
            user=request.user,
            upload=form.cleaned_data["file"],
            year=form.cleaned_data.get("year"),
            strict=form.cleaned_data["strict"],
            full_ids=form.cleaned_data["full_ids"],
        )
        return redirect("jobs:detail", pk=job.pk)
    return render(request, "registry/import.html", {"form": form})


@require_POST
@capability_required("import_register")
def confirm_import(request: HttpRequest, pk: int) -> HttpResponse:
    """确认导入: the user has read the faults the check found; the same file is imported."""
    job = get_object_or_404(Job.objects.for_user(request.user), pk=pk)
    try:
        actions.confirm_import(user=request.user, job=job, allow_moves=request.POST.get("allow_moves") == "1")
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return redirect("jobs:detail", pk=job.pk)


@capability_required("export_register")
def export_page(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = actions.queue_export(
                user=request.user,
                layout=form.cleaned_data["layout"],
                year=form.cleaned_data.get("year"),
                full=form.cleaned_data["full"],
            )
        except PermissionDenied as exc:
            return forbidden(request, exc)
        return redirect("jobs:detail", pk=job.pk)
    return render(
        request, "registry/export.html", {"form": form, "can_full": request.user.can("export_full_ids")}
    )


FIRST_YEAR, LAST_YEAR = 2015, 2100


@capability_required("view_register")
def income_policies(request: HttpRequest) -> HttpResponse:
    """收入参数: the province's years with the monitoring line and the formula's switches, and their history."""
    can_manage = request.user.can(income_policy.MANAGE)
    year = request.GET.get("year", "")
    if can_manage and year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR:
        return redirect("registry:income_policy_edit", year=int(year))
    rows = income_policy.years()
    context = {
        "rows": rows,
        "history": income_policy.history(),
        "can_manage": can_manage,
        "province_code": settings.FANGPIN_PROVINCE_CODE,
        "next_year": (rows[0].policy.year + 1) if rows else timezone.localdate().year,
        "line_effect": income_policy.LINE_EFFECT,
        "formula_effect": income_policy.FORMULA_EFFECT,
    }
    return render(request, "registry/income_policies.html", context)


@capability_required(income_policy.MANAGE)
def income_policy_edit(request: HttpRequest, year: int) -> HttpResponse:
    """Enter a new year's parameters or correct a year's, with the 依据 of the change."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    province = settings.FANGPIN_PROVINCE_CODE
    existing = IncomePolicy.objects.filter(province_code=province, year=year).first()
    base = existing or policy_for(year, province)
    form = IncomePolicyForm(
        request.POST or None, initial=IncomePolicyForm.initial_from(base, new_year=existing is None)
    )
    if request.method == "POST" and form.is_valid():

        def run() -> HttpResponse:
            change = income_policy.save_policy(user=request.user, year=year, **form.cleaned_data)
            messages.success(request, change.summary())
            return redirect("registry:income_policies")

        if response := submit(request, form, run):
            return response
    context = {
        "form": form,
        "year": year,
        "existing": existing,
        "existing_line": income_policy.show("monitoring_line", existing.monitoring_line) if existing else "",
        "base": base,
        "line_effect": income_policy.LINE_EFFECT,
        "formula_effect": income_policy.FORMULA_EFFECT,
    }
    return render(request, "registry/income_policy_form.html", context)


@capability_required("correct_ids")
def id_corrections(request: HttpRequest) -> HttpResponse:
    """证件号码待修正: the IDs imports kept damaged, per village, each with a field for the true number."""
    members = actions.ids_to_correct(request.user)
    page, next_cursor = keyset_page(
        members, request.GET.get("after", ""), PAGE_SIZE, key=("region_code", "id")
    )
    return render(
        request,
        "registry/id_corrections.html",
        {
            "members": [(m, faults.label(m.id_fault)) for m in page],
            "total": members.count(),
            "next_cursor": next_cursor,
        },
    )


@require_POST
@capability_required("correct_ids")
def correct_id(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Member.objects.for_user(request.user), pk=pk)
    try:
        actions.correct_id(user=request.user, member=member, id_number=request.POST.get("id_number", ""))
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        messages.error(request, f"{member.name}：{exc.messages[0]}")
    else:
        messages.success(
            request, f"已更正{member.name}的证件号码（{member.id_number_masked}），下次筛查时该疑点自动消除"
        )
    return redirect("registry:id_corrections")
