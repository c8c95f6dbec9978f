"""Personas and places shared by the tests: a county with two townships and three villages."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from fangpin.accounts.actions import create_user
from fangpin.accounts.models import User
from fangpin.accounts.roles import Department, Role
from fangpin.regions.actions import upsert_regions
from tests import builders

PASSWORD = "Test@2026pass"

# CI replays the same generated cases every run, so a red CI always means the change broke something;
# a developer's run explores new cases (and keeps any failure in .hypothesis/ to replay)
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test's database is rolled back; the per-process summary cache must not outlive it."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def regions(db):
    upsert_regions(builders.REGIONS)


def _user(username: str, role: Role, region: str = "", **extra: str) -> User:
    return create_user(username=username, password=PASSWORD, role=role, region_code=region, **extra)


@pytest.fixture
def county_admin(regions) -> User:
    return _user("county_admin", Role.COUNTY_ADMIN, builders.COUNTY)


@pytest.fixture
def county_staff(regions) -> User:
    return _user("county_staff", Role.COUNTY_STAFF, builders.COUNTY)


@pytest.fixture
def township_reviewer(regions) -> User:
    return _user("township_a", Role.TOWNSHIP, builders.TOWNSHIP_A)


@pytest.fixture
def village_cadre(regions) -> User:
    return _user("village_a1", Role.VILLAGE, builders.VILLAGE_A1)


@pytest.fixture
def other_village_cadre(regions) -> User:
    return _user("village_b1", Role.VILLAGE, builders.VILLAGE_B1)


@pytest.fixture
def supervisor(regions) -> User:
    return _user("supervisor", Role.SUPERVISOR, builders.COUNTY)


@pytest.fixture
def department_officer(regions) -> User:
    return _user("dept_medical", Role.DEPARTMENT, department=Department.MEDICAL)


@pytest.fixture
def system_admin(regions) -> User:
    return _user("sys_admin", Role.SYSTEM_ADMIN)


@pytest.fixture
def register(regions, tmp_path):
    """The standard three households, imported through the real import path."""
    from fangpin.registry.importer import import_register

    result = import_register(builders.write_xlsx(tmp_path / "register.xlsx", builders.standard_rows()))
    assert result.ok, [str(p) for p in result.problems]
    return result
