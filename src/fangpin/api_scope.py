"""The API's one guard, shared by the register's endpoints (`fangpin/api.py`) and the apps' routers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError


def register_reader(request: HttpRequest) -> Any:
    """The user, if their role may read the register; every query then goes through `for_user`."""
    if not request.user.can("view_register"):
        raise HttpError(403, "当前角色无权查看台账")
    return request.user
