"""民政低收入人口比对 pages: the comparison (groups, counts by township, the list of each group), the
upload of 民政's list and the history of lists. Thin: scope, filters, `compare`, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from fangpin.regions.models import Level, Region
from fangpin.web.paging import PAGE_SIZE, Page
from fangpin.web.views import capability_required, forbidden, submit

from . import actions, compare
from .exporter import export_group
from .forms import UploadForm
from .models import AidList

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _regions(user) -> list[Region]:  # type: ignore[no-untyped-def]
    if user.region is None:
        return []
    return list(
        Region.objects.filter(code__startswith=user.region.prefix, level__in=[Level.TOWNSHIP, Level.VILLAGE])
    )


def _page(rows: list, request: HttpRequest) -> Page:
    """One page of an in-memory list (the comparison is computed whole for the scope), by `?from=`."""
    start = int(request.GET["from"]) if request.GET.get("from", "").isdigit() else 0
    params = request.GET.copy()
    params.pop("from", None)
    first_query = params.urlencode()
    next_query = ""
    if start + PAGE_SIZE < len(rows):
        params["from"] = str(start + PAGE_SIZE)
        next_query = params.urlencode()
    page = Page(rows[start : start + PAGE_SIZE], next_query, first_query, start == 0)
    page.start = start  # type: ignore[attr-defined]
    return page


def _pending(user) -> AidList | None:  # type: ignore[no-untyped-def]
    return AidList.objects.filter(uploaded_by=user, status=AidList.Status.IMPORTING).first()


@capability_required(compare.VIEW)
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    aid_list = compare.current_list(user)
    context: dict = {"aid_list": aid_list, "can_upload": actions.may_upload(user), "pending": _pending(user),
                     "can_export": user.can(actions.EXPORT), "groups": compare.GROUPS}  # fmt: skip
    if aid_list is not None and user.region is not None:
        found = compare.result(aid_list, user)
        filters = compare.Filters.from_params(request.GET)
        rows, total = compare.counts(found, user)
        chosen = compare.chosen(found, filters, user)
        page = _page(chosen, request)
        names = compare.region_names({r.region_code for r in page.rows})
        for row in page.rows:
            code = row.region_code
            row.township = names.get(code[:9] + "000", "") if code[6:9].strip("0") else ""
            row.village = names.get(code, "") if code[9:12].strip("0") else ""
        context |= {
            "found": found, "filters": filters, "rows": rows, "total": total, "page": page, "count": len(chosen),
            "by_village": user.region.level >= Level.TOWNSHIP, "regions": _regions(user),
            "filter_groups": compare.FILTER_GROUPS, "why": compare.WHY,
            "export_query": "&".join(f"{k}={v}" for k, v in filters.as_params().items()),
            "preparer": user.display_name,
        }  # fmt: skip
    return render(request, "socialaid/index.html", context)


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    if not actions.may_upload(request.user):
        return forbidden(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def run() -> HttpResponse:
            job = actions.queue_import(user=request.user, upload=data["file"], as_of=data["as_of"],
                                       source=data["source"])  # fmt: skip
            return redirect("jobs:detail", pk=job.pk)

        if response := submit(request, form, run):
            return response
    return render(request, "socialaid/upload.html", {"form": form})


@login_required
def lists(request: HttpRequest) -> HttpResponse:
    """The lists and when each was in use: those of the user's scope for who sees the register, their own
    uploads for a 民政 data officer."""
    user = request.user
    if user.can(compare.VIEW) and user.region is not None:
        # lists of the user's region or below, and the lists whose scope holds the user's region
        found = [
            a for a in AidList.objects.select_related("uploaded_by")[:500]
            if user.region.contains(a.region_code) or user.region.code.startswith(compare.scope_prefix(a.region_code))
        ]  # fmt: skip
    elif actions.may_upload(user):
        found = list(AidList.objects.filter(uploaded_by=user).select_related("uploaded_by")[:500])
    else:
        return forbidden(request)
    names = dict(Region.objects.filter(code__in={a.region_code for a in found}).values_list("code", "name"))
    for a in found:
        a.scope_name = names.get(a.region_code, a.region_code)
        a.summary_text = summary_text(a.summary)
    return render(request, "socialaid/lists.html", {
        "lists": found, "can_upload": actions.may_upload(user), "can_view": user.can(compare.VIEW),
        "groups": compare.GROUPS,
    })  # fmt: skip


def summary_text(summary: dict) -> str:
    """导入时比对结果 in a line: 两边都有25户（有差异11户）；仅民政有18户（在台账14户、不在台账4户）；仅本平台监测148户."""
    households = summary.get("households")
    if not households:
        return ""
    aid = households.get(compare.AID_REGISTERED, 0) + households.get(compare.AID_UNREGISTERED, 0)
    return (
        f"两边都有{households.get(compare.BOTH, 0)}户（有差异{summary.get('differing', 0)}户）；"
        f"仅民政有{aid}户（在台账{households.get(compare.AID_REGISTERED, 0)}户、"
        f"不在台账{households.get(compare.AID_UNREGISTERED, 0)}户）；仅本平台监测{households.get(compare.FANGPIN, 0)}户"
    )


@capability_required(actions.EXPORT)
def export(request: HttpRequest) -> HttpResponse:
    """One group (or all) of the page's list as .xlsx, scoped and filtered like the page."""
    user = request.user
    aid_list = compare.current_list(user)
    if aid_list is None or user.region is None:
        return redirect("socialaid:index")
    filters = compare.Filters.from_params(request.GET)
    rows = compare.chosen(compare.result(aid_list, user), filters, user)
    data, name = export_group(
        user=user, aid_list=aid_list, rows=rows, group=filters.group, level=filters.level,
        preparer=request.GET.get("preparer", "").strip()[:32] or user.display_name,
        reviewer=request.GET.get("reviewer", "").strip()[:32],
    )  # fmt: skip
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
