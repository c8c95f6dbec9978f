"""Lockout per account, per address only for many accounts; unlock clears exactly what locked."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Role
from fangpin.audit.models import Action, AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

OFFICE = "10.20.30.40"  # one township office behind one NAT address
ELSEWHERE = "10.99.0.7"


def _login(client: Client, username: str, password: str, ip: str = OFFICE):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def _logs_in(username: str, ip: str = OFFICE) -> bool:
    client = Client()
    response = _login(client, username, PASSWORD, ip)
    return response.status_code == 302 and "_auth_user_id" in client.session


def _security_client() -> Client:
    security = create_user(username="security", password=PASSWORD, role=Role.SECURITY_ADMIN)
    client = Client()
    client.force_login(security)
    return client


def test_typos_on_one_account_lock_that_account_only(village_cadre, other_village_cadre, township_reviewer):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "village_a1", "wrong-password")
    locked = _login(client, "village_a1", PASSWORD)
    assert locked.status_code == 429 and "已临时锁定" in locked.content.decode()
    assert not _logs_in("village_a1", ELSEWHERE)  # the account is locked wherever the guesses come from
    # colleagues behind the same address still log in
    assert _logs_in("village_b1")
    assert _logs_in("township_a")


def test_many_accounts_tried_from_one_address_lock_the_address(village_cadre, other_village_cadre):
    names = settings.FANGPIN_LOGIN_IP_MIN_USERNAMES
    per_name = -(-settings.FANGPIN_LOGIN_IP_FAILURE_LIMIT // names)  # ceil
    assert per_name < settings.AXES_FAILURE_LIMIT, "the test needs each account to stay below its own limit"
    attacker = Client()
    for i in range(names):
        for _ in range(per_name):
            _login(attacker, f"guess{i}", "wrong-password")
    # no single account reached its limit, yet the address is locked for everyone behind it...
    assert _login(Client(), "village_a1", PASSWORD).status_code == 429
    assert not _logs_in("village_b1")
    # ...and only that address
    assert _logs_in("village_a1", ELSEWHERE)


def test_a_few_accounts_mistyped_from_one_address_do_not_lock_it(village_cadre, other_village_cadre):
    client = Client()
    for name in ("village_a1", "village_b1"):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            _login(client, name, "wrong-password")
    assert _logs_in("village_a1") and _logs_in("village_b1")


def test_unlocking_an_account_frees_that_account_and_is_audited(village_cadre, other_village_cadre):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), "village_a1", "wrong-password")
        _login(Client(), "village_b1", "wrong-password", ELSEWHERE)
    security = _security_client()
    page = security.get(reverse("lockouts")).content.decode()
    assert "village_a1" in page and "village_b1" in page and "已锁定" in page
    security.post(reverse("unlock"), {"username": "village_a1"})
    entry = AuditEntry.objects.get(action=Action.UNLOCK, object_repr="village_a1")
    assert "解除" in entry.detail
    assert _logs_in("village_a1")
    assert not _logs_in("village_b1", ELSEWHERE)  # exactly what was unlocked, nothing more


def test_unlocking_an_address_frees_that_address(village_cadre):
    names = settings.FANGPIN_LOGIN_IP_MIN_USERNAMES
    per_name = -(-settings.FANGPIN_LOGIN_IP_FAILURE_LIMIT // names)
    for address in (OFFICE, ELSEWHERE):
        for i in range(names):
            for _ in range(per_name):
                _login(Client(), f"guess{i}", "wrong-password", address)
    assert not _logs_in("village_a1", OFFICE) and not _logs_in("village_a1", ELSEWHERE)
    security = _security_client()
    page = security.get(reverse("lockouts")).content.decode()
    assert OFFICE in page and "地址" in page
    assert security.post(reverse("unlock"), {"ip_address": OFFICE}).status_code == 302
    assert AuditEntry.objects.filter(action=Action.UNLOCK, object_repr=OFFICE).exists()
    assert _logs_in("village_a1", OFFICE)
    assert not _logs_in("village_a1", ELSEWHERE)


def test_an_address_lock_is_audited(village_cadre):
    names = settings.FANGPIN_LOGIN_IP_MIN_USERNAMES
    per_name = -(-settings.FANGPIN_LOGIN_IP_FAILURE_LIMIT // names)
    for i in range(names):
        for _ in range(per_name):
            _login(Client(), f"guess{i}", "wrong-password")
    assert AuditEntry.objects.filter(action=Action.LOCKOUT).exists()
