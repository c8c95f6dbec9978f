from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from fangpin.jobs.models import Job
from fangpin.monitoring.actions import todo as monitoring_todo
from fangpin.monitoring.assistance import overdue_visits
from fangpin.rectification.models import Item, Status
from fangpin.registry.income import policy_for
from fangpin.registry.models import Household, IncomeRecord, Member
from fangpin.rules.models import WARNING_FAMILIES, Finding

from . import summary


def capability_required(capability: str) -> Callable:
    """Login, then the role's capability; a refusal is a 403 page in Chinese."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.can(capability):
                return forbidden(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def submit(
    request: HttpRequest, form: Any, run: Callable[[], HttpResponse], field: str | None = None
) -> HttpResponse | None:
    """Run a business action for a valid form: its response on success, the 403 page on a refusal, or
    None after putting the broken rule on the form (on `field`, else the whole form) to show it again."""
    try:
        return run()
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        form.add_error(field, exc)
        return None


def perform(request: HttpRequest, run: Callable[[], object], back: str) -> HttpResponse:
    """Run a business action for a form post: a refusal is the 403 page, a broken rule a message on
    the page the user came from."""
    try:
        run()
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect(back)


def scope_counts(user: Any) -> dict[str, Any]:
    """The numbers that matter on the home page, all inside the user's scope."""
    households = Household.objects.for_user(user)
    policy = policy_for(9999)
    line = policy.monitoring_line if policy else Decimal("0")
    counts = households.aggregate(
        households=Count("id"),
        poverty_alleviated=Count("id", filter=Q(household_type="脱贫户")),
        monitored=Count("id", filter=~Q(monitoring_category="")),
        unstable=Count("id", filter=Q(monitoring_category="脱贫不稳定户")),
        marginal=Count("id", filter=Q(monitoring_category="边缘易致贫户")),
        sudden=Count("id", filter=Q(monitoring_category="突发严重困难户")),
        risk_open=Count("id", filter=~Q(monitoring_category="") & ~Q(risk_eliminated=True)),
        below_line_unmonitored=Count("id", filter=Q(monitoring_category="", per_capita_income__lt=line)),
        dangerous_house=Count("id", filter=Q(dangerous_house=True)),
        unsafe_water=Count("id", filter=Q(safe_drinking_water=False)),
    )
    counts["people"] = Member.objects.for_user(user).count()
    findings = Finding.objects.for_user(user).filter(status=Finding.Status.OPEN)
    counts["open_warnings"] = findings.filter(family__in=WARNING_FAMILIES).count()
    counts["open_doubts"] = findings.filter(family="数据质量").count()
    counts["income_discrepancies"] = (
        IncomeRecord.objects.for_user(user).filter(discrepancy__isnull=False).count()
    )
    counts["monitoring_line"] = line
    counts["line_year"] = policy.year if policy else None
    counts["line_confirmed"] = policy.line_confirmed if policy else False
    return counts


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {"recent_jobs": Job.objects.for_user(user)[:5]}
    if user.can("view_rectification"):
        context["overdue_items"] = (
            Item.objects.for_user(user).exclude(status=Status.CLOSED).filter(deadline__lt=timezone.localdate())
            .select_related("batch").order_by("deadline")[:10]
        )  # fmt: skip
    if user.can("view_register"):
        version = summary.data_version()
        scope = summary.scope_key(user)
        context["counts"] = summary.cached("scope_counts", scope, lambda: scope_counts(user), version=version)
        context["monitoring"] = summary.cached(
            "todo", str(user.pk), lambda: monitoring_todo(user), version=version
        )
        if user.role == "cadre":  # a paired cadre's own households first
            paired = Household.objects.filter(pairings__cadre=user, pairings__until__isnull=True)
            overdue = summary.cached(
                "overdue", str(user.pk), lambda: overdue_visits(paired)[:20], version=version
            )
        else:
            households = Household.objects.for_user(user)
            overdue = summary.cached(
                "overdue", scope, lambda: overdue_visits(households)[:20], version=version
            )
        context["overdue_visits"] = overdue
    return render(request, "web/home.html", context)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"title": "未找到", "message": "页面不存在，或不在您的管辖范围内。"},
        status=404,
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "当前角色无权进行此操作。"
    return render(request, "web/error.html", {"title": "无权访问", "message": message}, status=403)
