"""The audit administrator's pages: the log, filtered, and a check of the hash chain."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from fangpin.web.views import capability_required

from .actions import verify
from .anchors import anchor_files, check_anchor_file
from .models import Action, AuditEntry

PAGE_SIZE = 100


@capability_required("view_audit")
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.order_by("-seq")
    action = request.GET.get("action", "")
    username = request.GET.get("username", "").strip()
    if action in Action.values:
        entries = entries.filter(action=action)
    if username:
        entries = entries.filter(username=username)
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(seq__lt=int(before))
    page = list(entries[: PAGE_SIZE + 1])
    params = request.GET.copy()
    params.pop("before", None)
    context = {
        "entries": page[:PAGE_SIZE],
        "next_before": page[PAGE_SIZE - 1].seq if len(page) > PAGE_SIZE else None,
        "actions": Action.choices,
        "action": action,
        "username": username,
        "query_string": params.urlencode(),
    }
    return render(request, "audit/audit_log.html", context)


@require_POST
@capability_required("view_audit")
def verify_chain(request: HttpRequest) -> HttpResponse:
    return render(request, "audit/_verify.html", {"result": verify()})


@capability_required("view_audit")
def anchors(request: HttpRequest) -> HttpResponse:
    """The signed anchors, newest first, each checked against this platform's key, to download and keep
    somewhere the database's administrators cannot reach."""
    rows = []
    for path in reversed(anchor_files()):
        anchor, problem = check_anchor_file(path)
        rows.append({"name": path.name, "anchor": anchor, "problem": problem})
    return render(request, "audit/anchors.html", {"rows": rows})


@capability_required("view_audit")
def anchor_download(request: HttpRequest, name: str) -> FileResponse:
    # only a name from the listing: never a path the request made up
    path = next((p for p in anchor_files() if p.name == name), None)
    if path is None:
        raise Http404("没有这个锚点文件")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type="application/json"
    )
