from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fangpin.accounts.roles import Role
from fangpin.regions.models import Region
from fangpin.registry.models import Household
from fangpin.rules.models import Finding
from fangpin.web.views import capability_required, forbidden, perform

from . import actions
from .forms import AdvanceForm, OpenCaseForm, ReturnForm
from .models import Case
from .procedure import procedure


@capability_required("view_register")
def case_list(request: HttpRequest) -> HttpResponse:
    cases = Case.objects.for_user(request.user).select_related("household")
    rows = [(case, actions.clock(case)) for case in cases.filter(status=Case.Status.OPEN)]
    if request.GET.get("overdue"):
        rows = [(case, tick) for case, tick in rows if tick.step_overdue or tick.overdue]
    townships = {r.code[:9]: r.name for r in Region.objects.filter(level=4)}
    waiting: dict[str, list] = defaultdict(list)
    for case, tick in rows:
        if tick.step_overdue:
            waiting[townships.get(case.region_code[:9], case.region_code[:9])].append((case, tick))
    timeliness = {}
    for case in cases.filter(status=Case.Status.DONE):
        name = townships.get(case.region_code[:9], "")
        within, total = timeliness.get(name, (0, 0))
        timeliness[name] = (
            within + ((case.finished_at - case.opened_at).days <= procedure().total_days),
            total + 1,
        )
    context = {
        "rows": rows, "waiting": dict(waiting), "procedure": procedure(),
        "timeliness": {k: (w, t, round(100 * w / t, 1)) for k, (w, t) in timeliness.items()},
        "role_labels": {r.value: r.label for r in Role},
    }  # fmt: skip
    return render(request, "monitoring/case_list.html", context)


@capability_required("open_cases")
def open_case(request: HttpRequest, household_id: int) -> HttpResponse:
    household = get_object_or_404(Household.objects.for_user(request.user), pk=household_id)
    finding = None
    if finding_id := request.GET.get("finding") or request.POST.get("finding"):
        finding = Finding.objects.for_user(request.user).filter(pk=finding_id, household=household).first()
    form = OpenCaseForm(request.POST or None, initial={"source": "warning" if finding else "cadre"})
    if request.method == "POST" and form.is_valid():
        try:
            case = actions.open_case(
                user=request.user, household=household, finding=finding, **form.cleaned_data
            )
        except PermissionDenied as exc:
            return forbidden(request, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("monitoring:case", pk=case.pk)
    return render(
        request, "monitoring/open_case.html", {"form": form, "household": household, "finding": finding}
    )


@capability_required("view_register")
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.for_user(request.user).select_related("household"), pk=pk)
    step = procedure().step(case.step)
    owns = actions.owns(request.user, case)
    context = {
        "case": case, "clock": actions.clock(case), "procedure": procedure(), "step": step,
        "events": case.events.select_related("user"), "owns": owns,
        "advance_form": AdvanceForm(checklist=step.checklist) if owns else None,
        "return_form": ReturnForm() if owns and procedure().before(step.code) else None,
        "done_steps": {e.step for e in case.events.filter(action="done")},
        "role_labels": {r.value: r.label for r in Role},
    }  # fmt: skip
    return render(request, "monitoring/case.html", context)


def _act(request: HttpRequest, pk: int, run) -> HttpResponse:  # type: ignore[no-untyped-def]
    case = get_object_or_404(Case.objects.for_user(request.user), pk=pk)
    return perform(request, lambda: run(case), reverse("monitoring:case", args=[case.pk]))


@require_POST
@capability_required("view_register")
def advance(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda case: actions.advance(
        user=request.user, case=case, checklist=request.POST.getlist("checklist"), note=request.POST.get("note", "")))  # fmt: skip


@require_POST
@capability_required("view_register")
def return_case(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda case: actions.return_case(user=request.user, case=case,
                                                              reason=request.POST.get("reason", "")))  # fmt: skip
