"""After a one-time password (a new account, a reset), every page leads to the password change."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

MESSAGE = "您正在使用系统管理员发放的一次性密码，请先修改密码再继续使用。"


class PasswordChangeRequiredMiddleware:
    """Lets through only the change page, logging out and static files while the flag is set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse("accounts:password"), reverse("logout"), reverse("login")}
            static = "/" + settings.STATIC_URL.lstrip("/")
            if request.path not in allowed and not request.path.startswith(static):
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": MESSAGE}, status=403)
                response = redirect("accounts:password")
                if request.headers.get("HX-Request"):
                    response["HX-Redirect"] = response["Location"]
                return response
        return self.get_response(request)
