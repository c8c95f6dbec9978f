"""Files with full numbers: written only on request, listed for their owner, 0600, purged and audited;
import inputs and raw rosters purged after their job finished; scrubbed logs (issue 12, points 1 and 9)."""

from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Role
from fangpin.audit.models import Action, AuditEntry
from fangpin.common.idnumber import mask_id
from fangpin.feeds import actions as rosters
from fangpin.feeds.models import Roster
from fangpin.jobs.actions import create_job, run_job
from fangpin.jobs.models import Job, Kind, Status
from fangpin.registry import actions as registry
from fangpin.retention.actions import purge, retention_days
from fangpin.retention.models import SensitiveFile
from fangpin.retention.scrub import ScrubFilter, scrub
from tests import builders
from tests.builders import pid
from tests.cli_helpers import fangpin
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ZHANG = pid(11)


def _later(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def _upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def _import(user, rows, tmp_path, *, full_ids: bool = False) -> Job:  # type: ignore[no-untyped-def]
    job = registry.queue_import(
        user=user, upload=_upload(builders.write_xlsx(tmp_path / "in.xlsx", rows)), year=2025
    )
    if full_ids:  # what the upload form's 含完整证件号码 box sets
        Job.objects.filter(pk=job.pk).update(params={**job.params, "full_ids": True})
    run_job(job.pk)
    job.refresh_from_db()
    return job


def _refused_rows() -> list[dict[str, object]]:
    rows = builders.standard_rows()
    rows[0]["工资性收入"] = "一万"  # not a number: the file is refused
    return rows


def _sheet(path: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()


def test_scrub_masks_ids_and_mobiles_in_a_traceback_but_not_hashes_or_longer_numbers():
    text = (
        f"ValueError: invalid literal for int() with base 10: '{ZHANG}' (tel 13912345678, +8613800001111), "
        "old 140826700101011, damaged 140826194908104000, x 14082619490810460X; "
        "hash 3a1408261970010101150b, person 14082610020100012301, at 1733140000000"
    )
    said = scrub(text)
    for number in (ZHANG, "13912345678", "13800001111", "140826700101011", "140826194908104000"):
        assert number not in said
    assert mask_id(ZHANG) in said and "139****5678" in said
    assert "1408**********460X" in said
    assert "3a1408261970010101150b" in said and "14082610020100012301" in said and "1733140000000" in said


def test_every_log_record_is_masked_before_a_handler_writes_it(settings):
    console = settings.LOGGING["handlers"]["console"]
    assert "scrub" in console["filters"] and settings.LOGGING["filters"]["scrub"]["()"].endswith(
        "ScrubFilter"
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    log = logging.getLogger("fangpin.test_retention")
    log.addHandler(handler)
    try:
        try:
            int(f"{ZHANG}元")
        except ValueError:
            log.exception("job %s failed reading %s", 7, "13912345678")
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert "job 7 failed" in written and "ValueError" in written
    assert ZHANG not in written and "13912345678" not in written and "139****5678" in written


def test_the_error_workbook_is_masked_with_row_numbers_by_default(county_admin, regions, tmp_path):
    job = _import(county_admin, _refused_rows(), tmp_path)
    assert job.status == Status.REJECTED and "含完整证件号码" not in job.result_name
    cells = "\n".join(map(str, _sheet(job.result_path)))
    assert ZHANG not in cells and "13912345678" not in cells
    assert "1408**********" in cells and "139****5678" in cells
    explained = [row[0] for row in _sheet(job.result_path) if str(row[0]).startswith("第")]
    assert explained and all("行「" in said for said in explained)  # the row of the clerk's own file
    assert not SensitiveFile.objects.exists()


def test_a_full_error_workbook_is_written_only_on_request_listed_0600_and_purged_with_an_audit_entry(
    county_admin, regions, tmp_path
):
    job = _import(county_admin, _refused_rows(), tmp_path, full_ids=True)
    assert job.status == Status.REJECTED and job.result_name.endswith("（含完整证件号码）.xlsx")
    assert ZHANG in "\n".join(map(str, _sheet(job.result_path)))
    listed = SensitiveFile.objects.get()
    assert listed.owner == county_admin and listed.path == job.result_path
    assert Path(listed.path).stat().st_mode & 0o777 == 0o600
    assert listed.expires_at - listed.created_at == dt.timedelta(days=retention_days())
    assert purge(now=_later(retention_days() - 1)).files == 0 and Path(listed.path).exists()
    assert purge(now=_later(retention_days() + 0.1)).files == 1
    listed.refresh_from_db()
    assert listed.purged_at is not None and not Path(listed.path).exists()
    entry = AuditEntry.objects.filter(action=Action.DELETE, model="retention.SensitiveFile").get()
    assert "到期删除含完整证件号码的文件" in entry.detail and county_admin.username in entry.detail
    assert purge(now=_later(retention_days() + 1)).files == 0  # twice is harmless


def test_a_full_register_export_is_listed_for_its_owner_and_the_security_administrator_only(
    client, register, county_admin, county_staff, tmp_path
):
    job = run_job(
        create_job(kind=Kind.EXPORT_REGISTER, user=county_admin, params={"layout": "member", "full": True}).pk
    )
    assert job is not None and job.status == Status.SUCCEEDED
    masked = run_job(create_job(kind=Kind.EXPORT_REGISTER, user=county_admin, params={"layout": "member"}).pk)
    assert masked is not None and SensitiveFile.objects.get().job == job
    security = create_user(username="sec_admin", password=PASSWORD, role=Role.SECURITY_ADMIN)
    url = reverse("retention:files")
    for user, sees in ((county_admin, True), (security, True), (county_staff, False)):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert "含敏感信息的文件" in page and (job.result_name in page) == sees, user.username
    client.force_login(county_staff)
    item = SensitiveFile.objects.get()
    assert client.post(reverse("retention:delete", args=[item.pk])).status_code == 404
    client.force_login(security)
    client.post(reverse("retention:delete", args=[item.pk]))
    item.refresh_from_db()
    assert item.purged_at is not None and not Path(item.path).exists()
    assert AuditEntry.objects.filter(action=Action.DELETE, detail__contains="按要求删除").exists()


def test_import_inputs_are_purged_after_their_job_and_an_awaiting_job_keeps_its_input_until_it_expires(
    county_admin, regions, tmp_path, settings
):
    done = _import(county_admin, builders.standard_rows(), tmp_path)
    rows = builders.standard_rows()
    rows[0]["证件号码"] = ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1")  # a wrong check digit: 待确认
    waiting = _import(county_admin, rows, tmp_path)
    assert done.status == Status.SUCCEEDED and waiting.status == Status.AWAITING
    inputs = [Path(done.input_path), Path(waiting.input_path)]
    assert all(p.exists() and p.is_relative_to(settings.MEDIA_ROOT) for p in inputs)
    assert purge(now=_later(retention_days() - 1)).inputs == 0 and all(p.exists() for p in inputs)
    result = purge(now=_later(retention_days() + 0.1))
    assert result.inputs == 1 and result.expired == 1 and not any(p.exists() for p in inputs)
    waiting.refresh_from_db()
    assert waiting.status == Status.INTERRUPTED and "请重新上传" in waiting.message
    details = list(
        AuditEntry.objects.filter(action=Action.DELETE, model="jobs.Job").values_list("detail", flat=True)
    )
    assert len(details) == 2 and all("删除导入文件" in d for d in details)


def test_a_command_line_import_never_deletes_the_operators_own_file(county_admin, regions, tmp_path):
    path = builders.write_xlsx(tmp_path / "own.xlsx", builders.standard_rows())
    job = registry.queue_import_path(user=county_admin, path=path, year=2025, confirmed=True)
    run_job(job.pk)
    assert purge(now=_later(retention_days() + 1)).inputs == 0 and path.exists()


def test_a_raw_roster_is_purged_after_its_import_finished(register, department_officer, tmp_path, settings):
    rows = [{"参保人姓名": "张", "身份证号码": ZHANG, "结算时间": "2025/3/5", "总费用": "40000",
             "统筹支付": "15000", "个人负担": "25000", "医院": "县医院"}]  # fmt: skip
    path = builders.write_xlsx(tmp_path / "m.xlsx", rows, titles=(), id_column="身份证号码")
    header = rosters.upload(user=department_officer, kind="medical", source="县医保局月报", period="202503",
                            hashed_ids=False, file=_upload(path), work_dir=Path(settings.MEDIA_ROOT) / "rosters")  # fmt: skip
    run_job(header.pk)
    roster = Roster.objects.get()
    run_job(rosters.confirm_mapping(user=department_officer, roster=roster, mapping=roster.mapping).pk)
    roster.refresh_from_db()
    raw = Path(roster.file_path)
    assert roster.status == Roster.Status.IMPORTED and raw.exists()
    assert purge(now=_later(retention_days() - 1)).rosters == 0 and raw.exists()
    assert purge(now=_later(retention_days() + 0.1)).rosters == 1 and not raw.exists()
    roster.refresh_from_db()
    assert roster.file_path == ""
    entry = AuditEntry.objects.get(action=Action.DELETE, model="feeds.Roster")
    assert "到期删除部门名册原文件" in entry.detail


@pytest.mark.slow
def test_fangpin_purge_runs_from_the_command_line(tmp_path):
    data = tmp_path / "data"
    fangpin(data, "migrate", "--no-input", "-v0")
    said = fangpin(data, "purge").stdout
    assert "已删除到期的含完整证件号码文件0个" in said
