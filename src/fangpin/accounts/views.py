from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fangpin.regions.models import Level, Region, code_range
from fangpin.web.paging import by_key
from fangpin.web.views import capability_required, forbidden, perform, submit

from . import actions
from .forms import PasswordForm, StatusForm, UserForm, chosen_region, department_choices, picker
from .lockout import current_locks
from .models import User
from .roles import SEPARATED_ADMINS, Role


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput)
    error_messages = {
        "invalid_login": "用户名或密码错误。连续多次错误后账号将被临时锁定。",
        "inactive": "该账号已停用。",
    }


class FangpinLoginView(LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True


@capability_required("manage_security")
def lockouts(request: HttpRequest) -> HttpResponse:
    """The security administrator's page: accounts with failed logins, and locked addresses."""
    return render(request, "accounts/lockouts.html", {
        "locks": current_locks(),
        "limit": settings.AXES_FAILURE_LIMIT,
        "ip_limit": settings.FANGPIN_LOGIN_IP_FAILURE_LIMIT,
        "ip_names": settings.FANGPIN_LOGIN_IP_MIN_USERNAMES,
    })  # fmt: skip


@require_POST
@capability_required("manage_security")
def unlock(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "").strip()
    ip_address = request.POST.get("ip_address", "").strip()
    if username:
        actions.unlock(username=username)
        messages.success(request, f"已解除账号 {username} 的登录锁定")
    elif ip_address:
        actions.unlock(ip_address=ip_address)
        messages.success(request, f"已解除地址 {ip_address} 的登录锁定")
    return redirect("lockouts")


# --- the system administrator's user pages (rules of 三员分立: accounts/actions.py) ---------------

STATUSES = {"active": "启用", "disabled": "停用", "must_change": "待修改密码"}


def _filter_regions() -> list[Region]:
    """What the list can be filtered by: the county level and the townships (a village's users are
    few enough to read in its township's list)."""
    return list(Region.objects.filter(level__in=[Level.COUNTY, Level.TOWNSHIP]).order_by("code"))


@capability_required("manage_users")
def user_list(request: HttpRequest) -> HttpResponse:
    """Every account, by user name, paged by key, filtered by role, region, status or a name."""
    users = User.objects.select_related("region")
    role = request.GET.get("role", "")
    region = request.GET.get("region", "")
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()
    if role in Role.values:
        users = users.filter(role=role)
    chosen = Region.objects.filter(code=region).first() if region else None
    if chosen is not None:
        users = users.filter(region__code__range=code_range(chosen.prefix))
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "disabled":
        users = users.filter(is_active=False)
    elif status == "must_change":
        users = users.filter(must_change_password=True)
    if q:
        users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    page = by_key(users, request, key=("username", "id"))
    return render(request, "accounts/user_list.html", {
        "page": page, "roles": Role.choices, "role": role, "regions": _filter_regions(), "region": region,
        "statuses": STATUSES, "status": status, "q": q, "separated": {r.value for r in SEPARATED_ADMINS},
    })  # fmt: skip


def _placement_context(role: str, values: list[str], department: str) -> dict:
    return {"levels": picker(role, values), "is_department": role == Role.DEPARTMENT,
            "departments": department_choices(), "department": department}  # fmt: skip


@capability_required("manage_users")
@require_GET
def region_picker(request: HttpRequest) -> HttpResponse:
    """The placement part of the user form again, for the role and the levels chosen so far (HTMX)."""
    role = request.GET.get("role", "")
    context = _placement_context(role, request.GET.getlist("region"), request.GET.get("department", ""))
    return render(request, "accounts/_placement.html", context)


def _issued(request: HttpRequest, user: User, password: str, created: bool) -> HttpResponse:
    """The one-time password, shown once: never in a message (a cookie); the views are never_cache."""
    context = {"target": user, "password": password, "created": created}
    return render(request, "accounts/issued.html", context)


def _form_page(request: HttpRequest, form: UserForm, target: User | None, role: str, values: list[str],
               department: str) -> HttpResponse:  # fmt: skip
    context = {"form": form, "target": target, **_placement_context(role, values, department)}
    if target is not None:
        context["status_form"] = StatusForm()
    return render(request, "accounts/user_form.html", context)


@never_cache
@capability_required("manage_users")
def user_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, UserForm(), None, "", [], "")
    form = UserForm(request.POST)
    values, department = request.POST.getlist("region"), request.POST.get("department", "")
    if form.is_valid():

        def run() -> HttpResponse:
            data = form.cleaned_data
            user, password = actions.add_user(
                actor=request.user, username=data["username"], role=data["role"], region_code=chosen_region(values),
                full_name=data["full_name"], department=department, unit=data["unit"],
            )  # fmt: skip
            return _issued(request, user, password, created=True)

        if response := submit(request, form, run):
            return response
    return _form_page(request, form, None, request.POST.get("role", ""), values, department)


@capability_required("manage_users")
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User.objects.select_related("region"), pk=user_id)
    if request.method != "POST":
        initial = {"full_name": target.full_name, "role": target.role, "unit": target.unit}
        values = [target.region.code] if target.region_id else []
        return _form_page(request, UserForm(initial=initial, editing=True), target, target.role, values,
                          target.department)  # fmt: skip
    form = UserForm(request.POST, editing=True)
    values, department = request.POST.getlist("region"), request.POST.get("department", "")
    if form.is_valid():

        def run() -> HttpResponse:
            data = form.cleaned_data
            changed = actions.change_user(
                actor=request.user, user=target, role=data["role"], region_code=chosen_region(values),
                full_name=data["full_name"], department=department, unit=data["unit"],
            )  # fmt: skip
            said = "、".join(changed) if changed else "没有改动"
            messages.success(request, f"已保存用户 {target.username}（{said}）")
            return redirect("accounts:users")

        if response := submit(request, form, run):
            return response
    return _form_page(request, form, target, request.POST.get("role", ""), values, department)


@capability_required("manage_users")
@require_POST
def user_status(request: HttpRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    active = request.POST.get("active") == "1"
    form = StatusForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def run() -> None:
        actions.set_active(actor=request.user, user=target, active=active, reason=reason)
        messages.success(request, f"已{'启用' if active else '停用'}账号 {target.username}")

    return perform(request, run, reverse("accounts:user_edit", args=[target.pk]))


@never_cache
@capability_required("manage_users")
@require_POST
def user_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    try:
        password = actions.reset_password(actor=request.user, user=target)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return _issued(request, target, password, created=False)


@never_cache
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Every user's own password: the current one first, then the policy (in Chinese)."""
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def run() -> HttpResponse:
            data = form.cleaned_data
            actions.change_own_password(user=request.user, current=data["current"], new=data["new"])
            update_session_auth_hash(request, request.user)  # this session stays logged in
            messages.success(request, "密码已修改")
            return redirect("home")

        if response := submit(request, form, run):
            return response
    return render(
        request, "accounts/password.html", {"form": form, "rules": password_validators_help_texts()}
    )
