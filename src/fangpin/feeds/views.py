from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from fangpin.jobs.actions import enqueue
from fangpin.web.views import capability_required, submit

from . import actions
from .forms import MappingForm, UploadForm
from .models import Roster


@capability_required("upload_rosters")
def roster_list(request: HttpRequest) -> HttpResponse:
    rosters = Roster.objects.for_user(request.user).select_related("uploaded_by")[:200]
    return render(request, "feeds/roster_list.html", {"rosters": rosters})


@capability_required("upload_rosters")
def upload(request: HttpRequest) -> HttpResponse:
    kinds = actions.kinds_for(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        work_dir = settings.MEDIA_ROOT / "rosters"
        work_dir.mkdir(parents=True, exist_ok=True)

        def run() -> HttpResponse:  # the file is saved here; its header is read by the worker
            job = actions.upload(user=request.user, work_dir=work_dir, **form.cleaned_data)
            enqueue(job)
            return redirect("jobs:detail", pk=job.pk)

        if response := submit(request, form, run, field="file"):
            return response
    return render(request, "feeds/upload.html", {"form": form})


@capability_required("upload_rosters")
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    roster = get_object_or_404(Roster.objects.for_user(request.user), pk=pk, status=Roster.Status.UPLOADED)
    if not roster.headers:  # the worker has not read the header yet
        return redirect("feeds:detail", pk=roster.pk)
    form = MappingForm(request.POST or None, kind=roster.roster_kind, headers=roster.headers,
                       initial_mapping=roster.mapping)  # fmt: skip
    if request.method == "POST" and form.is_valid():
        job = actions.confirm_mapping(user=request.user, roster=roster, mapping=form.cleaned_data)
        enqueue(job)
        return redirect("jobs:detail", pk=job.pk)
    return render(request, "feeds/mapping.html", {"roster": roster, "form": form})


@capability_required("upload_rosters")
def roster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    roster = get_object_or_404(Roster.objects.for_user(request.user), pk=pk)
    return render(request, "feeds/roster_detail.html", {"roster": roster})
