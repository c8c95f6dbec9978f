"""Department rosters: header detection, saved column mappings, validation, matching, privacy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.common.crypto import cipher
from fangpin.feeds import actions
from fangpin.feeds.models import MappingProfile, Roster, RosterRecord
from fangpin.jobs.actions import run_job
from fangpin.jobs.models import Job, Kind
from tests import builders
from tests.builders import pid

pytestmark = pytest.mark.django_db

WANG = pid(31, dt.date(1980, 2, 2))  # 王强 of household H002
ZHANG = pid(11)  # 张建国 of household H001
STRANGER = pid(77, dt.date(1966, 6, 6))


def medical_rows(ids=(WANG, ZHANG, STRANGER)):
    """A medical-insurance roster as a 医保局 names its columns."""
    return [
        {"参保人姓名": f"人{i}", "身份证号码": id_number, "结算时间": "2025/3/5", "总费用": "40,000",
         "统筹支付": "15000", "个人负担": "25000元", "医院": "县医院"}
        for i, id_number in enumerate(ids)
    ]  # fmt: skip


def upload(user, path, *, kind="medical", source="县医保局月报", hashed=False, tmp_path):
    """Save the roster, then let the worker read its header (the web request never parses it)."""
    file = SimpleUploadedFile(path.name, path.read_bytes())
    job = actions.upload(user=user, kind=kind, source=source, period="202503", hashed_ids=hashed, file=file,
                         work_dir=tmp_path)  # fmt: skip
    run_job(job.pk)
    return Roster.objects.get(pk=job.params["roster"])


def confirm(user, roster, mapping=None):
    job = actions.confirm_mapping(user=user, roster=roster, mapping=mapping or roster.mapping)
    run_job(job.pk)
    roster.refresh_from_db()
    job.refresh_from_db()
    return job


def test_headers_are_found_below_title_rows_and_columns_are_mapped_by_synonym(
    register, department_officer, tmp_path
):
    path = builders.write_xlsx(
        tmp_path / "医保.xlsx", medical_rows(), titles=("县医保局结算明细", "2025年3月")
    )
    roster = upload(department_officer, path, tmp_path=tmp_path)
    assert roster.header_row == 3
    assert roster.mapping == {"id_number": "身份证号码", "name": "参保人姓名", "date": "结算时间",
                              "total_cost": "总费用", "basic_paid": "统筹支付", "self_pay": "个人负担"}  # fmt: skip


def test_a_confirmed_roster_is_matched_to_people_by_keyed_hash(register, department_officer, tmp_path):
    roster = upload(
        department_officer, builders.write_xlsx(tmp_path / "m.xlsx", medical_rows()), tmp_path=tmp_path
    )
    job = confirm(department_officer, roster)
    assert job.status == "succeeded" and roster.status == Roster.Status.IMPORTED
    assert (roster.rows, roster.matched, roster.unmatched) == (3, 2, 1)
    wang = RosterRecord.objects.get(member__name="王强")
    assert wang.household.household_no == "H002" and wang.date == dt.date(2025, 3, 5)
    assert wang.values["self_pay"] == "25000.00" and wang.id_hash == cipher().digest(WANG, "id")
    assert STRANGER not in str(RosterRecord.objects.values_list("values", flat=True))


def test_the_mapping_is_saved_per_source_and_reused_next_month(register, department_officer, tmp_path):
    rows = medical_rows()
    for row in rows:
        row["费用合计"] = row.pop("总费用")
    first = upload(department_officer, builders.write_csv(tmp_path / "a.csv", rows), tmp_path=tmp_path)
    assert "total_cost" not in first.mapping  # 费用合计 is no synonym: the officer maps it by hand
    confirm(department_officer, first, {**first.mapping, "total_cost": "费用合计"})
    assert MappingProfile.objects.get(source="县医保局月报").mapping["total_cost"] == "费用合计"
    second = upload(department_officer, builders.write_csv(tmp_path / "b.csv", rows, encoding="gbk"),
                    tmp_path=tmp_path)  # fmt: skip
    assert second.mapping["total_cost"] == "费用合计"


def test_excel_mangled_ids_are_reported_not_matched_and_nothing_is_written(
    register, department_officer, tmp_path
):
    path = builders.write_xlsx(
        tmp_path / "m.xlsx", medical_rows(), numeric_ids=True, titles=(), id_column="身份证号码"
    )
    roster = upload(department_officer, path, tmp_path=tmp_path)
    job = confirm(department_officer, roster)
    assert roster.status == Roster.Status.REJECTED and job.status == "rejected"
    assert all("Excel" in p["message"] and p["column"] == "证件号码" for p in job.problems)
    assert len(job.problems) == 3 and job.result_name.endswith("_错误说明.xlsx")
    assert not RosterRecord.objects.exists()


def test_a_roster_may_arrive_with_hashed_ids(register, department_officer, tmp_path):
    rows = medical_rows()
    for row in rows:
        row["身份证号码"] = cipher().digest(row["身份证号码"], "id")
    roster = upload(
        department_officer, builders.write_csv(tmp_path / "h.csv", rows), hashed=True, tmp_path=tmp_path
    )
    confirm(department_officer, roster)
    assert roster.matched == 2


def test_a_department_officer_uploads_only_their_departments_rosters(register, department_officer, tmp_path):
    path = builders.write_csv(tmp_path / "x.csv", medical_rows())
    with pytest.raises(PermissionDenied):
        upload(department_officer, path, kind="deregistration", tmp_path=tmp_path)


def test_an_officer_sees_only_their_own_uploads_and_nobody_outside_county_roles_sees_them(
    client, register, department_officer, regions, village_cadre, county_staff, tmp_path
):
    from fangpin.accounts.actions import create_user
    from tests.conftest import PASSWORD

    roster = upload(
        department_officer, builders.write_csv(tmp_path / "m.csv", medical_rows()), tmp_path=tmp_path
    )
    other = create_user(username="dept_medical_2", password=PASSWORD, role="department", department="医保")
    client.force_login(other)
    assert client.get(reverse("feeds:detail", args=[roster.pk])).status_code == 404
    assert client.get(reverse("feeds:mapping", args=[roster.pk])).status_code == 404
    assert "m.csv" not in client.get(reverse("feeds:list")).content.decode()
    client.force_login(village_cadre)
    assert client.get(reverse("feeds:list")).status_code == 403
    client.force_login(county_staff)
    assert "m.csv" in client.get(reverse("feeds:list")).content.decode()


def test_the_upload_and_mapping_pages_work_in_the_browserless_flow(
    client, register, department_officer, django_capture_on_commit_callbacks, tmp_path
):
    client.force_login(department_officer)
    content = builders.write_xlsx(tmp_path / "m.xlsx", medical_rows()).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):  # the worker reads the header
        response = client.post(reverse("feeds:upload"), {"kind": "medical", "source": "县医保局月报",
                                                         "period": "202503", "file": SimpleUploadedFile("m.xlsx", content)})  # fmt: skip
    roster = Roster.objects.get()
    job = Job.objects.get(kind=Kind.READ_HEADER)
    assert response.url == reverse("jobs:detail", args=[job.pk])
    job_page = client.get(response.url).content.decode()
    mapping_url = reverse("feeds:mapping", args=[roster.pk])
    assert job.status == "succeeded" and f'href="{mapping_url}"' in job_page  # the job page leads on
    page = client.get(mapping_url).content.decode()
    assert "个人自付（必需）" in page and 'value="个人负担" selected' in page
    roster.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(mapping_url, roster.mapping)
    roster.refresh_from_db()
    assert roster.status == Roster.Status.IMPORTED and roster.matched == 2


def test_a_corrupt_or_non_table_roster_is_refused_with_a_message_not_an_error_page(
    client, register, department_officer
):
    client.force_login(department_officer)
    for name, content, said in (
        ("m.xlsx", b"PK\x03\x04 not a workbook", "已损坏"),
        ("m.pdf", b"%PDF-1.4", "请上传"),
    ):
        response = client.post(reverse("feeds:upload"), {"kind": "medical", "source": "x", "period": "202503",
                                                         "file": SimpleUploadedFile(name, content)})  # fmt: skip
        assert response.status_code == 200
        assert said in response.content.decode()
    assert not Roster.objects.exists()
