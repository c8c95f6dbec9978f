from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .actions import delete_file, retention_days
from .models import SensitiveFile


@login_required
def file_list(request: HttpRequest) -> HttpResponse:
    files = SensitiveFile.objects.for_user(request.user).live().select_related("owner", "job")
    context = {"files": files, "days": retention_days(), "all_owners": request.user.can("manage_security")}
    return render(request, "retention/file_list.html", context)


@require_POST
@login_required
def file_delete(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(SensitiveFile.objects.for_user(request.user).live(), pk=pk)
    delete_file(user=request.user, item=item)
    messages.success(request, f"已删除「{item.name}」")
    return redirect("retention:files")
