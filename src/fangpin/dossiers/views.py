from __future__ import annotations

from urllib.parse import quote

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from fangpin.regions.models import Level, Region
from fangpin.registry.models import Household
from fangpin.web.views import capability_required, forbidden

from . import actions, content


def _household(request: HttpRequest, pk: int) -> Household:
    return get_object_or_404(Household.objects.for_user(request.user).select_related("region"), pk=pk)


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


@require_GET
@capability_required(actions.PRINT_CAPABILITY)
def household_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """打印一户一档: the household's dossier as an A4 PDF (masked unless full numbers are asked and allowed)."""
    household = _household(request, pk)
    try:
        body = actions.household_pdf(
            user=request.user, household=household, full=request.GET.get("full") == "1"
        )
    except PermissionDenied as exc:
        return forbidden(request, exc)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = _attachment(
        f"{actions.safe_name(household.head_name + '户一户一档')}.pdf"
    )
    return response


@require_GET
@capability_required(actions.PRINT_CAPABILITY)
def household_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """下载档案包: the dossier PDF with the household's photos, scans and rectification evidence."""
    household = _household(request, pk)
    try:
        file, name = actions.household_archive(
            user=request.user, household=household, full=request.GET.get("full") == "1"
        )
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return FileResponse(file, as_attachment=True, filename=name, content_type="application/zip")


@capability_required(actions.BATCH_CAPABILITY)
def index(request: HttpRequest) -> HttpResponse:
    """批量打印: the user's village (or the villages and townships of their scope), one button each."""
    regions = actions.batch_regions(request.user)
    own = request.user.region
    return render(
        request,
        "dossiers/index.html",
        {
            "own": own if own is not None and own.level >= Level.TOWNSHIP else None,
            "townships": [r for r in regions if r.level == Level.TOWNSHIP],
            "villages": [r for r in regions if r.level == Level.VILLAGE],
            "can_full": content.may_print_full(request.user),
        },
    )


@require_POST
@capability_required(actions.BATCH_CAPABILITY)
def batch(request: HttpRequest, region_code: str) -> HttpResponse:
    region = get_object_or_404(Region, code=region_code)
    try:
        job = actions.queue_batch(user=request.user, region=region)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return redirect("jobs:detail", pk=job.pk)
