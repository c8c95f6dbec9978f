from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import acting_as
from .keys import AuditKeyError


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


class AuditContextMiddleware:
    """Every request runs as its user, with a request id that the audit entries carry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex[:16]
        source = "api" if request.path.startswith("/api/") else "web"
        user = request.user if request.user.is_authenticated else None
        with acting_as(user, source=source, request_id=request.request_id, ip=client_ip(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A lost audit key stops every write with the same plain message the command line gives."""
        if isinstance(exception, AuditKeyError):
            text = "平台暂停使用：审计密钥文件缺失或损坏，请联系系统管理员从密钥备份中恢复。"
            return HttpResponse(text, status=503, content_type="text/plain; charset=utf-8")
        return None
