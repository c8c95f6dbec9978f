from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fangpin.regions.models import Level, Region
from fangpin.web.paging import Page, by_key
from fangpin.web.views import capability_required, forbidden, submit

from . import actions, compare, queries
from .forms import ComparisonForm
from .models import CheckMark, Comparison, Difference, Entry


def _regions(user) -> list[Region]:  # type: ignore[no-untyped-def]
    if user.region is None:
        return []
    return list(
        Region.objects.filter(code__startswith=user.region.prefix, level__in=[Level.TOWNSHIP, Level.VILLAGE])
    )


def _described(page: Page) -> Page:
    """Each row with its village's name and the kinds of difference it has (two queries per page)."""
    ids = [e.pk for e in page.rows]
    labels: dict[int, list[str]] = {}
    for entry_id, label in Difference.objects.filter(entry_id__in=ids).values_list("entry_id", "label"):
        if label not in labels.setdefault(entry_id, []):
            labels[entry_id].append(label)
    names = dict(
        Region.objects.filter(code__in={e.region_code for e in page.rows}).values_list("code", "name")
    )
    for e in page.rows:
        e.labels = "、".join(labels.get(e.pk, []))
        e.village_name = names.get(e.region_code, "")
    return page


@capability_required("view_register")
def index(request: HttpRequest) -> HttpResponse:
    """账账比对: the latest comparison in the user's scope, counts by township/village, the households."""
    user = request.user
    comparison = compare.current(user)
    context: dict = {
        "comparison": comparison,
        "can_upload": user.can(actions.UPLOAD),
        "can_export": user.can(actions.EXPORT),
        "pending": Comparison.objects.filter(created_by=user, status=Comparison.Status.PENDING).first(),
    }
    if comparison is not None:
        context["current"] = compare.sync(comparison)
        filters = queries.Filters.from_params(request.GET)
        rows, total = queries.counts(user, comparison)
        context |= {
            "filters": filters,
            "rows": rows,
            "total": total,
            "by_village": user.region.level >= Level.TOWNSHIP,
            "page": _described(by_key(queries.entries(user, comparison, filters), request)),
            "groups": {k: v[0] for k, v in compare.GROUPS.items()},
            "statuses": queries.STATUSES,
            "regions": _regions(user),
            "export_params": filters.as_params(),
        }
    return render(request, "reconciliation/index.html", context)


@capability_required(actions.UPLOAD)
def upload(request: HttpRequest) -> HttpResponse:
    form = ComparisonForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def run() -> HttpResponse:
            job = actions.queue_comparison(user=request.user, upload=data["file"], cutoff=data["cutoff"],
                                           tolerance=data["tolerance"], year=data.get("year"))  # fmt: skip
            return redirect("jobs:detail", pk=job.pk)

        if response := submit(request, form, run):
            return response
    return render(request, "reconciliation/upload.html", {"form": form})


@capability_required("view_register")
def entry(request: HttpRequest, pk: int) -> HttpResponse:
    """One household: each difference with both values, the members of both sides, the 已核对 mark."""
    found = get_object_or_404(
        Entry.objects.for_user(request.user).select_related("comparison", "household"), pk=pk
    )
    is_current = compare.current(request.user) == found.comparison
    if is_current:
        compare.sync(found.comparison)
        found = get_object_or_404(Entry.objects.for_user(request.user).select_related("comparison"), pk=pk)
    mark = CheckMark.objects.filter(household_no=found.household_no).select_related("checked_by").first()
    context = {
        "entry": found,
        "items": found.items.all(),
        "mark": mark if mark and mark.fingerprint == found.fingerprint else None,
        "is_current": is_current,
        "can_check": request.user.can(actions.CHECK) and is_current and found.differences > 0,
    }
    return render(request, "reconciliation/entry.html", context)


@require_POST
@capability_required(actions.CHECK)
def check(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Entry.objects.for_user(request.user), pk=pk)
    try:
        actions.mark_checked(user=request.user, entry=found, note=request.POST.get("note", ""))
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已将户{found.household_no}标记为已核对；两边数据有变化时此标记自动取消")
    return redirect("reconciliation:entry", pk=pk)


@require_POST
@capability_required(actions.EXPORT)
def export(request: HttpRequest) -> HttpResponse:
    comparison = compare.current(request.user)
    if comparison is None:
        messages.error(request, "尚无可导出的比对结果")
        return redirect("reconciliation:index")
    filters = queries.Filters.from_params(request.POST)
    try:
        job = actions.queue_export(user=request.user, comparison=comparison, filters=filters.as_params())
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return redirect("jobs:detail", pk=job.pk)


@require_POST
@capability_required(actions.UPLOAD)
def recompare(request: HttpRequest) -> HttpResponse:
    comparison = compare.current(request.user)
    if comparison is None:
        messages.error(request, "尚无比对，请先上传国家系统导出文件")
        return redirect("reconciliation:index")
    try:
        job = actions.queue_recompare(user=request.user, comparison=comparison)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return redirect("jobs:detail", pk=job.pk)
