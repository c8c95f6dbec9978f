"""The API against its own OpenAPI document, for every endpoint and every role (schemathesis, in process).

Schemathesis generates requests from /api/openapi.json (valid ones and, in its negative mode, requests
the schema forbids) and sends them to the WSGI application with a logged-in user's session cookie and
CSRF token. Every response must be no server error, and a 200 must match its documented schema and
hold nothing outside the user's region; a role without access gets 403 or 404. Path ids are drawn
from the real households and members as often as at random, so the scope is tried on real objects.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from fangpin.registry.models import Household, Member

pytestmark = pytest.mark.django_db

ROLES = ["county_admin", "county_staff", "township_reviewer", "village_cadre", "supervisor",
         "department_officer", "system_admin"]  # fmt: skip
CSRF_SECRET = "F" * 32  # an unmasked secret is a valid token: cookie and header carry the same value
# ids past what a database column holds: /api/members?household=2**63 was a 500 (SQLite OverflowError)
EDGE_IDS = [0, -1, 2**31, 2**63, 10**30]
APPLICATION = WSGIHandler()


@pytest.fixture
def api_schema(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the WSGI transport's host
    from fangpin.api import api

    schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/"))
    schema.app = APPLICATION
    # as Django's test client does: a request must not close the test's connection (and its transaction)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def session_of(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_SECRET}


def in_scope(user, payload, path: str) -> None:
    """Every region code a 200 carries lies in the user's region."""
    items = payload if isinstance(payload, list) else payload.get("items", [payload])
    for item in items:
        if isinstance(item, dict) and "region_code" in item:
            assert user.covers(item["region_code"]), (path, item["region_code"])
    if "/households/" in path and isinstance(payload, dict) and "members" in payload:
        household = Household.objects.get(pk=payload["id"])
        assert Household.objects.for_user(user).filter(pk=household.pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_every_role_within_its_schema_and_its_scope(
    request, register, api_schema, role
):
    user = request.getfixturevalue(role)
    cookies = session_of(user)
    households = list(Household.objects.values_list("pk", flat=True))
    members = list(Member.objects.values_list("pk", flat=True))
    real = {"household_id": households, "member_id": members, "household": households}
    readers = user.can("view_register")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
        )

        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=cases, data=st.data())
        def call(case, data):
            for where in (case.path_parameters, case.query):
                for name in [n for n in where or {} if n in real]:
                    choice = data.draw(st.sampled_from(["generated", "real", "edge"]), label=name)
                    if choice == "real":
                        where[name] = data.draw(st.sampled_from(real[name]), label=f"real {name}")
                    elif choice == "edge":
                        where[name] = data.draw(st.sampled_from(EDGE_IDS), label=f"edge {name}")
            response = case.call(cookies=cookies, headers={"X-CSRFToken": CSRF_SECRET})
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
            )
            if response.status_code == 200:
                assert readers, (role, case.path)
                in_scope(user, response.json(), case.formatted_path)
            else:
                assert response.status_code in (400, 403, 404, 405, 422), (
                    response.status_code,
                    case.formatted_path,
                )

        call()


@pytest.mark.parametrize("role", ROLES)
def test_each_household_and_member_is_given_to_exactly_the_roles_whose_region_holds_it(
    request, register, api_schema, role
):
    """Not left to chance: every real object through every id endpoint, for every role."""
    user = request.getfixturevalue(role)
    client = Client()
    client.force_login(user)
    readable = Household.objects.for_user(user) if user.can("view_register") else Household.objects.none()
    for household in Household.objects.all():
        allowed = readable.filter(pk=household.pk).exists()
        for path in (f"/api/households/{household.pk}", f"/api/members?household={household.pk}"):
            response = client.get(path)
            if not user.can("view_register"):
                assert response.status_code == 403, path
            elif path.startswith("/api/members"):
                assert response.status_code == 200 and (bool(response.json()) is allowed), path
            else:
                assert response.status_code == (200 if allowed else 404), path
        for member in household.members.all():
            response = client.get(f"/api/members/{member.pk}")
            assert response.status_code == (200 if allowed else 403 if not user.can("view_register") else 404)
