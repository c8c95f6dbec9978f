"""Login lockout: per account, and per address only when one address tries many accounts.

django-axes locks each lockout parameter on its own failure count, so ["username", "ip_address"]
locked a whole township office (one NAT address) after five typos by one person. Axes keeps the
per-account lock (AXES_LOCKOUT_PARAMETERS = ["username"], AXES_FAILURE_LIMIT); this handler adds the
address lock axes has no option for: at least FANGPIN_LOGIN_IP_FAILURE_LIMIT failures within the
cool-off time spread over at least FANGPIN_LOGIN_IP_MIN_USERNAMES different account names (someone
guessing across accounts, not a colleague mistyping).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone


def _recent(request: Any = None) -> Any:
    attempts = AccessAttempt.objects.all()
    if settings.AXES_COOLOFF_TIME is None:
        return attempts
    if request is None or getattr(request, "axes_attempt_time", None) is None:
        threshold = timezone.now() - dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    else:
        threshold = get_cool_off_threshold(request)
    return attempts.filter(attempt_time__gte=threshold)


def address_locked(ip_address: str | None, request: Any = None) -> bool:
    if not ip_address:
        return False
    totals = (
        _recent(request)
        .filter(ip_address=ip_address)
        .aggregate(failures=Sum("failures_since_start"), names=Count("username", distinct=True))
    )
    return (totals["failures"] or 0) >= settings.FANGPIN_LOGIN_IP_FAILURE_LIMIT and (
        totals["names"] or 0
    ) >= settings.FANGPIN_LOGIN_IP_MIN_USERNAMES


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler plus the many-accounts-from-one-address lock."""

    def is_locked(self, request: Any, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return bool(settings.AXES_LOCK_OUT_AT_FAILURE) and address_locked(
            getattr(request, "axes_ip_address", None), request
        )

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        # axes deletes expired attempts and this user's at every login: a database write, which on
        # SQLite waits behind an import's transaction. Only when there are attempts to delete.
        if AccessAttempt.objects.exists():
            super().user_logged_in(sender, request, user, **kwargs)

    def user_login_failed(self, sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # the failure that crosses the address threshold already answers with the lockout page
        if request is not None and not getattr(request, "axes_locked_out", False):
            ip_address = getattr(request, "axes_ip_address", None)
            if address_locked(ip_address, request):
                request.axes_locked_out = True
                request.axes_credentials = credentials
                user_locked_out.send("axes", request=request, username=get_client_username(request, credentials),
                                     ip_address=ip_address)  # fmt: skip


@dataclass(frozen=True)
class Lock:
    """One row of the security administrator's page: a locked (or failing) account or address."""

    kind: str  # "username" or "ip_address"
    value: str
    failures: int
    names: int
    last: Any
    locked: bool


def current_locks() -> list[Lock]:
    """Accounts with recent failures (locked or not) and the addresses that are locked."""
    recent = _recent()
    rows: list[Lock] = []
    for row in (recent.exclude(username=None).values("username")
                .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
                .order_by("-last")[: settings.FANGPIN_LOCKOUT_PAGE_ROWS]):  # fmt: skip
        rows.append(Lock("username", row["username"], row["failures"], 1, row["last"],
                         row["failures"] >= settings.AXES_FAILURE_LIMIT))  # fmt: skip
    for row in (recent.exclude(ip_address=None).values("ip_address")
                .annotate(failures=Sum("failures_since_start"), names=Count("username", distinct=True),
                          last=Max("attempt_time"))
                .filter(failures__gte=settings.FANGPIN_LOGIN_IP_FAILURE_LIMIT,
                        names__gte=settings.FANGPIN_LOGIN_IP_MIN_USERNAMES)
                .order_by("-last")[: settings.FANGPIN_LOCKOUT_PAGE_ROWS]):  # fmt: skip
        rows.append(Lock("ip_address", row["ip_address"], row["failures"], row["names"], row["last"], True))
    return rows
