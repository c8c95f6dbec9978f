"""民政低收入人口比对: 民政's low-income list against the register and the monitored set, by ID hash.

The county, counted by hand (tests.builders' villages: 东关村 and 西街村 of 古绛镇, 柳庄村 of 横水镇):

| household | register                                   | on 民政's list                         | group, why                         |
|-----------|--------------------------------------------|----------------------------------------|------------------------------------|
| H001 东关村 | 张建国, 李秀英; not monitored, 低保 not filled | 张建国 低保 (保障人数 2)                 | 仅民政有, in the register, not monitored; 低保 未填写 |
| H002 西街村 | 王强; 脱贫不稳定户, risk not eliminated       | 王强 特困供养                           | 两边都有: not 整户无劳动能力; 特困 否 |
| H003 柳庄村 | 赵敏 (低保 是), 赵小龙; 边缘易致贫户, eliminated | 赵敏 农村低保, 赵大 (same household) | 两边都有: risk eliminated; 赵大 not in the household |
| H004 东关村 | 陈刚 (低保 是); 突发严重困难户, not eliminated  | —                                      | 仅本平台监测; 低保 是 but not listed |
| H005 西街村 | 刘一; 边缘易致贫户, eliminated                 | —                                      | none (eliminated, not listed)       |
| —         | —                                          | 孙立 临时救助 (横水镇 柳庄村)              | 仅民政有, not in the register       |
| —         | —                                          | 钱多 低保边缘家庭 (古绛镇, an unknown 村)  | 仅民政有, not in the register (township only) |
| —         | —                                          | 周末 低保, 结束日期 before the list's date | not compared (已退出)               |

So households: 两边都有 2 (both with differences), 仅民政有 in register 1, not in register 2, 仅本平台监测 1;
people: 两边都有 2 (王强, 赵敏), 仅民政有 in register 1 (张建国), not in register 3 (赵大, 孙立, 钱多),
仅本平台监测 1 (陈刚).

Who sees what (decided here, documented in the README): the comparison is for those who see the
register, each in their region (a village sees its village only, on the page and in the export). 民政's
部门数据员 uploads the list and sees the lists they uploaded with their totals (rows, people, how many
are in the register), never fangpin's monitored people; another department may not upload at all.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Department, Role
from fangpin.audit.models import AuditEntry
from fangpin.jobs.actions import run_job
from fangpin.jobs.models import Job, Status
from fangpin.registry.importer import import_register
from fangpin.socialaid import actions, compare
from fangpin.socialaid.models import AidList, AidPerson
from tests import builders
from tests.builders import pid
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 30)
ZHAO_DA, SUN_LI, QIAN_DUO, ZHOU_MO = (pid(91, dt.date(1995, 5, 5)), pid(71, dt.date(1960, 1, 2)),
                                      pid(73, dt.date(1958, 3, 4)), pid(75, dt.date(1950, 6, 7)))  # fmt: skip
LIST_HEADER = ["序号", "乡镇", "村", "户主姓名", "户主身份证号", "姓名", "身份证号码", "对象类别", "保障人数", "纳入时间",
               "退出时间", "月保障金额"]  # fmt: skip


def register_rows() -> list[dict[str, object]]:
    rows = (
        builders.family("H001", builders.VILLAGE_A1, [("张建国", pid(11), "户主", "男"),
                                                      ("李秀英", pid(22, dt.date(1972, 5, 3)), "配偶", "女")])
        + builders.family("H002", builders.VILLAGE_A2, [("王强", pid(31, dt.date(1980, 2, 2)), "户主", "男")],
                          household_type="脱贫户", category="脱贫不稳定户")
        + builders.family("H003", builders.VILLAGE_B1, [("赵敏", pid(42, dt.date(1990, 3, 3)), "户主", "女"),
                                                      ("赵小龙", pid(51, dt.date(2015, 6, 1)), "之子", "男")],
                          category="边缘易致贫户")
        + builders.family("H004", builders.VILLAGE_A1, [("陈刚", pid(61, dt.date(1975, 1, 1)), "户主", "男")],
                          category="突发严重困难户")
        + builders.family("H005", builders.VILLAGE_A2, [("刘一", pid(63, dt.date(1966, 1, 1)), "户主", "男")],
                          category="边缘易致贫户")
    )  # fmt: skip
    for row in rows:
        row["风险是否已消除"] = (
            "是" if row["户编号"] in ("H003", "H005") else ("否" if row["监测对象类别"] else "")
        )
        row["整户无劳动能力兜底保障户"] = "否" if row["监测对象类别"] else ""
        row["是否享受农村居民最低生活保障"] = "是" if row["姓名"] in ("赵敏", "陈刚") else ""
        row["是否特困供养人员"] = "否"
    return rows


def list_rows() -> list[dict[str, object]]:
    def person(town, village, head, head_id, name, id_number, kind, size, start="2024-03-01", end=""):  # type: ignore[no-untyped-def]
        return {"序号": 0, "乡镇": town, "村": village, "户主姓名": head, "户主身份证号": head_id, "姓名": name,
                "身份证号码": id_number, "对象类别": kind, "保障人数": size, "纳入时间": start, "退出时间": end,
                "月保障金额": "520.00"}  # fmt: skip

    rows = [
        person("古绛镇", "东关村", "张建国", pid(11), "张建国", pid(11), "低保", 2),
        person("古绛镇", "西街村", "王强", pid(31, dt.date(1980, 2, 2)), "王强", pid(31, dt.date(1980, 2, 2)), "特困供养", 1),
        person("横水镇", "柳庄村", "赵敏", pid(42, dt.date(1990, 3, 3)), "赵敏", pid(42, dt.date(1990, 3, 3)), "农村低保", 3),
        person("横水镇", "柳庄村", "赵敏", pid(42, dt.date(1990, 3, 3)), "赵大", ZHAO_DA, "农村低保", 3),
        person("横水镇", "柳庄村", "孙立", SUN_LI, "孙立", SUN_LI, "临时救助", 1),
        person("古绛镇", "新民村", "钱多", QIAN_DUO, "钱多", QIAN_DUO, "低保边缘家庭", 1),
        person("古绛镇", "东关村", "周末", ZHOU_MO, "周末", ZHOU_MO, "低保", 1, end="2026-06-30"),
    ]  # fmt: skip
    for i, row in enumerate(rows, start=1):
        row["序号"] = i
    return rows


TITLES = ("绛县低收入人口动态监测名单", "导出日期：2026年11月30日")
EXPECTED_HOUSEHOLDS = {
    ("H001", compare.AID_REGISTERED), ("H002", compare.BOTH), ("H003", compare.BOTH), ("H004", compare.FANGPIN),
    ("孙立", compare.AID_UNREGISTERED), ("钱多", compare.AID_UNREGISTERED),
}  # fmt: skip
EXPECTED_PEOPLE = {
    ("王强", compare.BOTH), ("赵敏", compare.BOTH), ("张建国", compare.AID_REGISTERED), ("赵大", compare.AID_UNREGISTERED),
    ("孙立", compare.AID_UNREGISTERED), ("钱多", compare.AID_UNREGISTERED), ("陈刚", compare.FANGPIN),
}  # fmt: skip


@pytest.fixture
def county(regions, tmp_path):
    result = import_register(builders.write_xlsx(tmp_path / "register.xlsx", register_rows()))
    assert result.ok, [str(p) for p in result.problems]


@pytest.fixture
def civil_officer(regions):
    return create_user(username="dept_minzheng", password=PASSWORD, role=Role.DEPARTMENT,
                       department=Department.CIVIL)  # fmt: skip


def upload(user, path, capture, *, as_of=AS_OF, source="县民政局低收入人口名单") -> Job:  # type: ignore[no-untyped-def]
    with capture(execute=False):
        job = actions.queue_import(user=user, upload=SimpleUploadedFile(path.name, path.read_bytes()), as_of=as_of,
                                   source=source)  # fmt: skip
    return run_job(job.pk) or Job.objects.get(pk=job.pk)


@pytest.fixture
def imported(county, county_staff, tmp_path, django_capture_on_commit_callbacks) -> AidList:
    path = builders.write_xlsx(tmp_path / "民政名单.xlsx", list_rows(), titles=TITLES, id_column="身份证号码")
    job = upload(county_staff, path, django_capture_on_commit_callbacks)
    assert job.status == Status.SUCCEEDED, (job.message, job.problems)
    return AidList.objects.get(job=job)


def groups(found: compare.Result) -> tuple[set, set]:  # type: ignore[type-arg]
    households = {(h.household_no or h.head_name, h.group) for h in found.households}
    return households, {(p.name, p.group) for p in found.people}


def reasons_of(found: compare.Result, key: str) -> list[str]:
    return next(h.reasons for h in found.households if (h.household_no or h.head_name) == key)


def test_the_hand_counted_county_gives_exactly_its_groups_and_reasons(imported, county_staff):
    assert (imported.status, imported.rows, imported.persons, imported.households, imported.matched, imported.ended) == (
        AidList.Status.CURRENT, 7, 7, 6, 3, 1,
    )  # fmt: skip
    found = compare.result(imported, county_staff)
    assert groups(found) == (EXPECTED_HOUSEHOLDS, EXPECTED_PEOPLE)  # precision and recall
    assert found.ended == 1  # 周末 left before the list's date
    assert reasons_of(found, "H002") == [
        "民政认定为特困人员，本平台未标注“整户无劳动能力兜底保障户”",
        "王强：民政名单为特困，本平台台账“是否特困供养人员”为否",
    ]
    h003 = reasons_of(found, "H003")
    assert h003[0] == "民政仍按低保救助，本平台该户风险已消除：请核实风险消除是否稳定"
    assert (
        len(h003) == 2 and h003[1].startswith("民政名单中同户的赵大（") and "不在本平台该户台账中" in h003[1]
    )
    assert reasons_of(found, "H001") == [
        compare.WHY[compare.AID_REGISTERED], "张建国：民政名单为低保，本平台台账“是否享受农村居民最低生活保障”为未填写",
    ]  # fmt: skip
    assert reasons_of(found, "H004") == [
        compare.WHY[compare.FANGPIN], "陈刚：本平台台账“是否享受农村居民最低生活保障”为是，民政名单中没有此人",
    ]  # fmt: skip
    assert reasons_of(found, "孙立") == [compare.WHY[compare.AID_UNREGISTERED]]
    # 赵敏 enjoys 低保 in the register as well: her only disagreement is the household's
    zhao = next(p for p in found.people if p.name == "赵敏")
    assert zhao.reasons == ["民政仍按低保救助，本平台该户风险已消除：请核实风险消除是否稳定"]
    assert compare.totals(found) == imported.summary == {
        "households": {"both": 2, "aid_registered": 1, "aid_unregistered": 2, "fangpin": 1},
        "people": {"both": 2, "aid_registered": 1, "aid_unregistered": 3, "fangpin": 1}, "differing": 2,
    }  # fmt: skip


def test_counts_by_township_and_the_unknown_village(imported, county_staff, township_reviewer):
    rows, total = compare.counts(compare.result(imported, county_staff), county_staff)
    table = {r.name: r.cells() for r in rows}
    assert table == {
        "古绛镇": [(1, 1), (1, 1), (1, 1), (1, 1)],  # H002 | H001 | 钱多 | H004
        "横水镇": [(1, 1), (0, 0), (1, 2), (0, 0)],  # H003 (赵敏) | 孙立, and 赵大 of H003 (a person only)
    }
    assert total.cells() == [(2, 2), (1, 1), (2, 3), (1, 1)] and total.differing == 2
    rows, _ = compare.counts(compare.result(imported, township_reviewer), township_reviewer)
    # 钱多's village is not one of 古绛镇's: counted under the township, shown as not recognised
    assert {r.name: r.cells() for r in rows} == {
        "东关村": [(0, 0), (1, 1), (0, 0), (1, 1)], "西街村": [(1, 1), (0, 0), (0, 0), (0, 0)],
        "未识别到村": [(0, 0), (0, 0), (1, 1), (0, 0)],
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["csv-gbk", "xls"])
def test_a_gbk_csv_and_an_xls_of_the_same_list_give_the_same_groups(
    kind, county, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    if kind == "xls":
        path = builders.write_xls(tmp_path / "民政名单.xls", list_rows(), titles=TITLES)
    else:
        path = builders.write_csv(tmp_path / "民政名单.csv", list_rows(), encoding="gbk", titles=TITLES)
    job = upload(county_staff, path, django_capture_on_commit_callbacks)
    assert job.status == Status.SUCCEEDED, job.problems
    assert groups(compare.result(AidList.objects.get(job=job), county_staff)) == (
        EXPECTED_HOUSEHOLDS,
        EXPECTED_PEOPLE,
    )


def test_mangled_ids_and_unknown_categories_refuse_the_whole_list_by_row_and_column(
    imported, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    rows = list_rows()
    rows[4]["对象类别"] = "五保低保混合"  # row 7 of the file (two title rows, the header)
    rows[5]["身份证号码"] = QIAN_DUO[:-3] + "000"  # the tail Excel turned into 000
    numeric = builders.write_xlsx(
        tmp_path / "损坏.xlsx", rows, titles=TITLES, numeric_ids=True, id_column="身份证号码"
    )
    job = upload(county_staff, numeric, django_capture_on_commit_callbacks)
    assert job.status == Status.REJECTED
    by_cell = {(p["row"], p["column"]): p["message"] for p in job.problems}
    assert all(
        by_cell.get((row, "证件号码"), "").startswith("证件号码被Excel存成了数字") for row in range(4, 11)
    )
    assert (
        "无法识别" in by_cell[(8, "救助类型")]
        and "低保、低保边缘、特困、刚性支出困难、临时救助" in by_cell[(8, "救助类型")]
    )
    assert job.result_path and job.result_name.endswith("_错误说明.xlsx")
    text = " ".join(by_cell.values())
    assert QIAN_DUO[:-3] not in text  # no message quotes a number
    # as text: only the damaged tail and the unknown category are refused, each by its cell
    job = upload(county_staff, builders.write_xlsx(tmp_path / "截断.xlsx", rows, titles=TITLES, id_column="身份证号码"),
                 django_capture_on_commit_callbacks)  # fmt: skip
    assert job.status == Status.REJECTED
    assert {(p["row"], p["column"]) for p in job.problems} == {(8, "救助类型"), (9, "证件号码")}
    assert "截断" in next(p["message"] for p in job.problems if p["column"] == "证件号码")
    # nothing of either file is kept; the list in use stays
    assert AidPerson.objects.exclude(aid_list=imported).count() == 0
    assert compare.current_list(county_staff) == imported
    assert AidList.objects.filter(status=AidList.Status.REJECTED).count() == 2


def test_a_list_without_the_required_columns_names_them(
    county, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    rows = [{k: v for k, v in r.items() if k != "对象类别"} for r in list_rows()]
    job = upload(county_staff, builders.write_xlsx(tmp_path / "缺列.xlsx", rows, titles=TITLES, id_column="身份证号码"),
                 django_capture_on_commit_callbacks)  # fmt: skip
    assert job.status == Status.REJECTED
    assert [(p["row"], p["column"], p["message"]) for p in job.problems] == [(3, "救助类型", "缺少必需的列")]


def test_a_second_list_replaces_the_first_which_is_kept_with_its_dates(
    client, imported, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    rows = list_rows()[:2]  # 民政 has taken 赵敏户, 孙立 and 钱多 off; 张建国 now 低保 and 临时救助
    rows[0]["对象类别"] = "低保、临时救助"
    path = builders.write_xlsx(tmp_path / "十二月.xlsx", rows, titles=TITLES, id_column="身份证号码")
    job = upload(county_staff, path, django_capture_on_commit_callbacks, as_of=dt.date(2026, 12, 1))
    assert job.status == Status.SUCCEEDED, job.problems
    second = AidList.objects.get(job=job)
    imported.refresh_from_db()
    assert (imported.status, imported.replaced_by, imported.replaced_at) == (
        AidList.Status.REPLACED,
        second,
        second.imported_at,
    )
    assert compare.current_list(county_staff) == second
    households, _ = groups(compare.result(second, county_staff))
    assert households == {("H001", compare.AID_REGISTERED), ("H002", compare.BOTH), ("H004", compare.FANGPIN)}
    assert next(h for h in compare.result(second, county_staff).households if h.household_no == "H001").categories == [
        "低保", "临时救助",
    ]  # fmt: skip
    assert AuditEntry.objects.filter(
        model="socialaid.AidList", object_id=str(imported.pk), action="update"
    ).exists()
    client.force_login(county_staff)
    page = client.get(reverse("socialaid:lists")).content.decode()
    assert "已被替换" in page and "在用" in page and "2026年11月30日" in page and "2026年12月1日" in page


def test_the_page_shows_groups_with_masked_ids_only_and_filters(client, imported, county_staff):
    client.force_login(county_staff)
    page = client.get(reverse("socialaid:index")).content.decode()
    assert "民政低收入人口比对" in page and "各乡镇比对情况" in page and "古绛镇" in page and "横水镇" in page
    for row in list_rows() + register_rows():
        number = row.get("身份证号码") or row.get("证件号码")
        assert number not in page
    assert AidPerson.objects.get(name="孙立").id_masked in page
    only_fangpin = client.get(reverse("socialaid:index"), {"group": "fangpin"}).content.decode()
    assert (
        ">H004<" in only_fangpin
        and ">H001<" not in only_fangpin
        and compare.WHY[compare.FANGPIN] in only_fangpin
    )
    aid = client.get(reverse("socialaid:index"), {"group": "aid", "level": "person"}).content.decode()
    assert all(name in aid for name in ("张建国", "赵大", "孙立", "钱多")) and "王强" not in aid
    differ = client.get(
        reverse("socialaid:index"), {"differ": "1", "region": builders.TOWNSHIP_B}
    ).content.decode()
    assert ">H003<" in differ and ">H002<" not in differ


def test_the_export_of_a_group_has_title_unit_time_signers_and_is_audited(client, imported, county_staff):
    client.force_login(county_staff)
    response = client.get(reverse("socialaid:export"), {"group": "both", "reviewer": "李审核"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "民政低收入人口比对表（两边都有，按户）"
    assert (
        values[1][0].startswith("填报单位：")
        and "导出时间：" in values[1][0]
        and "2026年11月30日" in values[1][0]
    )
    body = [r for r in values[3:] if isinstance(r[0], int | float)]
    assert [(r[1], r[2], r[3]) for r in body] == [("古绛镇", "西街村", "H002"), ("横水镇", "柳庄村", "H003")]
    assert "风险已消除" in body[1][10]
    assert values[-1][0].startswith("制表人：") and any(v == "审核人：李审核" for v in values[-1] if v)
    text = repr(values)
    assert not any(str(r.get("身份证号码")) in text for r in list_rows())
    assert AuditEntry.objects.filter(action="export", model="socialaid.AidList").count() == 1
    people = client.get(reverse("socialaid:export"), {"group": "aid_unregistered", "level": "person"})
    rows = [r for r in openpyxl.load_workbook(io.BytesIO(people.content)).active.iter_rows(values_only=True)
            if isinstance(r[0], int | float)]  # fmt: skip
    assert sorted(r[3] for r in rows) == ["孙立", "赵大", "钱多"]


def test_a_village_sees_and_exports_only_its_village(client, imported, village_cadre, other_village_cadre):
    client.force_login(village_cadre)  # 东关村: H001 (仅民政有) and H004 (仅本平台监测)
    page = client.get(reverse("socialaid:index")).content.decode()
    assert ">H001<" in page and ">H004<" in page
    assert all(word not in page for word in (">H002<", ">H003<", "孙立", "钱多", "赵大", "横水镇"))
    response = client.get(reverse("socialaid:export"), {"group": ""})
    rows = [r for r in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
            if isinstance(r[0], int | float)]  # fmt: skip
    assert sorted(r[3] for r in rows) == ["H001", "H004"]
    # another village's filter is no way out of one's own
    page = client.get(reverse("socialaid:index"), {"region": builders.VILLAGE_B1}).content.decode()
    assert "孙立" not in page and "赵敏" not in page
    client.force_login(other_village_cadre)  # 柳庄村: H003 and 孙立, 赵大
    found = compare.result(imported, other_village_cadre)
    assert groups(found)[0] == {("H003", compare.BOTH), ("孙立", compare.AID_UNREGISTERED)}


def test_who_may_upload_and_what_a_civil_affairs_officer_sees(
    client,
    county,
    civil_officer,
    department_officer,
    village_cadre,
    county_staff,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    path = builders.write_xlsx(tmp_path / "民政名单.xlsx", list_rows(), titles=TITLES, id_column="身份证号码")
    job = upload(civil_officer, path, django_capture_on_commit_callbacks)
    assert job.status == Status.SUCCEEDED, job.problems
    aid_list = AidList.objects.get(job=job)
    assert aid_list.region_code == builders.COUNTY  # no region of their own: the county the platform serves
    assert "households" not in job.summary and job.summary["next"] == reverse("socialaid:lists")
    client.force_login(civil_officer)
    assert client.get(reverse("socialaid:index")).status_code == 403  # fangpin's monitored set is not theirs
    assert client.get(reverse("socialaid:export")).status_code == 403
    own = client.get(reverse("socialaid:lists")).content.decode()
    assert "民政名单.xlsx" in own and "导入时比对结果" not in own and "低收入人口名单" in own
    assert client.get(reverse("socialaid:upload")).status_code == 200
    for user in (department_officer, village_cadre):  # 医保's officer, a village
        with pytest.raises(PermissionDenied):
            upload(user, path, django_capture_on_commit_callbacks)
        client.force_login(user)
        assert client.get(reverse("socialaid:upload")).status_code == 403
    client.force_login(county_staff)  # the county sees the officer's list in use
    assert compare.current_list(county_staff) == aid_list
    assert client.get(reverse("socialaid:index")).status_code == 200


def test_no_table_holds_a_clear_id_of_the_list(imported, county_staff):
    """Every column of every table (the encrypted `*_enc` aside) after the import and a comparison."""
    compare.result(imported, county_staff)
    clear = {str(r["身份证号码"]) for r in list_rows()}
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if column.endswith("_enc") or value is None:
                        continue
                    text = value.decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                    found += [(table, column) for number in clear if number in text]
    assert not found, found
    stored = AidPerson.objects.get(name="孙立")
    assert stored.id_masked == SUN_LI[:4] + "*" * 10 + SUN_LI[-4:] and len(stored.id_hash) == 64


def test_the_upload_form_queues_the_list_and_leads_to_the_comparison(
    client, county, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    path = builders.write_xlsx(tmp_path / "民政名单.xlsx", list_rows(), titles=TITLES, id_column="身份证号码")
    client.force_login(county_staff)
    form = client.get(reverse("socialaid:upload")).content.decode()
    assert 'type="date"' in form and 'value="' in form
    too_late = {
        "file": SimpleUploadedFile(path.name, path.read_bytes()),
        "as_of": "2099-01-01",
        "source": "县民政局",
    }
    assert "名单日期不能晚于今天" in client.post(reverse("socialaid:upload"), too_late).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("socialaid:upload"), {
            "file": SimpleUploadedFile(path.name, path.read_bytes()), "as_of": "2026-11-30", "source": "县民政局",
        })  # fmt: skip
    assert response.status_code == 302
    job = Job.objects.get(kind="import_social_aid", status=Status.SUCCEEDED)
    assert job.summary["next"] == reverse("socialaid:index") and job.summary["households"]["both"] == 2
    assert AidList.objects.get(job=job).status == AidList.Status.CURRENT


@pytest.mark.slow
def test_the_demo_list_is_what_the_comparison_finds(tmp_path):
    """`fangpin demo`'s 民政 list (demo.socialaid) holds what it says it seeds, group by group."""
    from fangpin.accounts.models import User
    from fangpin.demo import socialaid as seeding
    from fangpin.demo.actions import _ensure_users, load_county
    from fangpin.demo.generator import write_demo_files

    files = write_demo_files(tmp_path / "demo", people=1500, seed=31, year=2025)
    load_county(files)
    seeded = seeding.load(_ensure_users()["dept_minzheng"], tmp_path / "demo", seed=31)
    staff = User.objects.get(username="xian_staff")
    found = compare.result(compare.current_list(staff), staff)

    def numbers(group: str) -> list[str]:
        return sorted(h.household_no for h in found.households if h.group == group)

    assert numbers(compare.BOTH) == seeded.both and len(seeded.both) >= 5
    assert sorted(h.household_no for h in found.households if h.group == compare.BOTH and h.reasons) == (
        seeded.both_differing
    )
    assert numbers(compare.AID_REGISTERED) == seeded.aid_registered and len(seeded.aid_registered) == 14
    assert numbers(compare.FANGPIN) == seeded.fangpin_only
    unregistered = [h for h in found.households if h.group == compare.AID_UNREGISTERED]
    assert len(unregistered) == seeded.aid_unregistered_households == 4
    assert sum(h.aid_people for h in unregistered) == seeded.aid_unregistered_people == 6
    assert found.ended == seeded.ended == 2


def test_the_list_knows_exactly_the_categories_the_2026_regime_monitors_alongside():
    """socialaid/categories.toml (synonyms, what the register should show) and the regime's
    assistance_categories name the same five 农村社会救助 categories; a change to one must reach the other."""
    import datetime as dt

    from fangpin.regimes.regime import regime_for
    from fangpin.socialaid.categories import categories

    assert {c.name for c in categories()} == set(regime_for(dt.date(2026, 6, 1)).assistance_categories)
