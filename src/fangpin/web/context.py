from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from fangpin.accounts.roles import CAPABILITIES

PLATFORM_NAME = "防止返贫致贫动态监测和帮扶平台"


def platform(request: HttpRequest) -> dict[str, Any]:
    """`caps.<capability>` lets templates show only what the role may use."""
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    caps = {name: authenticated and user.can(name) for name in CAPABILITIES}
    return {"platform_name": PLATFORM_NAME, "caps": caps}
