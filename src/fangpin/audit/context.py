"""Who is acting, for the audit log: set by the web middleware, the CLI and the job runner."""

from __future__ import annotations

import contextlib
import getpass
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    request_id: str
    source: str  # web / api / cli / job / system
    ip: str = ""


SYSTEM = Actor(None, "system", "", "system")
_current: ContextVar[Actor] = ContextVar("fangpin_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


@contextlib.contextmanager
def acting_as(user: object | None, *, source: str, request_id: str = "", ip: str = "") -> Iterator[Actor]:
    username = getattr(user, "username", "")
    if not username and source in {"cli", "job"}:
        # a command run on the server without --user is still somebody's: name the OS account
        username = f"os:{getpass.getuser()}"
    actor = Actor(
        user_id=getattr(user, "pk", None),
        username=username or "system",
        request_id=request_id or uuid.uuid4().hex[:16],
        source=source,
        ip=ip,
    )
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
