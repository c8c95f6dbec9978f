"""Region scoping for every view, API endpoint and export: a village user sees only the village."""

from __future__ import annotations

import openpyxl
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from fangpin.jobs.actions import run_job
from fangpin.registry.actions import queue_export
from fangpin.registry.models import Household, Member
from fangpin.web.views import scope_counts

pytestmark = pytest.mark.django_db

# Every URL name of the register and the API that takes a household or member; the meta-test at the
# bottom fails when a new one is added without a scoping check here.
SCOPED_ENDPOINTS = {
    "registry:household_detail", "registry:reveal_household_phone", "registry:reveal_member",
    "api:get_household", "api:get_member", "api:list_members", "api:reveal_member", "registry:correct_id",
}  # fmt: skip
LIST_ENDPOINTS = {
    "registry:household_list", "api:list_households", "registry:export", "registry:import", "registry:id_corrections",
}  # fmt: skip
# A user's own jobs only (test_import_faults.py: nobody confirms another user's import).
JOB_ENDPOINTS = {"registry:confirm_import"}
# County-wide settings without household data; who may read and change them: test_income_settings.py.
SETTINGS_ENDPOINTS = {"registry:income_policies", "registry:income_policy_edit"}
# The monitoring work: every page, action and API endpoint, checked in the tests below and in
# test_monitoring.py (test_pages_of_the_loop_are_scoped).
MONITORING_ENDPOINTS = {
    "monitoring:list", "monitoring:inbox", "monitoring:monitored", "monitoring:new_clue", "monitoring:take_warning",
    "monitoring:clue", "monitoring:open", "monitoring:case", "monitoring:advance", "monitoring:return",
    "monitoring:close", "monitoring:add_objection", "monitoring:answer_objection", "monitoring:notice",
    "monitoring:assistance", "monitoring:pair", "monitoring:add_measure", "monitoring:end_measure", "monitoring:visit",
    "monitoring:eliminate", "monitoring:revert", "monitoring:timeline", "monitoring:attachment",
    "api:list_cases", "api:get_case", "api:list_clues", "api:household_plan", "api:overdue_visits",
}  # fmt: skip


def other_village_household() -> Household:
    return Household.objects.get(household_no="H003")  # 横水镇柳庄村


def own_household() -> Household:
    return Household.objects.get(household_no="H001")  # 古绛镇东关村


def test_a_village_user_gets_404_for_another_villages_household_everywhere(client, register, village_cadre):
    client.force_login(village_cadre)
    other = other_village_household()
    member = other.members.first()
    assert client.get(reverse("registry:household_detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("registry:reveal_household_phone", args=[other.pk])).status_code == 404
    assert client.post(reverse("registry:reveal_member", args=[member.pk, "id_number"])).status_code == 404
    assert client.get(f"/api/households/{other.pk}").status_code == 404
    assert client.get(f"/api/members/{member.pk}").status_code == 404
    assert client.get(f"/api/members?household={other.pk}").json() == []
    assert client.post(f"/api/members/{member.pk}/reveal/id_number").status_code == 404


def test_the_same_user_reaches_their_own_village(client, register, village_cadre):
    client.force_login(village_cadre)
    own = own_household()
    member = own.members.first()
    assert client.get(reverse("registry:household_detail", args=[own.pk])).status_code == 200
    assert client.get(f"/api/households/{own.pk}").status_code == 200
    assert client.get(f"/api/members/{member.pk}").status_code == 200
    assert len(client.get(f"/api/members?household={own.pk}").json()) == 2


def test_lists_and_counts_never_include_another_village(client, register, village_cadre):
    client.force_login(village_cadre)
    page = client.get(reverse("registry:household_list")).content.decode()
    assert "H001" in page and "H002" not in page and "H003" not in page
    api = client.get("/api/households").json()
    assert [h["household_no"] for h in api["items"]] == ["H001"] and api["total"] == 1
    searched = client.get("/api/households", {"q": "赵敏"}).json()
    assert searched["total"] == 0
    counts = scope_counts(village_cadre)
    assert counts["households"] == 1 and counts["people"] == 2 and counts["monitored"] == 0
    assert 'count-households">1<' in client.get(reverse("home")).content.decode()


def test_a_township_user_sees_its_villages_and_a_county_user_sees_all(
    register, township_reviewer, county_staff
):
    assert set(Household.objects.for_user(township_reviewer).values_list("household_no", flat=True)) == {
        "H001",
        "H002",
    }
    assert Household.objects.for_user(county_staff).count() == 3
    assert Member.objects.for_user(township_reviewer).count() == 3


def test_exports_are_scoped_to_the_exporting_user(
    register, village_cadre, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = queue_export(user=village_cadre, layout="member", year=2025, full=False)
    job = run_job(job.pk)
    sheet = openpyxl.load_workbook(job.result_path, read_only=True).active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert {row[3] for row in rows} == {"H001"} and len(rows) == 2
    assert all("*" in row[6] for row in rows)  # masked 证件号码 column


def test_jobs_and_their_files_are_private_to_whoever_started_them(
    client, register, village_cadre, county_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = queue_export(user=county_staff, layout="member", year=2025, full=False)
    run_job(job.pk)
    client.force_login(village_cadre)
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404
    assert client.get(reverse("jobs:progress", args=[job.pk])).status_code == 404


def test_a_department_officer_cannot_read_the_register(client, register, department_officer):
    client.force_login(department_officer)
    household = own_household()
    assert client.get(reverse("registry:household_list")).status_code == 403
    assert client.get(reverse("registry:household_detail", args=[household.pk])).status_code == 403
    assert client.get("/api/households").status_code == 403
    assert client.get(f"/api/households/{household.pk}").status_code == 403
    assert client.get(reverse("registry:export")).status_code == 403
    assert Household.objects.for_user(department_officer).count() == 0


def test_anonymous_users_are_sent_to_login_or_refused(client, register):
    household = own_household()
    assert client.get(reverse("registry:household_detail", args=[household.pk])).status_code == 302
    assert client.get("/api/households").status_code == 401


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _names(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_register_and_api_endpoint_has_a_scoping_test():
    names = {
        n
        for n in _names(get_resolver())
        if n.startswith(("registry:", "api:", "monitoring:"))
        and "openapi" not in n
        and not n.endswith(("api-root", "api-docs"))
    }
    known = SCOPED_ENDPOINTS | LIST_ENDPOINTS | MONITORING_ENDPOINTS | SETTINGS_ENDPOINTS | JOB_ENDPOINTS
    assert names <= known, names - known


def test_the_monitoring_work_of_another_village_is_out_of_reach(
    client, register, village_cadre, county_staff
):
    import datetime as dt

    from fangpin.monitoring import actions
    from fangpin.monitoring.models import Measure, Objection
    from fangpin.rules.models import Finding, ScreeningRun

    other = other_village_household()
    run = ScreeningRun.objects.create(as_of=dt.date(2026, 3, 1), engine="duckdb")
    finding = Finding.objects.create(rule_id="W", rule_version="1", family="部门预警", severity="高", household=other,
                                     region_code=other.region_code, message="预警", first_run=run, last_run=run)  # fmt: skip
    case = actions.open_case(user=county_staff, household=other, source="cadre", proposed_category="边缘易致贫户",
                             risk_types="因病")  # fmt: skip
    clue = actions.report_clue(user=county_staff, household=other, source="cadre", summary="排查")
    objection = Objection.objects.create(
        case=case, received_at=case.opened_at, content="异议", recorded_by=county_staff
    )
    measure = Measure.objects.create(household=other, region_code=other.region_code, group="社会帮扶", item="社会捐赠",
                                     start=dt.date(2026, 1, 1), created_by=county_staff)  # fmt: skip
    client.force_login(village_cadre)
    gets = [
        reverse("monitoring:case", args=[case.pk]), reverse("monitoring:clue", args=[clue.pk]),
        reverse("monitoring:open", args=[other.pk]), reverse("monitoring:new_clue", args=[other.pk]),
        reverse("monitoring:assistance", args=[other.pk]), reverse("monitoring:visit", args=[other.pk]),
        reverse("monitoring:timeline", args=[other.pk]),
        f"/api/monitoring/cases/{case.pk}", f"/api/monitoring/households/{other.pk}/plan",
    ]  # fmt: skip
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        reverse("monitoring:take_warning", args=[finding.pk]), reverse("monitoring:advance", args=[case.pk]),
        reverse("monitoring:return", args=[case.pk]), reverse("monitoring:close", args=[case.pk]),
        reverse("monitoring:add_objection", args=[case.pk]),
        reverse("monitoring:answer_objection", args=[objection.pk]), reverse("monitoring:pair", args=[other.pk]),
        reverse("monitoring:add_measure", args=[other.pk]), reverse("monitoring:end_measure", args=[measure.pk]),
        reverse("monitoring:eliminate", args=[other.pk]), reverse("monitoring:revert", args=[other.pk]),
    ]  # fmt: skip
    for url in posts:
        assert client.post(url, {"reason": "x", "content": "x", "end": "2026-02-01"}).status_code == 404, url
    notice = reverse("monitoring:notice", args=[other.region_code, "identification", "pdf"])
    assert client.get(notice).status_code == 403
    for url in (
        "/api/monitoring/cases?status=",
        "/api/monitoring/clues?status=",
        "/api/monitoring/visits/overdue",
    ):
        assert client.get(url).json() == [], url
    for name in ("monitoring:list", "monitoring:inbox", "monitoring:monitored"):
        assert other.head_name not in client.get(reverse(name) + "?status=all&state=all").content.decode(), (
            name
        )
    client.force_login(county_staff)
    assert len(client.get("/api/monitoring/cases").json()) == 1
    assert (
        client.get(f"/api/monitoring/households/{other.pk}/plan").json()["measures"][0]["item"] == "社会捐赠"
    )
