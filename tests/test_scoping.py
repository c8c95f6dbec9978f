"""Region scoping for every view, API endpoint and export: a village user sees only the village."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

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


# --- generated from the URL list: every URL name of the project is declared, and each set is exercised --
#
# Each URL name belongs to one set below. The set says how it is scoped and which test checks it in
# detail; the generated test at the end then requests every URL of the set, its arguments built from its
# converters and an object per kind (another village's household, another user's job...), and proves the
# set's promise. A new page in no set fails `test_every_url_of_the_project_is_declared_in_a_scoping_set`.

OUTSIDE = ("H003", "赵敏", "赵小龙", "柳庄村问题")  # what another village (柳庄村) shows on a page

# Pages of one object, reached through its id: an outsider (the village cadre of 东关村) gets 403/404 for
# another village's object, or another user's, by GET and by POST; the owner reaches it.
OBJECT_URLS: dict[str, str] = {
    "registry:household_detail": "household", "registry:reveal_household_phone": "household",
    "registry:reveal_member": "member", "registry:correct_id": "member", "registry:confirm_import": "job",
    "api:get_household": "household", "api:get_member": "member", "api:reveal_member": "member",
    "api:get_case": "case", "api:household_plan": "household",
    "monitoring:new_clue": "household", "monitoring:take_warning": "finding", "rules:finding": "finding", "monitoring:clue": "clue",
    "monitoring:open": "household", "monitoring:case": "case", "monitoring:advance": "case",
    "monitoring:return": "case", "monitoring:close": "case", "monitoring:add_objection": "case",
    "monitoring:answer_objection": "objection", "monitoring:assistance": "household", "monitoring:pair": "household",
    "monitoring:add_measure": "household", "monitoring:end_measure": "measure", "monitoring:visit": "household",
    "monitoring:eliminate": "household", "monitoring:revert": "household", "monitoring:timeline": "household",
    "monitoring:attachment": "attachment", "monitoring:notice": "village",
    "monitoring:refer": "clue", "monitoring:referral_outcome": "referral", "monitoring:referral_withdraw": "referral",
    "jobs:detail": "job", "jobs:progress": "job", "jobs:download": "job",
    "feeds:detail": "roster", "feeds:mapping": "roster",
    "rectification:batch": "batch", "rectification:export": "batch", "rectification:add_item": "batch",
    "rectification:item": "item", "rectification:progress": "item", "rectification:apply": "item",
    "rectification:review": "item", "rectification:extend": "item", "rectification:evidence": "evidence",
    "retention:delete": "sensitive_file",
    "accounts:user_edit": "user", "accounts:user_status": "user", "accounts:user_reset": "user",
    "reconciliation:entry": "recon_entry", "reconciliation:check": "recon_entry",
    "dossiers:pdf": "household", "dossiers:archive": "household", "dossiers:batch": "village",
    "field:revoke": "field_token", "field:resolve": "field_conflict", "field:conflict_photo": "field_conflict",
    "classification:start": "household", "classification:detail": "assessment", "classification:advance": "assessment",
    "classification:return": "assessment", "classification:close": "assessment", "classification:upload": "assessment",
    "classification:attachment": "assessment_file",
}  # fmt: skip
# Lists and forms that anybody logged in may open: scoped to the user's region, so the village cadre's page
# never shows another village's household (tests above, test_monitoring.py, test_rectification.py).
LISTING_URLS = {
    "home", "registry:household_list", "registry:id_corrections", "registry:import", "registry:export",
    "api:list_households", "api:list_members", "api:list_cases", "api:list_clues", "api:overdue_visits",
    "monitoring:list", "monitoring:inbox", "monitoring:monitored", "monitoring:referrals", "jobs:list", "rules:findings",
    "rules:export_findings", "rules:catalogue", "rules:rule", "feeds:list", "feeds:upload", "rectification:ledger",
    "rectification:new_batch", "rectification:list_mapping", "retention:files", "registry:income_policies",
    "reports:dashboard", "reports:households", "reports:crosstab", "reports:crosstab_export",
    "reports:tables", "reports:tables_export", "reports:briefing", "reports:briefing_download",
    "reports:briefing_template",
    "accounts:password", "reconciliation:index", "reconciliation:export",
    "dossiers:index", "field:index", "field:issue", "field:conflicts", "regimes:index",
    "classification:list", "classification:progress", "classification:start_village",
    "socialaid:index", "socialaid:lists", "socialaid:export",
}  # fmt: skip
# County-wide administration without household data: refused to the village cadre, open to the role named
# (test_income_settings.py, test_rules.py, test_audit.py, test_lockout.py).
ROLE_URLS: dict[str, str] = {
    "registry:income_policy_edit": "county_admin", "rules:toggle": "county_admin",
    "rules:add_parameter": "county_admin", "rules:screening": "county_admin", "audit:log": "audit_admin",
    "audit:verify": "audit_admin", "audit:anchors": "audit_admin", "audit:anchor_download": "audit_admin",
    "lockouts": "security_admin", "unlock": "security_admin",
    "accounts:users": "system_admin", "accounts:user_new": "system_admin", "accounts:region_picker": "system_admin",
    "reconciliation:upload": "county_admin", "reconciliation:recompare": "county_admin",
    "socialaid:upload": "county_admin", "classification:parameter": "county_admin",
}  # fmt: skip
# The OpenRosa server of one Collect token (/field/<token>/…): no session, the token is the credential; an
# unknown or revoked token is refused (403) on every one, by GET and by POST (test_field_openrosa.py: the
# token's own households only, scope checked on every submission).
TOKEN_URLS = {"field:server", "field:form_list", "field:form_xml", "field:manifest", "field:households",
              "field:clues", "field:submission"}  # fmt: skip
# Open without logging in, and holding no household data.
PUBLIC_URLS = {"login", "logout", "api:openapi-json", "api:openapi-view", "api:api-root"}
# Arguments that are no object id, by converter name.
TEXT_ARGUMENTS = {"field": "id_number", "kind": "identification", "fmt": "pdf", "rule_id": "DQ_BIRTH_ID",
                  "name": "anchor.json", "year": 2025, "token": "x" * 43, "form_id": "fangpin_visit",
                  "index": 0}  # fmt: skip


def _patterns(resolver=None, namespace: str = ""):
    """(URL name, converter names) of every named pattern of the project."""
    from django.urls import URLPattern, URLResolver, get_resolver

    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(
                pattern, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            )
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name, list(pattern.pattern.converters)


def test_every_url_of_the_project_is_declared_in_a_scoping_set():
    names = {name for name, _ in _patterns()}
    declared = [set(OBJECT_URLS), LISTING_URLS, set(ROLE_URLS), PUBLIC_URLS, TOKEN_URLS]
    assert names - set().union(*declared) == set(), "a page without a scoping check: declare it above"
    assert sum(len(d) for d in declared) == len(set().union(*declared)), "a URL in two sets"
    assert set().union(*declared) - names == set(), "a declared URL the project no longer has"


@pytest.fixture
def world(register, county_staff, department_officer, tmp_path, settings):
    """One object of every kind, in another village (柳庄村, 横水镇) or of another user."""
    import datetime as dt

    from fangpin.accounts.actions import create_user
    from fangpin.accounts.roles import Role
    from fangpin.feeds.models import Roster
    from fangpin.jobs.actions import create_job
    from fangpin.jobs.models import Kind
    from fangpin.monitoring import actions as monitoring
    from fangpin.monitoring.models import Attachment, Measure, Objection
    from fangpin.rectification import actions as rectification
    from fangpin.rectification.models import Event
    from fangpin.regions.models import Region
    from fangpin.retention.models import SensitiveFile
    from fangpin.rules.models import Finding, ScreeningRun
    from tests import builders
    from tests.conftest import PASSWORD

    other = other_village_household()
    stored = tmp_path / "stored.bin"
    stored.write_bytes(b"%PDF-1.4 evidence")
    run = ScreeningRun.objects.create(as_of=dt.date(2026, 3, 1), engine="duckdb")
    case = monitoring.open_case(user=county_staff, household=other, source="cadre", proposed_category="边缘易致贫户",
                                risk_types="因病")  # fmt: skip
    batch = rectification.create_batch(user=county_staff, name="督导反馈", source="supervision",
                                       region=county_staff.region)  # fmt: skip
    item = rectification.add_item(user=county_staff, batch=batch, description="柳庄村问题", responsible_unit="横水镇",
                                  deadline=dt.date(2026, 12, 31), region=Region.objects.get(code=builders.VILLAGE_B1))  # fmt: skip
    objects = {
        "household": other, "member": other.members.first(), "case": case,
        "clue": monitoring.report_clue(user=county_staff, household=other, source="cadre", summary="排查"),
        "finding": Finding.objects.create(rule_id="W", rule_version="1", family="部门预警", severity="高",
                                          household=other, region_code=other.region_code, message="预警",
                                          first_run=run, last_run=run),
        "objection": Objection.objects.create(case=case, received_at=case.opened_at, content="异议",
                                              recorded_by=county_staff),
        "measure": Measure.objects.create(household=other, region_code=other.region_code, group="社会帮扶",
                                          item="社会捐赠", start=dt.date(2026, 1, 1), created_by=county_staff),
        "attachment": Attachment.objects.create(household=other, region_code=other.region_code, kind="photo",
                                                name="现场.pdf", path=str(stored), size=17, uploaded_by=county_staff),
        "job": create_job(kind=Kind.EXPORT_REGISTER, user=county_staff, params={"layout": "member"}),  # finished below
        "roster": Roster.objects.create(kind="medical", source="县医保局", period="202503", file_name="名册.csv",
                                        uploaded_by=department_officer, file_path=str(stored)),
        "batch": batch, "item": item,
        "evidence": Event.objects.create(item=item, kind=Event.Kind.EVIDENCE, user=county_staff, note="佐证",
                                         file_path=str(stored), file_name="佐证.pdf"),
        "sensitive_file": SensitiveFile.objects.create(owner=county_staff, kind="register_export", path=str(stored),
                                                       name="台账.xlsx", expires_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC)),
        "village": other.region_code,
        "user": county_staff,  # an account the system administrator manages (test_user_admin.py)
        "recon_entry": _recon_entry(other, county_staff),  # test_reconciliation.py
        "field_token": _field_token(),  # test_field_openrosa.py
    }  # fmt: skip
    objects["referral"] = _referral(other, county_staff)  # test_referral.py
    objects["field_conflict"] = _field_conflict(objects["field_token"], other, stored)  # test_field_forms.py
    # test_classification.py
    objects["assessment"], objects["assessment_file"] = _assessment(other, county_staff, stored)
    job = objects["job"]
    job.status, job.result_path, job.result_name = "succeeded", str(stored), "台账.xlsx"
    job.save()
    owners = {kind: county_staff for kind in objects} | {"roster": department_officer}
    for role in ("audit_admin", "security_admin", "system_admin"):
        owners[role] = create_user(
            username=role, password=PASSWORD, role=Role(role), region_code=builders.COUNTY
        )
    owners["user"] = owners["system_admin"]
    return objects, owners


def _recon_entry(household, user):
    """A household of a comparison with the national system (账账比对), with one difference."""
    import datetime as dt

    from fangpin.reconciliation.models import Comparison, Difference, Entry

    comparison = Comparison.objects.create(created_by=user, file_name="国家系统.xlsx", region_code=user.region.code,
                                           status="ready", cutoff=dt.date(2026, 11, 30), tolerance=1)  # fmt: skip
    entry = Entry.objects.create(comparison=comparison, household_no=household.household_no, household=household,
                                 region_code=household.region_code, head_name=household.head_name, differences=1,
                                 national={"region_code": household.region_code, "members": {}}, fingerprint="x")  # fmt: skip
    Difference.objects.create(entry=entry, comparison=comparison, region_code=household.region_code,
                              field="category", label="监测对象类别", national_value="边缘易致贫户")  # fmt: skip
    return entry


def _referral(household, user):
    """A referral of 柳庄村 to 民政, waiting for 民政's decision."""
    from django.utils import timezone

    from fangpin.monitoring.models import Referral

    return Referral.objects.create(household=household, region_code=household.region_code, kinds=["低保"],
                                   reasons={"低保": "人均可支配收入低于低保标准"}, referred_by=user,
                                   referred_at=timezone.now(), regime="2026")  # fmt: skip


def _assessment(household, user, stored):
    """A classification assessment of 柳庄村 at the village's step, with its evidence file."""
    from django.utils import timezone

    from fangpin.classification.models import Assessment, AssessmentAttachment

    now = timezone.now()
    assessment = Assessment.objects.create(household=household, region_code=household.region_code, regime="2026",
                                           facts_at=now, proposed_class="stable", step="assess", step_started_at=now,
                                           started_by=user, started_at=now)  # fmt: skip
    file = AssessmentAttachment.objects.create(household=household, region_code=household.region_code, step="assess",
                                               assessment=assessment, kind="form", name="评估表.pdf",
                                               path=str(stored), size=17, uploaded_by=user)  # fmt: skip
    return assessment, file


def _field_token():
    """The Collect token of 柳庄村's village team (another village's phone)."""
    from fangpin.accounts.actions import create_user
    from fangpin.accounts.roles import Role
    from fangpin.field.actions import issue_token
    from tests import builders
    from tests.conftest import PASSWORD

    team = create_user(
        username="village_b1_team", password=PASSWORD, role=Role.VILLAGE, region_code=builders.VILLAGE_B1
    )
    return issue_token(user=team)[0]


def _field_conflict(token, household, stored):
    """A phone's visit of 柳庄村 kept as a conflict, with one photo."""
    from fangpin.field.models import FieldConflict, FieldSubmission

    submission = FieldSubmission.objects.create(
        household=household, region_code=household.region_code, token=token, user=token.user,
        form_id="fangpin_visit", instance_id="uuid:world", xml_sha256="0", xml='<data id="fangpin_visit"><notes>走访</notes><meta><instanceID>uuid:world</instanceID></meta></data>',
        household_version="1", status="conflict", media=[{"name": "现场.jpg", "path": str(stored)}],
    )  # fmt: skip
    return FieldConflict.objects.create(household=household, region_code=household.region_code,
                                        submission=submission, submitted_version="1", current_version="2")  # fmt: skip


def _url(name: str, converters: list[str], objects: dict) -> str:
    kind = OBJECT_URLS.get(name)
    kwargs = {}
    for argument in converters:
        if argument in TEXT_ARGUMENTS and not (kind == "village" and argument == "village_code"):
            kwargs[argument] = TEXT_ARGUMENTS[argument]
        else:  # the object's id (or, for the 公示, the village's code)
            kwargs[argument] = objects[kind] if kind == "village" else objects[kind].pk
    return reverse(name, kwargs=kwargs)


def _text_of(response) -> str:
    """A page's text, or every cell of a listing's .xlsx export: neither may name an outside household."""
    if "wordprocessingml" in response.get("Content-Type", ""):  # a .docx: every paragraph and cell
        import docx

        document = docx.Document(io.BytesIO(response.content))
        cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if response.content.startswith(b"PK"):
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
        )
    return response.content.decode()


def test_every_declared_set_keeps_its_promise_on_every_url(client, world, village_cadre, county_admin):
    objects, owners = world
    owners["county_admin"] = county_admin
    urls = {name: _url(name, converters, objects) for name, converters in _patterns()}
    client.force_login(village_cadre)
    for name in OBJECT_URLS:
        statuses = [client.get(urls[name]).status_code, client.post(urls[name], {"reason": "x"}).status_code]
        assert set(statuses) <= {403, 404, 405} and set(statuses) & {403, 404}, (name, statuses)
    for name in LISTING_URLS:
        response = client.get(urls[name])
        assert response.status_code < 500, name
        if response.status_code == 200 and not response.streaming:
            page = _text_of(response)
            assert not any(marker in page for marker in OUTSIDE), name
    for name in ROLE_URLS:
        statuses = [client.get(urls[name]).status_code, client.post(urls[name]).status_code]
        assert set(statuses) <= {403, 404, 405} and set(statuses) & {403, 404}, (name, statuses)
    for name in TOKEN_URLS:
        for response in (client.get(urls[name]), client.post(urls[name])):
            assert response.status_code == 403 and response["X-OpenRosa-Version"] == "1.0", name
    client.logout()
    for name in PUBLIC_URLS:
        response = client.get(urls[name])
        assert response.status_code < 500 and not any(m in response.content.decode() for m in OUTSIDE), name
    for name in set(urls) - PUBLIC_URLS:
        assert client.get(urls[name]).status_code in (302, 401, 403, 404, 405), name  # anonymous: login first
    # the objects are real: whoever owns them (or the role named) reaches every page the outsider could not
    for name, kind in OBJECT_URLS.items():
        client.force_login(owners[kind])
        status = client.get(urls[name]).status_code
        assert (status < 500 and status != 404) or name in OWNER_GETS_404, (name, status)
    client.force_login(county_admin)  # and the markers are there to be seen by whoever's region holds them
    for name in ("registry:household_list", "api:list_households", "monitoring:list", "rules:findings"):
        assert any(marker in client.get(urls[name]).content.decode() for marker in OUTSIDE), name
    for name, role in ROLE_URLS.items():
        client.force_login(owners[role])
        status = client.get(urls[name]).status_code
        assert status < 500 and status not in (403,), (name, status)


# Object pages whose owner gets 404 by GET for a reason other than scope (said per page).
OWNER_GETS_404: set[str] = set()
