"""Counts and lists that many page views read and few events change: computed once per change.

A page view asks the audit log when the data last changed (three indexed reads); what was computed for
that change, that scope and that day is served from the cache. Every change to the register, findings,
cases, visits and rectification items writes its audit entry in the same transaction, so nothing served
here is older than the last committed change, whichever process made it (web, worker, command line).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.utils import timezone

from fangpin.audit.models import Action, AuditEntry

CHANGES = (Action.CREATE, Action.UPDATE, Action.DELETE)
T = TypeVar("T")


def data_version() -> str:
    """When the data last changed: the latest change entry's time (appends are serialised, so two
    commits never share it). Read audits and logins do not count: they change no figure."""
    latest = [
        AuditEntry.objects.filter(action=action).order_by("-at").values_list("at", flat=True).first()
        for action in CHANGES
    ]
    return max((at.isoformat() for at in latest if at is not None), default="empty")


def scope_key(user: Any) -> str:
    """What a scoped query depends on: the user's region and role (the paired cadre: the user)."""
    return f"{user.role}:{user.region_id or '-'}:{user.department}"


def cached(name: str, key: str, compute: Callable[[], T], *, version: str | None = None) -> T:
    """`compute()` once per data version, scope key and day (overdue counts move with the date)."""
    version = version or data_version()
    full_key = f"fangpin:{name}:{key}:{timezone.localdate().isoformat()}:{version}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, timeout=24 * 3600)
    return value
