"""账账比对: a national export compared with the register, household by household.

The register is the standard three households (tests.builders); the national export is the same
households with four known differences: 张建国户 became 边缘易致贫户 nationally, 赵小龙 is missing from
赵敏户, a fourth household 孙立户 exists only nationally, and 王强户's per-capita income is 100 yuan
higher. A shift within the tolerance (张建国户, 0.50 yuan) is no difference.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.audit.models import AuditEntry
from fangpin.jobs.actions import run_job
from fangpin.jobs.models import Job, Status
from fangpin.reconciliation import actions, compare
from fangpin.reconciliation.models import CheckMark, Comparison, Difference, Entry
from fangpin.registry.models import Household, Member
from tests import builders
from tests.builders import pid, standard_rows

pytestmark = pytest.mark.django_db

CUTOFF = dt.date(2026, 11, 30)
NEW_PERSON = pid(61, dt.date(1985, 7, 7))
EXPECTED = {("H001", "category"), ("H003", "members"), ("H004", "household"), ("H002", "income")}


def national_rows() -> list[dict[str, object]]:
    rows = [dict(r) for r in standard_rows() if r["姓名"] != "赵小龙"]  # 赵敏户 keeps 年度家庭人口数 2
    for row in rows:
        if row["户编号"] == "H001":
            row["监测对象类别"] = "边缘易致贫户"
            row["人均纯收入（元）"] = "17500.50"  # within the tolerance of 1 yuan
        if row["户编号"] == "H002":
            row["人均纯收入（元）"] = "5600.00"  # fangpin: (4000 + 2000 − 500) / 1 = 5500.00
    rows += builders.family("H004", builders.VILLAGE_A2, [("孙立", NEW_PERSON, "户主", "男")])
    return rows


def write_openpyxl(path, rows, titles=("（自定义）户成员信息（2025年度）", "导出时间：2026-11-30")):
    """A national export written by openpyxl (the register was written by xlsxwriter)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for title in titles:
        sheet.append([title])
    header = list(rows[0])
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h, "") for h in header])
    workbook.save(path)
    return path


def compare_file(user, path, django_capture_on_commit_callbacks, *, tolerance="1.00") -> Job:
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    with django_capture_on_commit_callbacks(execute=False):
        job = actions.queue_comparison(user=user, upload=upload, cutoff=CUTOFF, tolerance=Decimal(tolerance))
    return run_job(job.pk)


def found(comparison: Comparison | None = None) -> set[tuple[str, str]]:
    items = Difference.objects.select_related("entry")
    if comparison is not None:
        items = items.filter(comparison=comparison)
    return {(d.entry.household_no, d.field) for d in items}


@pytest.fixture
def compared(register, county_staff, tmp_path, django_capture_on_commit_callbacks):
    job = compare_file(county_staff, write_openpyxl(tmp_path / "国家系统.xlsx", national_rows()),
                       django_capture_on_commit_callbacks)  # fmt: skip
    assert job.status == Status.SUCCEEDED, (job.message, job.problems)
    return Comparison.objects.get(job=job)


def test_a_county_finds_exactly_the_differences_in_an_openpyxl_export(compared):
    assert found(compared) == EXPECTED  # precision and recall: these four, nothing else
    values = {(d.entry.household_no, d.field): (d.fangpin_value, d.national_value)
              for d in Difference.objects.select_related("entry")}  # fmt: skip
    assert values[("H001", "category")] == ("（空）", "边缘易致贫户")
    masked = Member.objects.get(name="赵小龙").id_number_masked
    assert values[("H003", "members")] == (f"赵小龙（{masked}）", "（无此人）")
    assert values[("H004", "household")] == ("（无此户）", "有此户（1人）")
    assert values[("H002", "income")] == ("5,500.00", "5,600.00")
    assert compared.summary["different"] == 4 and compared.summary["only_national"] == 1


def test_a_gbk_csv_of_the_same_export_gives_the_same_differences(
    register, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    path = builders.write_csv(
        tmp_path / "国家系统.csv", national_rows(), encoding="gbk", titles=("户成员信息",)
    )
    job = compare_file(county_staff, path, django_capture_on_commit_callbacks)
    assert job.status == Status.SUCCEEDED, job.problems
    assert found() == EXPECTED


def test_the_tolerance_is_the_comparisons_own(
    register, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    path = write_openpyxl(tmp_path / "国家系统.xlsx", national_rows())
    compare_file(county_staff, path, django_capture_on_commit_callbacks, tolerance="0.10")
    assert found() == EXPECTED | {("H001", "income")}  # the 0.50 shift now counts


def test_an_identical_export_shows_no_difference_and_writes_nothing_into_the_register(
    register, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    before = list(Household.objects.values_list("household_no", "monitoring_category", "updated_at"))
    compare_file(
        county_staff, write_openpyxl(tmp_path / "a.xlsx", standard_rows()), django_capture_on_commit_callbacks
    )
    assert Difference.objects.count() == 0 and Entry.objects.filter(differences__gt=0).count() == 0
    compare_file(
        county_staff, write_openpyxl(tmp_path / "b.xlsx", national_rows()), django_capture_on_commit_callbacks
    )
    assert list(Household.objects.values_list("household_no", "monitoring_category", "updated_at")) == before
    assert not Household.objects.filter(household_no="H004").exists() and Member.objects.count() == 5


def test_no_clear_id_is_stored_with_the_comparison(compared):
    ids = [r["证件号码"] for r in national_rows()] + [pid(51, dt.date(2015, 6, 1))]
    stored = json.dumps(list(Entry.objects.values_list("national", flat=True)), ensure_ascii=False)
    stored += json.dumps(
        list(Difference.objects.values_list("fangpin_value", "national_value")), ensure_ascii=False
    )
    assert not any(i in stored for i in ids)
    assert NEW_PERSON[:4] + "**********" + NEW_PERSON[-4:] in stored


def test_a_household_marked_checked_keeps_the_mark_until_either_side_changes(
    compared, village_cadre, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    entry = Entry.objects.get(comparison=compared, household_no="H001")
    actions.mark_checked(user=village_cadre, entry=entry, note="国家系统待更新")
    assert AuditEntry.objects.filter(model="reconciliation.CheckMark", action="create").exists()
    assert compare.current(village_cadre) == compared
    # a change the comparison does not look at keeps it
    household = Household.objects.get(household_no="H001")
    household.road_type = "水泥路"
    household.save()
    assert compare.sync(compared) and CheckMark.objects.filter(household_no="H001").exists()
    # a new comparison with the same national values keeps it
    second = compare_file(county_staff, write_openpyxl(tmp_path / "b.xlsx", national_rows()),
                          django_capture_on_commit_callbacks)  # fmt: skip
    assert CheckMark.objects.filter(household_no="H001").exists()
    assert compare.current(village_cadre).job_id == second.pk
    # a register change of a compared value clears it (audited)
    household.monitoring_category = "脱贫不稳定户"
    household.save()
    assert compare.sync(compare.current(village_cadre))
    assert not CheckMark.objects.filter(household_no="H001").exists()
    cleared = AuditEntry.objects.filter(model="reconciliation.CheckMark", action="delete").get()
    assert cleared.household_id == household.pk and "自动取消" in cleared.detail
    # marked again, then a national change clears it
    actions.mark_checked(
        user=village_cadre, entry=Entry.objects.get(household_no="H001", comparison__job=second)
    )
    rows = national_rows()
    for row in rows:
        if row["户编号"] == "H001":
            row["监测对象类别"] = "突发严重困难户"
    compare_file(county_staff, write_openpyxl(tmp_path / "c.xlsx", rows), django_capture_on_commit_callbacks)
    assert not CheckMark.objects.filter(household_no="H001").exists()


def test_the_differences_export_reads_back_with_title_unit_and_cutoff(
    compared, county_staff, django_capture_on_commit_callbacks
):
    county_staff.unit = "绛县农业农村局"
    county_staff.save()
    Entry.objects.filter(comparison=compared, household_no="H002")  # exists
    with django_capture_on_commit_callbacks(execute=False):
        job = actions.queue_export(user=county_staff, comparison=compared, filters={})
    job = run_job(job.pk)
    assert job.status == Status.SUCCEEDED, job.message
    sheet = openpyxl.load_workbook(job.result_path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "防返贫监测对象账账比对差异表"
    assert "填报单位：绛县农业农村局" in rows[1][0] and "统计截止日期：2026年11月30日" in rows[1][0]
    assert rows[2][:8] == ("序号", "乡镇", "村", "户编号", "户主", "比对项", "本平台", "国家系统")
    body = [r for r in rows[3:] if r[0] is not None and isinstance(r[0], int | float)]
    assert {(r[3], r[5]) for r in body} == {("H001", "监测对象类别"), ("H003", "家庭成员"), ("H004", "农户"),
                                           ("H002", "人均纯收入（元）")}  # fmt: skip
    assert any(r[0] == "制表人：" for r in rows)
    text = json.dumps(rows, ensure_ascii=False, default=str)
    assert not any(r["证件号码"] in text for r in standard_rows())
    assert "**********" in text  # 赵小龙 by the mask
    assert AuditEntry.objects.filter(action="export", model="reconciliation.Comparison").exists()


def test_a_township_and_a_village_see_only_their_villages_differences(
    client, compared, township_reviewer, village_cadre, django_capture_on_commit_callbacks
):
    for user, visible in ((township_reviewer, {"H001", "H002", "H004"}), (village_cadre, {"H001"})):
        client.force_login(user)
        page = client.get(reverse("reconciliation:index")).content.decode()
        for number in ("H001", "H002", "H003", "H004"):
            assert (f">{number}<" in page) == (number in visible), (user, number)
        assert ("柳庄村" in page) is False and ("横水镇" in page) is False
        other = Entry.objects.get(comparison=compared, household_no="H003")
        assert client.get(reverse("reconciliation:entry", args=[other.pk])).status_code == 404
        assert client.post(reverse("reconciliation:check", args=[other.pk])).status_code == 404
        with django_capture_on_commit_callbacks(execute=False):
            response = client.post(reverse("reconciliation:export"))
        job = run_job(Job.objects.get(pk=response.url.rstrip("/").split("/")[-1]).pk)
        sheet = openpyxl.load_workbook(job.result_path).active
        numbers = {
            r[3] for r in sheet.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int | float)
        }
        assert numbers == visible - ({"H002", "H004"} if user == village_cadre else set())
    rows, total = __import__("fangpin.reconciliation.queries", fromlist=["counts"]).counts(
        township_reviewer, compared
    )
    assert [(r.name, r.households) for r in rows] == [("东关村", 1), ("西街村", 2)] and total.households == 3


def test_the_county_counts_by_township_and_the_page_shows_them(client, compared, county_staff):
    client.force_login(county_staff)
    page = client.get(reverse("reconciliation:index")).content.decode()
    assert "古绛镇" in page and "横水镇" in page and "各乡镇差异户数" in page
    filtered = client.get(reverse("reconciliation:index"), {"group": "income"}).content.decode()
    assert ">H002<" in filtered and ">H001<" not in filtered


def test_roles_without_the_register_or_the_upload_are_refused(
    client, compared, department_officer, village_cadre
):
    client.force_login(department_officer)
    assert client.get(reverse("reconciliation:index")).status_code == 403
    entry = Entry.objects.get(comparison=compared, household_no="H001")
    assert client.get(reverse("reconciliation:entry", args=[entry.pk])).status_code == 403
    client.force_login(village_cadre)
    assert client.get(reverse("reconciliation:upload")).status_code == 403
    assert client.post(reverse("reconciliation:recompare")).status_code == 403
    assert client.get(reverse("reconciliation:entry", args=[entry.pk])).status_code == 200


def test_a_bad_file_is_refused_with_a_chinese_message_naming_row_and_column(
    client, register, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    rows = national_rows()
    rows[2]["工资性收入"] = "三万元"
    path = write_openpyxl(tmp_path / "坏文件.xlsx", rows)
    client.force_login(county_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reconciliation:upload"), {
            "file": SimpleUploadedFile(path.name, path.read_bytes()), "cutoff": "2026-11-30", "tolerance": "1",
        })  # fmt: skip
    assert response.status_code == 302
    job = Job.objects.get(kind="reconcile")
    assert job.status == Status.REJECTED
    assert any(p["row"] == 6 and p["column"] == "工资性收入" for p in job.problems), job.problems
    detail = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "工资性收入" in detail and "未进行比对" in detail
    assert Comparison.objects.get().status == Comparison.Status.REFUSED and not Entry.objects.exists()
    missing = write_openpyxl(
        tmp_path / "缺列.xlsx", [{k: v for k, v in r.items() if k != "与户主关系"} for r in rows]
    )
    job = compare_file(county_staff, missing, django_capture_on_commit_callbacks)
    assert job.status == Status.REJECTED and job.problems[0]["column"] == "与户主关系"
    assert "缺少必需的列" in job.problems[0]["message"]


def test_a_monitoring_export_compares_risk_status_and_measures(
    register, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    monitoring = {"识别监测时间": "202403", "风险是否已消除": "否", "消除监测时间": "", "风险消除方式": "",
                  "致贫/返贫风险1": "因病", "产业帮扶": "", "健康帮扶": ""}  # fmt: skip
    register_rows = [r | monitoring for r in standard_rows() if r["户编号"] == "H002"]
    path = write_openpyxl(
        tmp_path / "监测.xlsx", register_rows, titles=("（自定义）监测对象信息（2025年度）",)
    )
    from fangpin.registry.importer import import_register

    assert import_register(path).ok
    changed = [r | {"风险是否已消除": "是", "消除监测时间": "202409", "风险消除方式": "帮扶消除", "健康帮扶": "医疗救助"}
               for r in register_rows]  # fmt: skip
    job = compare_file(county_staff, write_openpyxl(tmp_path / "国家.xlsx", changed, titles=("监测对象信息2025年",)),
                       django_capture_on_commit_callbacks)  # fmt: skip
    assert job.status == Status.SUCCEEDED, job.problems
    # only the monitored household is expected in a §3 file: the other two are no difference
    assert found() == {("H002", "risk_eliminated"), ("H002", "eliminated_month"), ("H002", "elimination_method"),
                       ("H002", "measure:健康帮扶")}  # fmt: skip
    month = Difference.objects.get(field="eliminated_month")
    assert (month.fangpin_value, month.national_value) == ("（空）", "2024年9月")


def test_measure_names_differing_only_in_bracket_width_or_spaces_are_the_same_measure():
    assert compare.measure_items(["脱贫人口（监测对象）小额信贷", "脱贫人口(监测对象) 小额信贷", ""]) == [
        "脱贫人口(监测对象)小额信贷"
    ]
