from __future__ import annotations

from collections import Counter

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fangpin.jobs.actions import create_job, enqueue
from fangpin.jobs.models import Kind
from fangpin.regimes.regime import current as current_regime
from fangpin.web import summary
from fangpin.web.paging import newest_first
from fangpin.web.views import capability_required, forbidden

from . import actions, evidence
from .catalogue import FAMILIES, SEVERITIES, load_catalogue, rule_by_id
from .filters import FindingFilter
from .forms import OutcomeForm, ParameterForm, ScreeningForm
from .models import (
    SUSPECT_LABEL,
    Finding,
    RuleParameter,
    RuleSetting,
    ScreeningRun,
    suspect_share,
    threshold_text,
)
from .parameters import specs

PAGE_SIZE = 50


def _open_counts(user) -> Counter:  # type: ignore[no-untyped-def]
    rows = (Finding.objects.for_user(user).filter(status=Finding.Status.OPEN).values("rule_id")
            .annotate(n=Count("id")))  # fmt: skip
    return Counter({row["rule_id"]: row["n"] for row in rows})


def _last_runs(rule_ids: set[str], enabled: set[str]) -> dict[str, ScreeningRun]:
    """Per rule, the latest finished run that ran it: a run of one rule (举一反三) does not blank the
    others. Walks back through the runs until every enabled rule has one."""
    last: dict[str, ScreeningRun] = {}
    runs = ScreeningRun.objects.exclude(finished_at=None).defer("parameters")
    for run in runs.iterator(chunk_size=50):
        for rule_id in (run.rule_counts.keys() & rule_ids) - last.keys():
            last[rule_id] = run
        if enabled <= last.keys():
            break
    return last


@capability_required("view_register")
def catalogue(request: HttpRequest) -> HttpResponse:
    latest = ScreeningRun.objects.exclude(finished_at=None).first()
    switched_off = set(RuleSetting.objects.filter(enabled=False).values_list("rule_id", flat=True))
    open_counts = _open_counts(request.user)
    precision = actions.precision()
    every = load_catalogue()
    ids = {rule.id for rule in every}
    last_runs = _last_runs(ids, ids - switched_off)
    threshold = suspect_share()
    regime = current_regime()
    rules = []
    for rule in every:
        run = last_runs.get(rule.id)
        rules.append(
            {
                "rule": rule,
                "enabled": rule.id not in switched_off,
                "applies": regime.applies(rule),
                "open": open_counts.get(rule.id, 0),
                "run": run,
                "health": run.health(rule, threshold) if run else None,
                "precision": precision.get(rule.id),
            }
        )
    groups = [(family, [r for r in rules if r["rule"].family == family]) for family in FAMILIES]
    suspects = [r for r in rules if r["health"] and r["health"].suspect]
    context = {
        "regime": regime,
        "groups": groups,
        "latest": latest,
        "total": len(rules),
        "suspects": suspects,
        "threshold": threshold_text(threshold),
        "suspect_label": SUSPECT_LABEL,
    }
    return render(request, "rules/catalogue.html", context)


@capability_required("view_register")
def rule_detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    rule = rule_by_id(rule_id)
    if rule is None:
        raise Http404
    labels = specs()
    parameters = [
        {"name": name, "label": labels[name].label if name in labels else name,
         "history": RuleParameter.objects.filter(name=name).select_related("created_by")}
        for name in rule.parameters
    ]  # fmt: skip
    setting = RuleSetting.objects.filter(rule_id=rule.id).first()
    threshold = suspect_share()
    runs = [(run, run.health(rule, threshold)) for run in ScreeningRun.objects.exclude(finished_at=None)[:10]]
    last_run = _last_runs({rule.id}, {rule.id}).get(rule.id)  # the same run the catalogue shows
    last = (last_run, last_run.health(rule, threshold)) if last_run else None
    context = {
        "rule": rule,
        "parameters": parameters,
        "enabled": setting.enabled if setting else True,
        "runs": runs,
        "last": last,
        "suspect_label": SUSPECT_LABEL,
        "open": _open_counts(request.user).get(rule.id, 0),
        "precision": actions.precision().get(rule.id),
        "form": ParameterForm(),
    }
    return render(request, "rules/rule_detail.html", context)


@require_POST
@capability_required("manage_rules")
def toggle_rule(request: HttpRequest, rule_id: str) -> HttpResponse:
    if rule_by_id(rule_id) is None:
        raise Http404
    actions.set_enabled(rule_id=rule_id, enabled=request.POST.get("enabled") == "1", user=request.user)
    return redirect("rules:rule", rule_id=rule_id)


@require_POST
@capability_required("manage_rules")
def add_parameter_value(request: HttpRequest, name: str) -> HttpResponse:
    if name not in specs():
        raise Http404
    form = ParameterForm(request.POST)
    rule_id = request.POST.get("rule", "")
    if form.is_valid():
        actions.add_parameter_value(name=name, user=request.user, **form.cleaned_data)
    return redirect("rules:rule", rule_id=rule_id) if rule_by_id(rule_id) else redirect("rules:catalogue")


@capability_required("view_register")
def findings(request: HttpRequest) -> HttpResponse:
    filters = FindingFilter.from_params(request.GET)
    queryset = filters.apply(Finding.objects.for_user(request.user))
    page = newest_first(queryset.select_related("household", "member"), request, size=PAGE_SIZE)
    context = {
        "findings": page,
        "page": page,
        "total": summary.cached(
            "finding_count", f"{summary.scope_key(request.user)}:{page.first_query}", queryset.count
        ),
        "filters": filters,
        "families": FAMILIES,
        "is_warnings": filters.family == "warnings",
        "severities": SEVERITIES,
        "rules": load_catalogue(),
        "statuses": Finding.Status.choices,
    }
    return render(request, "rules/findings.html", context)


@capability_required("view_register")
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(
        Finding.objects.for_user(request.user).select_related("household", "member", "outcome_by"), pk=pk
    )
    can_verify = (
        finding.is_warning and finding.status == Finding.Status.OPEN and request.user.can("verify_warnings")
    )
    form = OutcomeForm(request.POST or None) if can_verify else None
    if request.method == "POST":
        if form is None:
            return forbidden(request)
        if form.is_valid():
            actions.record_outcome(finding=finding, user=request.user, **form.cleaned_data)
            return redirect("rules:finding", pk=finding.pk)
    rule = rule_by_id(finding.rule_id)
    context = {"finding": finding, "rule": rule, "form": form, "evidence": evidence.rows(finding.evidence),
               "parameters": evidence.rows(finding.parameters)}  # fmt: skip
    return render(request, "rules/finding_detail.html", context)


@require_POST
@capability_required("view_register")
def export_findings(request: HttpRequest) -> HttpResponse:
    params = {k: v for k, v in request.POST.items() if k in FindingFilter.__dataclass_fields__}
    job = create_job(kind=Kind.EXPORT_FINDINGS, user=request.user, params=params)
    enqueue(job)
    return redirect("jobs:detail", pk=job.pk)


@capability_required("run_screening")
def screening(request: HttpRequest) -> HttpResponse:
    form = ScreeningForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        as_of = form.cleaned_data.get("as_of")
        job = create_job(kind=Kind.SCREENING, user=request.user,
                         params={"as_of": as_of.isoformat() if as_of else "", "engine": form.cleaned_data["engine"]})  # fmt: skip
        enqueue(job)
        return redirect("jobs:detail", pk=job.pk)
    every = load_catalogue()
    runs = [(run, run.suspects(every)) for run in ScreeningRun.objects.all()[:20]]
    context = {"form": form, "runs": runs, "suspect_label": SUSPECT_LABEL}
    return render(request, "rules/screening.html", context)
