"""脱贫人口分类: the list, the assessment page, progress by township; every query through for_user."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from fangpin.accounts.roles import Role
from fangpin.audit.actions import record_sensitive_read
from fangpin.field.entities import mask_name
from fangpin.monitoring import assistance
from fangpin.monitoring.models import Measure
from fangpin.regimes.regime import Regime, for_province
from fangpin.regimes.regime import current as current_regime
from fangpin.regions.models import Region, code_range
from fangpin.registry.models import Household
from fangpin.rules.parameters import value_on
from fangpin.web.paging import newest_first
from fangpin.web.views import capability_required, forbidden, perform

from . import actions
from . import facts as assessed
from .forms import ReasonForm, StepForm, UploadForm
from .models import OPEN_STATUSES, Assessment

ROLE_LABELS = {r.value: r.label for r in Role}
TOWNSHIP_DIGITS = 9  # 12-digit region codes: the first 9 name the township (regions.models)


def shown_regime() -> tuple[Regime, Regime | None]:
    """(the regime in force, the regime whose classes and steps the pages show): the one in force when
    it includes classification, else the latest that does (its assessments stay readable)."""
    now = current_regime()
    if now.classification.enabled:
        return now, now
    enabled = [r for r in for_province() if r.classification.enabled]
    return now, (enabled[-1] if enabled else None)


def _township_names(codes: set[str]) -> dict[str, str]:
    return {r.code[:TOWNSHIP_DIGITS]: r.name for r in Region.objects.filter(level=4)
            if r.code[:TOWNSHIP_DIGITS] in codes}  # fmt: skip


def class_labels(assessment: Assessment) -> tuple[str, str]:
    """(suggested, proposed) as the assessment's own regime names them."""
    labels = {c.code: c.label for c in actions.regime_of(assessment).classification.classes}
    return labels.get(assessment.suggested_class, ""), labels.get(
        assessment.proposed_class, assessment.proposed_class
    )


def masked_household(household: Household) -> str:
    """The household as lists show it: the head's name masked, and the 户编号."""
    return f"{mask_name(household.head_name) or '（无户主）'}户（{household.household_no}）"


@capability_required("view_register")
def assessment_list(request: HttpRequest) -> HttpResponse:
    in_force, regime = shown_regime()
    rows = Assessment.objects.for_user(request.user).select_related("household__region__parent")
    filters = {k: request.GET.get(k, "") for k in ("township", "village", "step", "cls", "status", "overdue")}
    if filters["township"].isdigit():
        rows = rows.filter(region_code__range=code_range(filters["township"]))
    if filters["village"].isdigit():
        rows = rows.filter(region_code=filters["village"])
    if filters["step"]:
        rows = rows.filter(step=filters["step"], status__in=OPEN_STATUSES)
    if filters["cls"]:
        rows = rows.filter(Q(final_class=filters["cls"]) | Q(final_class="", proposed_class=filters["cls"]))
    if filters["status"] in Assessment.Status.values:
        rows = rows.filter(status=filters["status"])
    if filters["overdue"]:
        rows = rows.filter(actions.overdue_filter())
    page = newest_first(rows, request)
    scope = request.user.region
    places = Region.objects.filter(level__in=(4, 5)).select_related("parent").order_by("code")
    if scope is not None:
        places = [r for r in places if scope.contains(r.code)]
    context = {
        "in_force": in_force, "regime": regime, "filters": filters,
        "rows": [(a, masked_household(a.household), actions.clock(a), *class_labels(a)) for a in page],
        "page": page,
        "count": rows.count(),
        "townships": [r for r in places if r.level == 4], "villages": [r for r in places if r.level == 5],
        "statuses": Assessment.Status.choices,
        "may_batch": bool(scope and scope.level == 5 and actions.may_start(request.user, in_force)),
    }  # fmt: skip
    return render(request, "classification/list.html", context)


def progress_rows(user: Any, regime: Regime, now: Any = None) -> list[dict[str, Any]]:
    """By township of the user's scope: 脱贫户, started, in work at each step, overdue, approved by class
    (of the regime's assessments)."""
    flow = regime.classification
    town = Substr("region_code", 1, TOWNSHIP_DIGITS)
    households = dict(
        Household.objects.for_user(user).filter(household_type=flow.population).annotate(town=town)
        .values("town").annotate(n=Count("id")).order_by().values_list("town", "n")
    )  # fmt: skip
    counts = {"started": Count("household", distinct=True, filter=~Q(status=Assessment.Status.CLOSED)),
              "overdue": Count("id", filter=actions.overdue_filter(now))}  # fmt: skip
    for step in flow.steps:
        counts[f"step:{step.code}"] = Count("id", filter=Q(status__in=OPEN_STATUSES, step=step.code))
    for option in flow.classes:
        counts[f"class:{option.code}"] = Count(
            "id", filter=Q(status=Assessment.Status.APPROVED, final_class=option.code)
        )
    found = {row["town"]: row for row in Assessment.objects.for_user(user).filter(regime=regime.code)
             .annotate(town=town).values("town").annotate(**counts).order_by()}  # fmt: skip
    names = _township_names(set(households) | set(found))
    rows = []
    for code in sorted(set(households) | set(found)):
        row = found.get(code, {})
        rows.append({
            "code": code, "name": names.get(code, code), "households": households.get(code, 0),
            "started": row.get("started", 0), "overdue": row.get("overdue", 0),
            "steps": [row.get(f"step:{s.code}", 0) for s in flow.steps],
            "classes": [row.get(f"class:{c.code}", 0) for c in flow.classes],
        })  # fmt: skip
    return rows


@capability_required("view_register")
def progress(request: HttpRequest) -> HttpResponse:
    in_force, regime = shown_regime()
    rows = progress_rows(request.user, regime) if regime else []
    total = None
    if rows:
        total = {
            "households": sum(r["households"] for r in rows), "started": sum(r["started"] for r in rows),
            "overdue": sum(r["overdue"] for r in rows),
            "steps": [sum(r["steps"][i] for r in rows) for i in range(len(regime.classification.steps))],
            "classes": [sum(r["classes"][i] for r in rows) for i in range(len(regime.classification.classes))],
        }  # fmt: skip
    from fangpin.rules.forms import ParameterForm
    from fangpin.rules.models import RuleParameter

    context = {
        "in_force": in_force, "regime": regime, "rows": rows, "total": total,
        "multiple": value_on(assessed.MULTIPLE, timezone.localdate()),
        "multiple_history": RuleParameter.objects.filter(name=assessed.MULTIPLE).select_related("created_by")
        .order_by("-effective_from", "-id"),
        "parameter_form": ParameterForm() if request.user.can("manage_rules") else None,
    }  # fmt: skip
    return render(request, "classification/progress.html", context)


@require_POST
@capability_required("manage_rules")
def parameter(request: HttpRequest) -> HttpResponse:
    """A new value of the income multiple of the suggestion, from a date, with its 依据 (audited)."""
    from fangpin.rules import actions as rule_actions
    from fangpin.rules.forms import ParameterForm

    form = ParameterForm(request.POST)
    if form.is_valid():
        rule_actions.add_parameter_value(name=assessed.MULTIPLE, user=request.user, **form.cleaned_data)
        messages.success(request, "分类评估收入倍数已更新，此后发起和村级完成的评估按新值建议")
    else:
        messages.error(
            request, "；".join(f"{form.fields[k].label}：{'；'.join(v)}" for k, v in form.errors.items())
        )
    return redirect("classification:progress")


def _scoped(request: HttpRequest, pk: int) -> Assessment:
    return get_object_or_404(
        Assessment.objects.for_user(request.user).select_related("household__region"), pk=pk
    )


@capability_required("view_register")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = _scoped(request, pk)
    regime = actions.regime_of(assessment)
    flow = regime.classification
    step = flow.step(assessment.step)
    owns = actions.owns(request.user, assessment)
    first, last = step.code == flow.steps[0].code, flow.after(step.code) is None
    household = assessment.household
    running = assessed.running_measures(household) if assessment.is_open else []
    continuing = {i.name for items in assistance.catalogue().values() for i in items if i.continues}
    step_form = (StepForm(assessment=assessment, regime=regime, first=first, last=last, measures=running,
                          continuing=continuing) if owns else None)  # fmt: skip
    kept = set(assessment.carried_measures) | set(assessment.ended_measures)
    measures = {m.pk: m for m in Measure.objects.filter(pk__in=kept)}
    conditions = assessed.conditions(regime)
    labels = assessed.condition_labels()
    context = {
        "assessment": assessment, "regime": regime, "flow": flow, "step": step, "owns": owns,
        "household_label": masked_household(household), "clock": actions.clock(assessment),
        "groups": [(g, [f for f in assessment.facts if f["group"] == g]) for g in (assessed.ECONOMY, assessed.CAPACITY)],
        "suggested": flow.option(assessment.suggested_class) if assessment.suggested_class in
        {c.code for c in flow.classes} else None,
        "proposed": flow.option(assessment.proposed_class) if assessment.proposed_class in
        {c.code for c in flow.classes} else None,
        "rules": [(c, [labels.get(x, x) for x in conditions.get(c.code, ())]) for c in flow.classes],
        "step_form": step_form, "first": first, "last": last,
        "return_form": ReasonForm() if owns and not first else None,
        "close_form": ReasonForm() if actions.may_close(request.user, assessment) else None,
        "upload_form": UploadForm() if owns else None,
        "attachments": assessment.attachments.select_related("uploaded_by"),
        "events": assessment.events.select_related("user"),
        "done_steps": _done_steps(assessment, flow),
        "carried": [measures[i] for i in assessment.carried_measures if i in measures],
        "ended": [measures[i] for i in assessment.ended_measures if i in measures],
        "role_labels": ROLE_LABELS, "owner_labels": "、".join(ROLE_LABELS.get(r, r) for r in step.owner),
        "step_labels": {s.code: s.label for s in flow.steps},
        "multiple": assessed.multiple_parameter(household),
        "returned": assessment.events.filter(action="returned").last() if assessment.status == "returned" else None,
    }  # fmt: skip
    return render(request, "classification/detail.html", context)


def _done_steps(assessment: Assessment, flow: Any) -> set[str]:
    """The steps behind the assessment: before the current one while in work (a returned step is to do
    again), all of them once approved, those completed before a closure."""
    codes = [s.code for s in flow.steps]
    if assessment.is_open:
        return set(codes[: codes.index(assessment.step)])
    if assessment.status == Assessment.Status.APPROVED:
        return set(codes)
    return {e.step for e in assessment.events.filter(action="done")}


def _act(request: HttpRequest, pk: int, run) -> HttpResponse:  # type: ignore[no-untyped-def]
    assessment = _scoped(request, pk)
    return perform(request, lambda: run(assessment), reverse("classification:detail", args=[assessment.pk]))


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@require_POST
@capability_required("view_register")
def advance(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    carried = _ids(post.getlist("carried")) if post.get("decide") else None
    return _act(request, pk, lambda a: actions.advance(
        user=request.user, assessment=a, checklist=post.getlist("checklist"), note=post.get("note", ""),
        class_code=post.get("class_code", ""), reason=post.get("reason", ""), carried=carried))  # fmt: skip


@require_POST
@capability_required("view_register")
def return_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda a: actions.return_assessment(user=request.user, assessment=a,
                                                                 reason=request.POST.get("reason", "")))  # fmt: skip


@require_POST
@capability_required("view_register")
def close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda a: actions.close(user=request.user, assessment=a,
                                                     reason=request.POST.get("reason", "")))  # fmt: skip


@require_POST
@capability_required("view_register")
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)

    def run(assessment: Assessment) -> Any:
        if not form.is_valid():
            raise ValidationError("请选择材料类型和文件")
        actions.attach(user=request.user, assessment=assessment,
                       uploads=[(form.cleaned_data["kind"], form.cleaned_data["file"])])  # fmt: skip
        messages.success(request, "材料已上传")

    return _act(request, pk, run)


@require_POST
@capability_required("view_register")
def start(request: HttpRequest, household_id: int) -> HttpResponse:
    household = get_object_or_404(Household.objects.for_user(request.user), pk=household_id)
    try:
        assessment = actions.start(user=request.user, household=household, note=request.POST.get("note", ""))
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("registry:household_detail", pk=household.pk)
    return redirect("classification:detail", pk=assessment.pk)


@require_POST
@capability_required("view_register")
def start_village(request: HttpRequest) -> HttpResponse:
    village = request.user.region

    def run() -> None:
        if village is None:
            raise ValidationError("当前账号没有所属村")
        result = actions.start_village(user=request.user, village=village)
        messages.success(request, f"已为{village.name}{result.started}户脱贫户发起分类评估"
                         + (f"；{result.already_open}户已在办理" if result.already_open else "")
                         + (f"；{result.already_decided}户已审定" if result.already_decided else ""))  # fmt: skip

    return perform(request, run, reverse("classification:list"))


@capability_required("view_register")
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """A scan or photo, only inside the user's scope; every download is written to the audit log."""
    from .models import AssessmentAttachment

    item = get_object_or_404(AssessmentAttachment.objects.for_user(request.user), pk=pk)
    record_sensitive_read(instance=item, field_label=f"分类评估材料（{item.get_kind_display()}）",
                          household_id=item.household_id, region_code=item.region_code)  # fmt: skip
    return FileResponse(open(item.path, "rb"), as_attachment=True, filename=item.name)
