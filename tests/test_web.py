from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.audit.models import Action, AuditEntry
from fangpin.jobs.models import Job
from fangpin.registry.models import Household, Member
from tests import builders
from tests.builders import pid

pytestmark = pytest.mark.django_db


def test_the_home_page_shows_the_counts_of_the_users_scope(client, register, county_staff):
    client.force_login(county_staff)
    page = client.get(reverse("home")).content.decode()
    assert 'id="count-households">3<' in page and 'id="count-people">5<' in page
    assert 'id="count-monitored">1<' in page and "数值待核实" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"household_type": "脱贫户"}, {"H002"}),
        ({"category": "any"}, {"H002"}),
        ({"category": "none"}, {"H001", "H003"}),
        ({"region": builders.TOWNSHIP_B}, {"H003"}),
        ({"region": builders.VILLAGE_A2}, {"H002"}),
        ({"income_band": "below"}, {"H002"}),
        ({"income_band": "above"}, {"H001", "H003"}),
        ({"q": "李秀英"}, {"H001"}),
        ({"q": "H003"}, {"H003"}),
        ({"q": pid(31, builders.dt.date(1980, 2, 2))}, {"H002"}),
        ({"q": pid(999)}, set()),
    ],
)
def test_the_household_list_filters_and_searches(client, register, county_staff, params, expected):
    client.force_login(county_staff)
    response = client.get("/api/households", params)
    assert {h["household_no"] for h in response.json()["items"]} == expected
    page = client.get(reverse("registry:household_list"), params).content.decode()
    assert all(no in page for no in expected)


def test_the_risk_type_filter_reads_imported_risks(client, register, county_staff):
    Household.objects.filter(household_no="H002").update(risk_types="因病、因残")
    client.force_login(county_staff)
    assert [h["household_no"] for h in client.get("/api/households", {"risk": "因残"}).json()["items"]] == [
        "H002"
    ]


def test_keyset_pagination_walks_every_household_once(client, register, county_staff):
    client.force_login(county_staff)
    seen, cursor = [], ""
    while True:
        data = client.get("/api/households", {"limit": 1, "after": cursor}).json()
        seen += [h["household_no"] for h in data["items"]]
        cursor = data["next"]
        if not cursor:
            break
    assert seen == ["H001", "H002", "H003"]
    page = client.get(reverse("registry:household_list")).content.decode()
    assert "next-page" not in page


def test_the_household_page_shows_members_masked_with_guarantees_income_and_history(
    client, register, village_cadre
):
    client.force_login(village_cadre)
    household = Household.objects.get(household_no="H001")
    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert "张建国" in page and "李秀英" in page
    assert pid(11) not in page and (pid(11)[:4] + "**********" + pid(11)[-4:]) in page
    assert "13912345678" not in page and "139****5678" in page
    assert "义务教育" in page and "饮水安全" in page and "17,500.00" in page
    assert "变更记录" in page and "新增" in page


def test_revealing_a_full_id_is_allowed_for_the_village_and_written_to_the_sensitive_read_log(
    client, register, village_cadre
):
    client.force_login(village_cadre)
    member = Member.objects.get(name="张建国")
    response = client.post(reverse("registry:reveal_member", args=[member.pk, "id_number"]))
    assert pid(11) in response.content.decode()
    entry = AuditEntry.objects.get(action=Action.SENSITIVE_READ)
    assert entry.username == "village_a1" and entry.object_id == str(member.pk) and "证件号码" in entry.detail


def test_a_supervisor_sees_masked_numbers_but_cannot_reveal_them(client, register, supervisor):
    client.force_login(supervisor)
    member = Member.objects.get(name="张建国")
    assert client.post(reverse("registry:reveal_member", args=[member.pk, "id_number"])).status_code == 403
    assert client.post(f"/api/members/{member.pk}/reveal/id_number").status_code == 403
    assert not AuditEntry.objects.filter(action=Action.SENSITIVE_READ).exists()


def test_the_import_page_runs_a_job_and_shows_its_outcome(
    client, regions, county_staff, django_capture_on_commit_callbacks, tmp_path
):
    client.force_login(county_staff)
    content = builders.write_xlsx(tmp_path / "a.xlsx", builders.standard_rows()).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("registry:import"), {"file": SimpleUploadedFile("户成员.xlsx", content)}
        )
    job = Job.objects.get()
    assert response.url == reverse("jobs:detail", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert "已完成" in page and "导入成功" in page and Household.objects.count() == 3


def test_a_rejected_upload_offers_the_error_workbook_for_download(
    client, regions, county_staff, django_capture_on_commit_callbacks, tmp_path
):
    client.force_login(county_staff)
    rows = builders.standard_rows()
    rows[0]["工资性收入"] = "三万"
    content = builders.write_csv(tmp_path / "a.csv", rows, encoding="gbk").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:import"), {"file": SimpleUploadedFile("名单.csv", content)})
    page = client.get(response.url).content.decode()
    assert "未通过校验" in page and "不是数字" in page and "名单_错误说明.xlsx" in page
    job = Job.objects.get()
    download = client.get(reverse("jobs:download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert Household.objects.count() == 0


def test_only_county_roles_may_import(client, regions, village_cadre):
    client.force_login(village_cadre)
    assert client.get(reverse("registry:import")).status_code == 403


def test_the_job_progress_fragment_polls_until_finished(client, county_staff):
    client.force_login(county_staff)
    job = Job.objects.create(kind="import_register", user=county_staff, status="queued", input_name="x.xlsx")
    fragment = client.get(reverse("jobs:progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "排队中" in fragment
    Job.objects.filter(pk=job.pk).update(status="succeeded", message="导入成功")
    assert "hx-trigger" not in client.get(reverse("jobs:progress", args=[job.pk])).content.decode()


def test_the_openapi_document_describes_the_register_endpoints(client):
    schema = client.get("/api/openapi.json").json()
    assert {
        "/api/households",
        "/api/households/{household_id}",
        "/api/members",
        "/api/members/{member_id}",
    } <= set(schema["paths"])
    household = schema["components"]["schemas"]["HouseholdOut"]["properties"]
    assert "id_number" not in str(household) and "phone_masked" in household
