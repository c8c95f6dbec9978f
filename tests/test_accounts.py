from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Role
from fangpin.audit.models import Action, AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(village_cadre):
    assert village_cadre.password.startswith("argon2")


@pytest.mark.parametrize("password", ["short1A!", "alllowercaseletters", "1234567890123", "abcdefgh12"])
def test_weak_passwords_are_refused(regions, password):
    with pytest.raises(ValidationError):
        create_user(username="weak", password=password, role=Role.COUNTY_STAFF, region_code="140826000000")


def test_roles_must_sit_at_their_level_of_the_region_tree(regions):
    with pytest.raises(ValidationError, match="不能设在"):
        create_user(username="v", password=PASSWORD, role=Role.VILLAGE, region_code="140826000000")
    with pytest.raises(ValidationError, match="必须指定所属区划"):
        create_user(username="t", password=PASSWORD, role=Role.TOWNSHIP)


def test_login_works_and_is_audited(client, village_cadre):
    response = client.post(reverse("login"), {"username": "village_a1", "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=Action.LOGIN, object_repr="village_a1").exists()


def test_repeated_failed_logins_lock_the_account_even_with_the_right_password(client, village_cadre):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "village_a1", "password": "wrong-password"})
        assert response.status_code in (200, 429)
    response = client.post(reverse("login"), {"username": "village_a1", "password": PASSWORD})
    assert response.status_code == 429
    assert "已临时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=Action.LOCKOUT).exists()
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED).count() >= settings.AXES_FAILURE_LIMIT


def test_sessions_expire_when_idle():
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE <= 3600


def test_pages_carry_csp_and_security_headers(client):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_forms_are_csrf_protected(village_cadre):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "village_a1", "password": PASSWORD})
    assert response.status_code == 403


def test_the_separated_administrators_do_not_see_household_data(client, register, system_admin):
    client.force_login(system_admin)
    assert client.get(reverse("registry:household_list")).status_code == 403
    assert client.get("/api/households").status_code == 403
    assert "默认不查看农户数据" in client.get(reverse("home")).content.decode()


def test_the_security_administrator_unlocks_a_locked_account(client, village_cadre, regions):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "village_a1", "password": "wrong-password"})
    security = create_user(username="security", password=PASSWORD, role=Role.SECURITY_ADMIN)
    client.force_login(security)
    assert "已锁定" in client.get(reverse("lockouts")).content.decode()
    client.post(reverse("unlock"), {"username": "village_a1"})
    assert AuditEntry.objects.filter(action=Action.UNLOCK, object_repr="village_a1").exists()
    client.logout()
    response = client.post(reverse("login"), {"username": "village_a1", "password": PASSWORD})
    assert response.status_code == 302


def test_only_the_security_administrator_manages_lockouts(client, county_admin):
    client.force_login(county_admin)
    assert client.get(reverse("lockouts")).status_code == 403
    assert client.post(reverse("unlock"), {"username": "x"}).status_code == 403
