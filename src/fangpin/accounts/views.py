from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fangpin.web.views import capability_required

from . import actions
from .lockout import current_locks


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
