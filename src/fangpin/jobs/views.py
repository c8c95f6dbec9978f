from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .actions import recover_interrupted
from .models import Job


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    recover_interrupted()
    return render(request, "jobs/job_list.html", {"jobs": Job.objects.for_user(request.user)[:100]})


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    recover_interrupted()
    job = get_object_or_404(Job.objects.for_user(request.user), pk=pk)
    return render(request, "jobs/job_detail.html", {"job": job})


@login_required
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTMX fragment the job page polls until the job is finished."""
    recover_interrupted()
    job = get_object_or_404(Job.objects.for_user(request.user), pk=pk)
    return render(request, "jobs/_progress.html", {"job": job})


@login_required
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = get_object_or_404(Job.objects.for_user(request.user), pk=pk)
    if not job.result_path or not Path(job.result_path).exists():
        raise Http404
    return FileResponse(open(job.result_path, "rb"), as_attachment=True, filename=job.result_name)
