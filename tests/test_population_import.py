"""The whole rural population in the register: the 户籍 and 村级花名册 layouts (issue 11 point 4).

The files are built as counties really have them (tests.population_files). What is asserted: both
layouts read from .xlsx/.xls/GBK CSV with title rows; town residents and cancelled people left out;
the 户编号 of a household only these files know is stable, so a second import changes nothing; a
person the national export holds keeps their household and every national fact (only empty fields
are filled); bad rows are refused by row and column, nothing written; a later national export takes
a person out of such a 一般农户 (the national export wins); a department roster flags a 一般农户
that only the 户籍 file holds, with the 一般农户 threshold, and the register page shows them.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.audit.models import Action, AuditEntry
from fangpin.common.crypto import cipher
from fangpin.jobs.models import Job
from fangpin.registry.importer import import_register
from fangpin.registry.models import Household, Member
from fangpin.registry.population import is_population_household
from fangpin.registry.reports import write_error_report
from tests import builders
from tests import population_files as pf
from tests.builders import standard_rows

pytestmark = pytest.mark.django_db

SUN_HOUSEHOLD = f"HJ{builders.VILLAGE_A1}140826000101"
ZHANG_HJ = f"HJ{builders.VILLAGE_A1}140826000103"  # 张建国's 户 in 户籍: he and his wife sit in national H001


def digest(id_number: str) -> str:
    return cipher().digest(id_number, "id")


def member(id_number: str) -> Member:
    return Member.objects.select_related("household").get(id_number_hash=digest(id_number))


def state() -> list[tuple]:
    """Everything an import may change, to compare before and after."""
    households = list(Household.objects.order_by("household_no").values_list(
        "household_no", "household_type", "monitoring_category", "head_name", "region_code", "current_size",
        "phone_hash", "updated_at"))  # fmt: skip
    members = list(Member.objects.order_by("id_number_hash").values_list(
        "id_number_hash", "household__household_no", "relation", "name", "gender", "birth_date", "ethnicity",
        "phone_hash", "extra", "value_faults", "updated_at"))  # fmt: skip
    return [households, members, AuditEntry.objects.count()]


def test_a_huji_export_with_title_rows_registers_every_rural_person_as_general_households(regions, tmp_path):
    result = import_register(pf.write_huji_xlsx(tmp_path / "户籍.xlsx", pf.huji_rows()))
    assert result.ok, [str(p) for p in result.problems]
    assert (result.layout, result.summary()["layout_name"], result.header_row) == ("huji", "户籍人口信息", 3)
    sun = Household.objects.get(household_no=SUN_HOUSEHOLD)
    assert (sun.household_type, sun.monitoring_category, sun.head_name) == ("一般农户", "", "孙茂林")
    assert sun.region_code == builders.VILLAGE_A1  # 东关村村民委员会 is 东关村 of the region table
    assert sorted(sun.members.values_list("name", "relation")) == [
        ("孙志强", "之子"), ("孙茂林", "户主"), ("郭秀兰", "配偶")
    ]  # fmt: skip
    zhou = member(pf.ZHOU)
    assert zhou.ethnicity == "回族" and zhou.household.region_code == builders.VILLAGE_A2
    assert zhou.extra == {"户籍地址": "山西省绛县古绛镇西街村委会102号", "户籍类别": "农业家庭户口"}
    assert member(pf.MA).household.region_code == builders.VILLAGE_B1
    # nothing the file does not hold: no income, no category, no 户类型 beyond 一般农户
    assert not Household.objects.exclude(household_type="一般农户").exists()
    assert not sun.incomes.exists() and sun.per_capita_income is None
    # the town resident, the deceased and the 居委会 resident are left out, and said so
    for id_number in (pf.TOWNSMAN, pf.DECEASED, pf.NEIGHBOURHOOD):
        assert not Member.objects.filter(id_number_hash=digest(id_number)).exists()
    assert result.notes[:3] == [
        "未导入非农业或集体户口的1人（第13行起）",
        "未导入已注销（死亡、迁出等）的1人（第14行起）",
        "未导入城镇居委会、社区（不在行政区划表中）的1人（第15行起）",
    ]
    assert (result.rows, result.members.created, Household.objects.count()) == (12, 9, 4)
    created = AuditEntry.objects.filter(action=Action.CREATE, model="registry.Member")
    assert created.count() == 9 and pf.SUN not in str(list(created.values_list("after", flat=True)))


@pytest.mark.parametrize("kind", ["csv-gbk", "csv-utf8-bom", "xls"])
def test_the_huji_export_reads_the_same_as_gbk_csv_and_excel_97(regions, tmp_path, kind):
    rows = pf.huji_rows()
    if kind == "xls":
        path = pf.write_huji_xls(tmp_path / "户籍.xls", rows)
    else:
        path = pf.write_huji_csv(
            tmp_path / "户籍.csv", rows, encoding="gbk" if kind == "csv-gbk" else "utf-8-sig"
        )
    result = import_register(path)
    assert result.ok, [str(p) for p in result.problems]
    assert result.layout == "huji"
    assert sorted(Member.objects.values_list("name", flat=True)) == sorted(
        ["孙茂林", "郭秀兰", "孙志强", "周桂芳", "周婷", "马德胜", "张建国", "李秀英", "张小宝"]
    )
    assert member(pf.SUN_SON).household.household_no == SUN_HOUSEHOLD


def test_importing_the_same_population_file_twice_changes_nothing_the_second_time(register, tmp_path):
    huji = pf.write_huji_xlsx(tmp_path / "户籍.xlsx", pf.huji_rows())
    roster = pf.write_roster_xlsx(tmp_path / "花名册.xlsx", pf.roster_households())
    assert import_register(huji).ok and import_register(roster).ok
    before = state()
    again = import_register(huji)
    assert again.ok and not again.changed
    assert (again.households.created, again.members.created, again.members.updated) == (0, 0, 0)
    assert import_register(roster).ok
    assert state() == before


def test_a_person_of_the_national_export_keeps_their_household_and_every_national_fact(register, tmp_path):
    zhang_before, li_before = member(pf.ZHANG), member(pf.LI)
    result = import_register(pf.write_huji_xlsx(tmp_path / "户籍.xlsx", pf.huji_rows()))
    assert result.ok and result.registered == 2
    zhang, li = member(pf.ZHANG), member(pf.LI)
    h001 = Household.objects.get(household_no="H001")
    assert zhang.household == li.household == h001  # not moved to the 户籍 户
    assert (zhang.relation, li.relation, zhang.name) == ("户主", "配偶", "张建国")
    assert (h001.household_type, h001.head_name, h001.annual_size) == ("一般农户", "张建国", 2)
    assert zhang.value_faults == zhang_before.value_faults and li.value_faults == li_before.value_faults
    assert li.phone_hash == li_before.phone_hash == ""  # the 户籍 file has no phone: nothing to fill
    # only what the national export left empty is filled: 民族 (the export has no such column here)
    assert (zhang_before.ethnicity, zhang.ethnicity) == ("", "汉族")
    assert zhang.phone_hash == zhang_before.phone_hash
    assert zhang.gender == zhang_before.gender and zhang.birth_date == zhang_before.birth_date
    assert li.extra["户籍地址"] == "山西省绛县古绛镇东关村村民委员会103号"
    entry = AuditEntry.objects.filter(action=Action.UPDATE, object_id=str(zhang.pk)).latest("seq")
    assert entry.detail == "户籍人口信息导入：补充空白信息" and entry.after["ethnicity"] == "汉族"
    assert set(entry.after) <= {"ethnicity", "extra"}
    # the grandchild the national export lacks: a 一般农户 of the 户籍 户, and the village is told
    newborn = member(pf.NEWBORN)
    assert newborn.household.household_no == ZHANG_HJ and newborn.household.household_type == "一般农户"
    assert any(ZHANG_HJ in note and "请村里核实" in note for note in result.notes)
    # 脱贫户 and their category are never touched
    h002 = Household.objects.get(household_no="H002")
    assert (h002.household_type, h002.monitoring_category) == ("脱贫户", "脱贫不稳定户")


def test_a_village_roster_names_its_village_in_the_title_and_groups_members_under_their_head(
    register, tmp_path
):
    result = import_register(pf.write_roster_xlsx(tmp_path / "花名册.xlsx", pf.roster_households()))
    assert result.ok, [str(p) for p in result.problems]
    assert (result.layout, result.summary()["layout_name"]) == ("roster", "村级花名册")
    han = member(pf.HAN).household
    assert han.household_no == f"HMC{builders.VILLAGE_A1}{digest(pf.HAN)[:16]}"
    assert is_population_household(han.household_no) and not is_population_household("H001")
    assert (han.household_type, han.head_name, han.current_size, han.region_code) == (
        "一般农户", "韩卫东", 3, builders.VILLAGE_A1
    )  # fmt: skip
    assert sorted(han.members.values_list("name", "relation")) == [
        ("冯玉梅", "配偶"), ("韩卫东", "户主"), ("韩小龙", "之孙子")
    ]  # fmt: skip
    # 组别 is merged down the household (only its first cell holds it): every member has it
    assert [m.extra.get("村民小组") for m in han.members.all()] == ["一组"] * 3
    assert member(pf.HAN).phone_masked == "139****2345"
    # the old 15-digit ID is converted (and listed), the person keyed by the 18-digit number
    feng = member(pf.FENG)
    assert feng.household.head_name == "冯老四" and feng.id_fault == "id_old15"  # DQ_ID_OLD15 lists it
    assert any(f.kind == "id_old15" and f.row == 8 for f in result.faults)
    # 张建国 and 李秀英 are national: their phone is kept, her empty phone is filled, nobody moves
    zhang, li = member(pf.ZHANG), member(pf.LI)
    assert zhang.household.household_no == li.household.household_no == "H001"
    assert zhang.phone_masked == "139****5678" and li.phone_masked == "137****2222"
    assert not Household.objects.filter(
        household_no=f"HMC{builders.VILLAGE_A1}{digest(pf.ZHANG)[:16]}"
    ).exists()


def test_a_roster_with_township_and_village_columns_needs_no_title(regions, tmp_path):
    rows = [
        {"组别": "三组", "户主姓名": "韩卫东", "姓名": name, "身份证号": id_number, "与户主关系": relation,
         "性别": gender, "乡镇": "横水镇", "村": "柳庄村委会"}
        for name, id_number, relation, gender, _ in pf.roster_households()[0][1]
    ]  # fmt: skip
    result = import_register(builders.write_csv(tmp_path / "花名册.csv", rows, encoding="gbk"))
    assert result.ok, [str(p) for p in result.problems]
    assert member(pf.HAN_GRANDSON).household.region_code == builders.VILLAGE_B1


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(regions, tmp_path):
    rows = pf.huji_rows()
    rows[1]["所属村(居)委会"] = "北坡村"  # a rural village the region table lacks
    rows[3]["户号"] = ""
    path = pf.write_huji_xlsx(tmp_path / "户籍.xlsx", rows, numeric_ids=True)  # every ID an Excel number
    result = import_register(path)
    assert not result.ok and Member.objects.count() == 0 and Household.objects.count() == 0
    said = [str(p) for p in result.problems]
    assert "第5行「所属村(居)委会」列：「古绛镇北坡村」不在行政区划表中，请先导入区划表" in said
    assert "第7行「户号」列：必填，不能为空" in said
    damaged = [p for p in result.problems if p.column == "证件号码"]
    # every rural person's ID but those ending in X (Excel keeps those as text)
    numeric = [r for r in rows[:9] if str(r["公民身份号码"]).isdigit()]
    assert (
        len(damaged) == len(numeric) >= 6
        and damaged[0].row == 4
        and "无法确定是哪一个人" in damaged[0].message
    )
    assert damaged[0].col_index == 2  # the workbook marks the cell
    assert not any(pf.SUN in s or pf.SUN[:14] in s for s in said)  # no number in clear
    # the error workbook names the rows for the clerk, as for the national layouts
    report = tmp_path / "错误说明.xlsx"
    write_error_report(path, result.problems, report, header_row=result.header_row)
    sheet = openpyxl.load_workbook(report).active
    assert "第5行「所属村(居)委会」列：「古绛镇北坡村」不在行政区划表中" in sheet.cell(5, 1).value


def test_a_roster_member_before_any_head_and_a_missing_column_are_refused(regions, tmp_path):
    households = pf.roster_households()
    households[0] = ("一组", households[0][1][1:])  # 韩卫东's row is missing: his wife opens the list
    result = import_register(pf.write_roster_xlsx(tmp_path / "a.xlsx", households))
    assert not result.ok and Member.objects.count() == 0
    assert str(result.problems[0]).startswith("第4行「户主姓名」列：本行之前没有本户户主的一行")
    rows = [{k: v for k, v in row.items() if k != "户号"} for row in pf.huji_rows()]
    result = import_register(
        pf.write_huji_xlsx(tmp_path / "b.xlsx", rows, header=[h for h in pf.HUJI_HEADER if h != "户号"])
    )
    assert [str(p) for p in result.problems] == ["第3行「户号」列：缺少必需的列"]
    unknown = pf.write_roster_xlsx(tmp_path / "c.xlsx", pf.roster_households(), title="古绛镇北坡村村民花名册",
                                   unit="北坡村村民委员会")  # fmt: skip
    assert [str(p) for p in import_register(unknown).problems] == [
        "第3行「村」列：标题中写的村不在行政区划表中（或标题没有写明村），请先导入区划表或在表中加上乡镇、村两列"
    ]


def test_a_roster_id_excel_turned_into_a_number_is_reported_not_repaired(regions, tmp_path):
    path = pf.write_roster_xlsx(tmp_path / "a.xlsx", pf.roster_households(), id_as_number=pf.HAN_WIFE)
    result = import_register(path)
    assert not result.ok and Member.objects.count() == 0
    (problem,) = result.problems
    assert (problem.row, problem.column) == (5, "证件号码") and "Excel" in problem.message


def test_the_national_export_takes_a_person_out_of_the_huji_household_it_was_placed_in(register, tmp_path):
    assert import_register(pf.write_huji_xlsx(tmp_path / "户籍.xlsx", pf.huji_rows())).ok
    assert member(pf.SUN).household.household_no == SUN_HOUSEHOLD
    # the next national export: 孙茂林's household became a 监测户 (H005), his son joins 张建国's H001
    rows = standard_rows() + builders.family(
        "H005", builders.VILLAGE_A1, [("孙茂林", pf.SUN, "户主", "男"), ("郭秀兰", pf.SUN_WIFE, "配偶", "女")],
        category="边缘易致贫户",
    )  # fmt: skip
    rows.append(dict(rows[0], 姓名="孙志强", 证件号码=pf.SUN_SON, 与户主关系="其他", 性别="男",
                     出生日期="1985-01-20"))  # fmt: skip
    national = import_register(builders.write_xlsx(tmp_path / "national.xlsx", rows), confirmed=False)
    # no duplicate to confirm: the national export wins
    assert national.ok and not national.needs_confirmation
    assert national.from_population == 3 and national.moves == 0
    assert not any(f.kind == "duplicate_person" for f in national.faults)
    sun = member(pf.SUN)
    assert (sun.household.household_no, sun.relation) == ("H005", "户主")
    assert sun.household.monitoring_category == "边缘易致贫户"
    assert member(pf.SUN_SON).household.household_no == "H001"
    assert "重复人员" not in sun.value_faults
    # 孙's 户 is left without members: kept (a clue or a visit may name it) and named for the county
    assert not Household.objects.get(household_no=SUN_HOUSEHOLD).members.exists()
    assert any(SUN_HOUSEHOLD in note and "原户已无成员" in note for note in national.notes)
    entry = AuditEntry.objects.filter(action=Action.UPDATE, object_id=str(sun.pk)).latest("seq")
    assert entry.detail.startswith("按国家系统导出迁入") and "household_id" in entry.after
    # and the 户籍 file imported again moves nobody back
    before = state()
    assert import_register(pf.write_huji_xlsx(tmp_path / "户籍.xlsx", pf.huji_rows())).ok
    assert state() == before


def test_a_person_in_a_national_household_still_needs_the_confirmation_to_move(register, tmp_path):
    """The exception is only for the 一般农户 the population files made: national moves stay confirmed."""
    rows = standard_rows()
    rows[4] = dict(rows[0], 姓名="赵小龙", 证件号码=rows[4]["证件号码"], 与户主关系="之子")  # H003 → H001
    result = import_register(builders.write_xlsx(tmp_path / "a.xlsx", rows), confirmed=False)
    assert result.needs_confirmation and any(f.kind == "duplicate_person" for f in result.faults)


@pytest.mark.parametrize("one_pass", [False, True], ids=["by-hash", "one-pass-over-rosters"])
def test_a_department_roster_flags_a_general_household_only_the_huji_file_holds(
    register, department_officer, tmp_path, monkeypatch, one_pass
):
    from fangpin.feeds.models import RosterRecord
    from fangpin.rules.actions import run_screening
    from fangpin.rules.catalogue import load_catalogue
    from fangpin.rules.models import Finding
    from tests.test_rosters import confirm, upload

    claims = [
        {"参保人姓名": "孙茂林", "身份证号码": pf.SUN, "结算时间": "2025/3/5", "总费用": "60,000",
         "统筹支付": "35000", "个人负担": "25000元"},
        {"参保人姓名": "马德胜", "身份证号码": pf.MA, "结算时间": "2025/4/1", "总费用": "9,000",
         "统筹支付": "1000", "个人负担": "8000"},
    ]  # fmt: skip
    if one_pass:  # how a county's first, large import finds the roster rows to link
        monkeypatch.setattr("fangpin.registry.importer.LINK_BY_HASH_MAX", 0)
    # the 医保 roster arrives before the 户籍 file: nobody matches yet
    roster = upload(
        department_officer, builders.write_xlsx(tmp_path / "医保.xlsx", claims), tmp_path=tmp_path
    )
    confirm(department_officer, roster)
    assert (roster.rows, roster.matched) == (2, 0)
    assert import_register(pf.write_huji_xlsx(tmp_path / "户籍.xlsx", pf.huji_rows())).ok
    sun = member(pf.SUN)
    record = RosterRecord.objects.get(id_hash=digest(pf.SUN))
    assert (record.member_id, record.household_id, record.region_code) == (sun.pk, sun.household_id,
                                                                            builders.VILLAGE_A1)  # fmt: skip
    rules = [r for r in load_catalogue() if r.id.startswith("DEPT_MEDICAL_SELF_PAY")]
    run_screening(as_of=dt.date(2025, 6, 30), rules=rules)
    findings = Finding.objects.filter(rule_id__startswith="DEPT_MEDICAL_SELF_PAY")
    (finding,) = findings
    assert (
        finding.rule_id == "DEPT_MEDICAL_SELF_PAY_OTHER" and finding.household.household_no == SUN_HOUSEHOLD
    )
    assert finding.evidence["self_pay"] == 25000 and finding.evidence["line"] <= 25000
    ma = member(pf.MA).household  # 8,000 yuan: below the line
    assert not findings.filter(household=ma).exists()


def test_the_register_page_filters_and_counts_the_general_households_of_the_population_files(
    client, register, county_staff, tmp_path
):
    assert import_register(pf.write_huji_xlsx(tmp_path / "户籍.xlsx", pf.huji_rows())).ok
    client.force_login(county_staff)
    page = client.get(reverse("registry:household_list"), {"household_type": "一般农户"}).content.decode()
    general = Household.objects.filter(household_type="一般农户")
    assert general.count() == 6  # H001, H003 and the four 户籍 households
    assert f"共 {general.count()} 户" in page and SUN_HOUSEHOLD in page and "H002" not in page
    home = client.get(reverse("home")).content.decode()
    assert f'id="count-households">{Household.objects.count()}<' in home
    assert f'id="count-people">{Member.objects.count()}<' in home


def test_the_import_page_names_the_layout_it_read(client, regions, county_staff, django_capture_on_commit_callbacks,
                                                  tmp_path):  # fmt: skip
    client.force_login(county_staff)
    content = pf.write_huji_csv(tmp_path / "户籍.csv", pf.huji_rows()).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("registry:import"), {"file": SimpleUploadedFile("户籍人口.csv", content)}
        )
    page = client.get(response.url).content.decode()
    job = Job.objects.get()
    assert job.summary["layout_name"] == "户籍人口信息"
    assert "户籍人口信息导入成功" in page and "未导入非农业或集体户口的1人" in page
    assert "户籍人口信息" in client.get(reverse("registry:import")).content.decode()


def test_a_national_file_keeps_its_own_serial_and_remark_columns_as_other_columns(regions, tmp_path):
    rows = standard_rows()
    for i, row in enumerate(rows, start=1):
        row["序号"] = i
        row["备注"] = "已核实" if i == 1 else ""
    result = import_register(builders.write_xlsx(tmp_path / "a.xlsx", rows))
    assert result.ok and result.layout == "member"
    assert result.unknown_columns == ["序号", "备注"]
    assert Member.objects.get(name="张建国").extra == {"序号": "1", "备注": "已核实"}


def test_a_roster_saying_tuopinhu_or_an_income_changes_no_type_and_invents_no_income(register, tmp_path):
    """A 花名册 is no national record: 户类型 and income columns are kept as written, never applied."""
    rows = [
        {"组别": "一组", "户主姓名": "韩卫东", "姓名": "韩卫东", "身份证号": pf.HAN, "与户主关系": "户主",
         "户类型": "脱贫户", "人均纯收入": "3200", "村": "东关村", "乡镇": "古绛镇"},
        {"组别": "一组", "户主姓名": "王强", "姓名": "王强", "身份证号": builders.pid(31, dt.date(1980, 2, 2)),
         "与户主关系": "户主", "户类型": "一般农户", "人均纯收入": "99999", "村": "东关村", "乡镇": "古绛镇"},
    ]  # fmt: skip
    result = import_register(builders.write_csv(tmp_path / "花名册.csv", rows, encoding="gbk"))
    assert result.ok and result.layout == "roster", [str(p) for p in result.problems]
    han = member(pf.HAN)
    assert han.household.household_type == "一般农户" and not han.household.incomes.exists()
    assert han.extra["户类型"] == "脱贫户" and han.extra["人均纯收入（元）"] == "3200.00"
    wang = Member.objects.get(name="王强")  # national H002 in 西街村: stays, stays 脱贫户, income untouched
    assert wang.household.household_no == "H002" and wang.household.household_type == "脱贫户"
    assert wang.household.incomes.get().reported_per_capita != 99999


def test_roster_rows_follow_a_person_the_national_export_moves_out_of_a_huji_household(
    register, department_officer, tmp_path
):
    from fangpin.feeds.models import RosterRecord
    from tests.test_rosters import confirm, upload

    assert import_register(pf.write_huji_xlsx(tmp_path / "户籍.xlsx", pf.huji_rows())).ok
    claims = [{"参保人姓名": "孙茂林", "身份证号码": pf.SUN, "结算时间": "2025/3/5", "个人负担": "25000"}]
    confirm(department_officer, upload(department_officer, builders.write_xlsx(tmp_path / "m.xlsx", claims),
                                       tmp_path=tmp_path))  # fmt: skip
    assert RosterRecord.objects.get().household.household_no == SUN_HOUSEHOLD
    rows = standard_rows() + builders.family("H005", builders.VILLAGE_A1, [("孙茂林", pf.SUN, "户主", "男")])
    assert import_register(builders.write_xlsx(tmp_path / "national.xlsx", rows)).ok
    record = RosterRecord.objects.get()
    assert record.household.household_no == "H005" and record.member == member(pf.SUN)


def test_a_huji_export_by_division_code_leaves_out_neighbourhoods_and_refuses_unknown_villages(
    regions, tmp_path
):
    header = [h for h in pf.HUJI_HEADER if h not in ("所属乡镇/街道", "所属村(居)委会")] + ["行政区划代码"]
    rows = [dict(r, 行政区划代码=builders.VILLAGE_A1) for r in pf.huji_rows()[:3]]
    rows.append(dict(pf.huji_rows()[11], 行政区划代码="140826100003"))  # 003: a 居民委员会 the table lacks
    result = import_register(pf.write_huji_xlsx(tmp_path / "a.xlsx", rows, header=header))
    assert result.ok, [str(p) for p in result.problems]
    assert (
        Member.objects.count() == 3
        and "未导入城镇居委会、社区（不在行政区划表中）的1人（第7行起）" in result.notes
    )
    rows.append(dict(pf.huji_rows()[5], 行政区划代码="140826100299"))  # 299: a 村民委员会 the table lacks
    refused = import_register(pf.write_huji_xlsx(tmp_path / "b.xlsx", rows, header=header))
    assert [str(p) for p in refused.problems] == [
        "第8行「行政区划代码」列：「140826100299」不是区划表中的村级代码"
    ]
