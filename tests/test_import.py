"""Every import rule of formats §1, with files built by the tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from fangpin.audit.models import AuditEntry
from fangpin.common.crypto import cipher
from fangpin.registry.importer import import_register
from fangpin.registry.models import Household, IncomePolicy, IncomeRecord, Member
from fangpin.registry.reports import write_error_report
from tests import builders
from tests.builders import pid, standard_rows

pytestmark = pytest.mark.django_db


def assert_nothing_written():
    assert Household.objects.count() == 0
    assert Member.objects.count() == 0
    assert IncomeRecord.objects.count() == 0


def test_an_xlsx_with_title_rows_imports_every_household_member_and_income(regions, tmp_path):
    result = import_register(builders.write_xlsx(tmp_path / "a.xlsx", standard_rows()))
    assert result.ok, result.problems
    assert result.header_row == 3 and result.year == 2025
    assert (Household.objects.count(), Member.objects.count(), IncomeRecord.objects.count()) == (3, 5, 3)
    h1 = Household.objects.get(household_no="H001")
    assert h1.head_name == "张建国" and h1.region_code == builders.VILLAGE_A1
    income = h1.incomes.get(year=2025)
    assert income.computed_net == Decimal("35000.00")
    assert income.computed_per_capita == Decimal("17500.00") and income.discrepancy is None
    assert h1.per_capita_income == Decimal("17500.00")


def test_ids_and_phones_are_stored_encrypted_with_a_keyed_hash_and_a_mask(register):
    member = Member.objects.get(name="张建国")
    assert pid(11) not in member.id_number_enc
    assert cipher().decrypt(member.id_number_enc, "id") == pid(11)
    assert member.id_number_hash == cipher().digest(pid(11), "id")
    assert member.id_number_masked == pid(11)[:4] + "**********" + pid(11)[-4:]
    assert member.phone_masked == "139****5678" and "13912345678" not in member.phone_enc


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk_reads_the_same(regions, tmp_path, encoding):
    path = builders.write_csv(tmp_path / "a.csv", standard_rows(), encoding=encoding, titles=("户成员信息",))
    result = import_register(path)
    assert result.ok, result.problems
    assert sorted(Member.objects.values_list("name", flat=True)) == sorted(r["姓名"] for r in standard_rows())


def test_an_excel_97_xls_file_imports(regions, tmp_path):
    result = import_register(builders.write_xls(tmp_path / "a.xls", standard_rows()))
    assert result.ok, result.problems
    assert Member.objects.count() == 5


def test_column_synonyms_and_bracket_widths_are_recognised_and_unknown_columns_are_kept(regions, tmp_path):
    rows = standard_rows()
    for row in rows:
        row["身份证号码"] = row.pop("证件号码")
        row["乡(镇)"] = row.pop("乡")
        row["人均纯收入(元)"] = row.pop("人均纯收入（元）")
        row["网格员"] = "刘网格"
    result = import_register(builders.write_xlsx(tmp_path / "a.xlsx", rows))
    assert result.ok, result.problems
    assert result.unknown_columns == ["网格员"]
    assert Member.objects.get(name="王强").extra == {"网格员": "刘网格"}


def test_a_missing_required_column_is_named_and_nothing_is_written(regions, tmp_path):
    rows = standard_rows()
    for row in rows:
        del row["与户主关系"]
    result = import_register(builders.write_xlsx(tmp_path / "a.xlsx", rows))
    assert not result.ok
    assert [str(p) for p in result.problems] == ["第3行「与户主关系」列：缺少必需的列"]
    assert_nothing_written()


def numbered(rows):
    """The national export's 人口编号 on every row: how a person is placed when the ID names nobody."""
    for i, row in enumerate(rows, start=1):
        row["人口编号"] = f"P{i:04d}"
    return rows


def test_ids_excel_turned_into_numbers_are_imported_as_damaged_and_listed_by_row_and_column(
    regions, tmp_path
):
    result = import_register(
        builders.write_xlsx(tmp_path / "a.xlsx", numbered(standard_rows()), numeric_ids=True)
    )
    assert result.ok, result.problems
    id_faults = [f for f in result.faults if f.column == "证件号码"]
    assert [(f.row, f.kind) for f in id_faults] == [(r, "id_excel_number") for r in range(4, 9)]
    assert "Excel" in id_faults[0].message and not any(ch.isdigit() for ch in id_faults[0].message)
    member = Member.objects.get(name="张建国")
    assert member.value_faults == {"证件号码": {"kind": "id_excel_number", "shown": member.id_number_masked}}
    # keyed by 人口编号: the damaged number matches no roster and merges nobody
    assert member.id_number_hash != cipher().digest(pid(11), "id")
    assert Member.objects.count() == 5


def test_a_damaged_id_without_a_person_number_cannot_be_placed_and_refuses_the_file(regions, tmp_path):
    result = import_register(builders.write_xlsx(tmp_path / "a.xlsx", standard_rows(), numeric_ids=True))
    assert not result.ok
    assert {(p.row, p.column) for p in result.problems} == {(r, "人口编号") for r in range(4, 9)}
    assert "无法确定是哪一个人" in result.problems[0].message
    assert_nothing_written()


def test_two_people_whose_ids_excel_damaged_to_the_same_number_stay_two_people(regions, tmp_path):
    rows = numbered(standard_rows())
    rows[0]["证件号码"] = rows[1]["证件号码"] = "1.40826E+17"
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows))
    assert result.ok, result.problems
    assert Member.objects.filter(name__in=["张建国", "李秀英"]).count() == 2
    assert not [f for f in result.faults if f.kind == "duplicate_person"]


def test_scientific_notation_and_truncated_ids_in_a_csv_are_kept_as_faults_naming_no_digits(
    regions, tmp_path
):
    rows = numbered(standard_rows())
    rows[0]["证件号码"] = "1.40826E+17"
    truncated = pid(42, dt.date(1990, 3, 3))[:15] + "000"
    rows[3]["证件号码"] = truncated
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows))
    assert result.ok, result.problems
    kinds = {f.row: f.kind for f in result.faults}
    assert kinds == {2: "id_excel_number", 5: "id_excel_truncated"}
    assert all(truncated not in str(f) and truncated[:12] not in f.message for f in result.faults)
    assert cipher().decrypt(Member.objects.get(name="赵敏").id_number_enc, "id") == truncated


def test_an_error_late_in_the_file_still_rolls_back_every_earlier_row(regions, tmp_path, settings):
    rows = standard_rows() * 1
    rows[-1]["工资性收入"] = "三万"
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows), chunk_size=1)
    assert not result.ok and result.problems[-1].column == "工资性收入"
    assert_nothing_written()
    assert not AuditEntry.objects.filter(model__startswith="registry.").exists()


def test_every_value_fault_is_imported_and_listed_by_row_and_column_at_once(regions, tmp_path):
    rows = standard_rows()
    rows[0]["与户主关系"] = "邻居"
    rows[1]["出生日期"] = "1999-01-01"
    rows[3]["家庭成员联系电话"] = "12345"
    rows[3]["是否危房户"] = rows[4]["是否危房户"] = "可能"
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows))
    assert result.ok, result.problems
    assert {(f.row, f.column, f.kind) for f in result.faults} >= {
        (2, "与户主关系", "value_unknown"),
        (3, "出生日期", "birth_mismatch"),
        (5, "家庭成员联系电话", "phone_invalid"),
        (5, "是否危房户", "value_unknown"),
    }
    assert all(f.message for f in result.faults)
    zhao = Member.objects.get(name="赵敏")
    assert zhao.value_faults["家庭成员联系电话"] == {"kind": "phone_invalid", "shown": "1***5"}
    assert Household.objects.get(household_no="H003").value_faults == {
        "是否危房户": {"kind": "value_unknown", "shown": "可能"}
    }
    assert Member.objects.get(name="张建国").relation == ""  # never guessed


def test_faults_of_values_refuse_a_strict_import_and_core_numbers_refuse_any_import(regions, tmp_path):
    rows = standard_rows()
    rows[3]["家庭成员联系电话"] = "12345"
    path = builders.write_csv(tmp_path / "a.csv", rows)
    strict = import_register(path, strict=True)
    assert not strict.ok and [(p.row, p.column) for p in strict.problems] == [(5, "家庭成员联系电话")]
    assert_nothing_written()
    rows[2]["工资性收入"] = "-5"
    result = import_register(builders.write_csv(tmp_path / "b.csv", rows))
    assert not result.ok and [(p.row, p.column) for p in result.problems] == [(4, "工资性收入")]
    assert_nothing_written()


def test_an_unconfirmed_import_with_faults_shows_what_it_found_and_writes_nothing(regions, tmp_path):
    rows = numbered(standard_rows())
    rows[3]["家庭成员联系电话"] = "12345"
    rows[0]["证件号码"] = pid(11)[:17] + ("0" if pid(11)[17] != "0" else "1")
    path = builders.write_csv(tmp_path / "a.csv", rows)
    preview = import_register(path, confirmed=False)
    assert not preview.ok and preview.needs_confirmation and not preview.problems
    assert {c["kind"]: (c["count"], c["rule"]) for c in preview.fault_counts()} == {
        "id_checksum": (1, "DQ_ID_CHECKSUM"),
        "phone_invalid": (1, "DQ_PHONE_INVALID"),
    }
    assert preview.members.created == 5  # what the import will do once confirmed
    assert_nothing_written()
    assert import_register(path, confirmed=True).ok
    assert Member.objects.count() == 5


def test_duplicate_people_and_households_without_or_with_two_heads_are_listed_or_refused_when_strict(
    regions, tmp_path
):
    rows = standard_rows()
    rows[4]["证件号码"], rows[4]["出生日期"] = rows[3]["证件号码"], rows[3]["出生日期"]
    rows[4]["与户主关系"] = "户主"
    rows[1]["与户主关系"] = "之女"
    rows[0]["与户主关系"] = "之子"
    path = builders.write_csv(tmp_path / "a.csv", rows)
    strict = import_register(path, strict=True)
    text = " ".join(str(p) for p in strict.problems)
    assert not strict.ok and "与第5行为同一人" in text and "没有户主" in text
    result = import_register(path)
    assert result.ok, result.problems
    assert {f.kind for f in result.faults} == {"duplicate_person", "head_count"}
    assert Member.objects.count() == 4  # the second row of the same person is not a second person
    zhao = Member.objects.get(name="赵敏")
    assert zhao.value_faults["重复人员"]["kind"] == "duplicate_person"


def test_a_15_digit_id_is_converted_and_listed_as_an_old_number(regions, tmp_path):
    rows = standard_rows()
    rows[2]["证件号码"] = "140826800202031"
    rows[2]["出生日期"] = "1980-02-02"
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows))
    assert result.ok, result.problems
    assert [(f.row, f.kind) for f in result.faults] == [(4, "id_old15")]
    assert "140826800202031" not in result.faults[0].message
    member = Member.objects.get(name="王强")
    assert (
        member.id_number_masked.startswith("1408") and len(cipher().decrypt(member.id_number_enc, "id")) == 18
    )


def test_reimporting_the_same_file_changes_nothing(regions, tmp_path):
    path = builders.write_xlsx(tmp_path / "a.xlsx", standard_rows())
    assert import_register(path).ok
    before = AuditEntry.objects.count()
    second = import_register(path)
    assert second.ok and not second.changed
    assert second.members.unchanged == 5 and second.households.unchanged == 3
    assert AuditEntry.objects.count() == before


def test_a_changed_value_updates_the_row_and_the_audit_log_keeps_before_and_after(register, tmp_path):
    rows = standard_rows()
    rows[2]["健康状况"] = "患有大病"
    result = import_register(builders.write_xlsx(tmp_path / "b.xlsx", rows))
    assert result.ok and result.members.updated == 1 and result.members.unchanged == 4
    entry = AuditEntry.objects.filter(model="registry.Member", action="update").get()
    assert entry.before == {"health": "健康"} and entry.after == {"health": "患有大病"}


def test_a_disagreeing_imported_per_capita_income_is_reported(regions, tmp_path):
    rows = standard_rows()
    for row in rows[:2]:
        row["人均纯收入（元）"] = "19000"
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows))
    assert result.ok and result.income_discrepancies == 1
    income = IncomeRecord.objects.get(household__household_no="H001")
    assert income.discrepancy == Decimal("1500.00")


def test_the_income_formula_follows_the_province_year_parameters(regions, tmp_path):
    IncomePolicy.objects.filter(year=2025).update(awards_treatment="exclude", divisor="current")
    rows = standard_rows()
    for row in rows[:2]:
        row["产业奖励"] = 2000
    import_register(builders.write_csv(tmp_path / "a.csv", rows, titles=("2025年度",)))
    income = IncomeRecord.objects.get(household__household_no="H001")
    assert income.computed_net == Decimal("35000.00") and income.policy.year == 2025
    IncomePolicy.objects.filter(year=2025).update(awards_treatment="income")
    for row in rows[:2]:
        row["产业奖励"] = 2001
    import_register(builders.write_csv(tmp_path / "b.csv", rows, titles=("2025年度",)))
    assert IncomeRecord.objects.get(household__household_no="H001").computed_net == Decimal("37001.00")


def test_a_monitoring_file_sets_monitoring_fields_and_leaves_the_rest_alone(register, tmp_path):
    rows = [r for r in standard_rows() if r["户编号"] == "H002"]
    for row in rows:
        row.update(
            {
                "识别监测时间": "202305",
                "风险是否已消除": "否",
                "致贫/返贫风险1": "因病",
                "致贫/返贫风险2": "务工就业不稳",
                "健康帮扶": "医保个人缴费补贴、临时救助",
                "监测联系人": "刘干部",
            }
        )
        del row["工资性收入"]
    result = import_register(builders.write_xlsx(tmp_path / "m.xlsx", rows))
    assert result.ok and result.layout == "monitoring"
    household = Household.objects.get(household_no="H002")
    assert household.identified_month == "202305" and household.risk_type_list == ["因病", "因务工就业不稳"]
    assert household.measures == {"健康帮扶": ["医保个人缴费补贴", "临时救助"]}
    assert household.incomes.get().wage == Decimal("4000.00")  # not in this file: untouched


def test_the_error_workbook_copies_the_input_with_an_explanation_column_and_marked_cells(regions, tmp_path):
    rows = standard_rows()
    rows[1]["性别"] = "不详"
    source = builders.write_xlsx(tmp_path / "bad.xlsx", rows)
    result = import_register(source, strict=True)
    report = write_error_report(  # the uploader asked for their own values back (含完整证件号码)
        source, result.problems, tmp_path / "report.xlsx", header_row=result.header_row, full_ids=True
    )
    sheet = openpyxl.load_workbook(report).active
    assert sheet["A3"].value == "错误说明"
    assert "第5行「性别」列" in sheet["A5"].value
    gender_col = builders.HEADER.index("性别") + 2
    bad_cell = sheet.cell(row=5, column=gender_col)
    assert bad_cell.value == "不详" and bad_cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=4, column=2).value == "绛县"
    # the corrected report can be uploaded as it is: the explanation column is ignored
    sheet.cell(row=5, column=gender_col).value = "女"
    sheet.parent.save(tmp_path / "fixed.xlsx")
    fixed = import_register(tmp_path / "fixed.xlsx", strict=True)
    assert fixed.ok and not fixed.faults


def test_a_file_without_a_recognisable_header_is_refused(regions, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    result = import_register(path)
    assert not result.ok and "未找到表头" in result.problems[0].message


def test_an_unknown_village_is_an_error_naming_it(regions, tmp_path):
    rows = standard_rows()
    rows[0]["村"] = "不存在村"
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows))
    assert any("古绛镇不存在村" in p.message for p in result.problems)


def test_a_corrupt_workbook_is_refused_with_a_message(regions, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    result = import_register(path)
    assert not result.ok and "无法读取Excel文件" in result.problems[0].message


def test_reading_in_a_second_process_gives_the_same_register_and_problems(regions, tmp_path):
    rows = standard_rows()
    good = builders.write_xlsx(tmp_path / "a.xlsx", rows)
    assert import_register(good, parallel=True, chunk_size=2).ok
    assert Member.objects.count() == 5
    rows[4]["工资性收入"] = "不详"
    rows[3]["性别"] = "不详"
    bad = import_register(builders.write_csv(tmp_path / "b.csv", rows), parallel=True, chunk_size=2)
    again = import_register(tmp_path / "b.csv")
    assert [str(p) for p in bad.problems] == [str(p) for p in again.problems]
    assert [str(f.as_problem()) for f in bad.faults] == [str(f.as_problem()) for f in again.faults]
    assert bad.problems[0].row == 6 and bad.faults[0].row == 5


def test_dates_formatted_as_dates_in_excel_are_read_as_dates(regions, tmp_path):
    import xlsxwriter

    rows = standard_rows()
    path = tmp_path / "dates.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    header = list(rows[0])
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(header):
            value = row[name]
            if name == "出生日期":
                sheet.write_datetime(r, c, dt.datetime.fromisoformat(value), date_format)
            elif isinstance(value, int):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()
    result = import_register(path)
    assert result.ok, result.problems
    assert Member.objects.get(name="李秀英").birth_date == dt.date(1972, 5, 3)
