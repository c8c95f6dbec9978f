"""No export turns a name, address or note into a live formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pytest
import xlsxwriter

from fangpin.audit.context import acting_as
from fangpin.common.safe_cells import csv_row, merge_text, write_cell
from fangpin.rectification import actions as rectification
from fangpin.rectification.exporter import export_ledger
from fangpin.registry.exporter import export_register
from fangpin.registry.importer import Problem, import_register
from fangpin.registry.models import Household, Member
from fangpin.registry.reports import write_error_report
from fangpin.rules.actions import run_screening
from fangpin.rules.exporter import export_findings
from fangpin.rules.models import Finding
from tests import builders

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2+3", "\t=1+1", "=1+1"]


def cells(path) -> list:
    # read_only=False: openpyxl then reads the cell types as written (data_type "f" for a formula)
    book = openpyxl.load_workbook(path)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_no_formula(path) -> list:
    found = cells(path)
    formulas = [(c.coordinate, c.value) for c in found if c.data_type == "f"]
    assert formulas == []
    return found


def texts(found: list) -> set:
    return {c.value for c in found if c.data_type == "s"}


def test_the_helper_is_what_makes_the_difference(tmp_path):
    """The failure the helper prevents is real: write() makes a formula of the same text."""
    path = tmp_path / "raw.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write(0, 0, HOSTILE[0])
    write_cell(sheet, 1, 0, HOSTILE[0])
    merge_text(sheet, 2, 0, 2, 3, HOSTILE[5], book.add_format({"bold": True}))
    write_cell(sheet, 3, 0, -2.5)
    book.close()
    found = {c.coordinate: c for c in cells(path)}
    assert found["A1"].data_type == "f"
    assert found["A2"].data_type == "s" and found["A2"].value == HOSTILE[0]
    assert found["A3"].data_type == "s" and found["A3"].value == HOSTILE[5]
    assert found["A4"].data_type == "n" and found["A4"].value == -2.5


def _hostile_register() -> None:
    for number, household in enumerate(Household.objects.order_by("household_no")):
        name = HOSTILE[number % len(HOSTILE)]
        Household.objects.filter(pk=household.pk).update(
            head_name=name, monitoring_contact=HOSTILE[(number + 1) % len(HOSTILE)], road_type="@SUM(A1)"
        )
        Member.objects.filter(household=household, relation="户主").update(name=name)


def test_the_register_export_writes_hostile_names_as_text_and_reads_back_exactly(
    register, county_admin, tmp_path
):
    _hostile_register()
    names_before = sorted(Member.objects.values_list("name", flat=True))
    with acting_as(county_admin, source="web"):
        export_register(tmp_path / "out.xlsx", user=county_admin, layout="monitoring", year=2025, full=True)
    found = assert_no_formula(tmp_path / "out.xlsx")
    assert {HOSTILE[0], "+1", "@SUM(A1)"} <= texts(found)
    assert any(c.data_type == "n" and c.value == 30000 for c in found), "income stays a number"
    # round trip: what we wrote is read back as the same text, no quote added
    Household.objects.all().delete()
    result = import_register(tmp_path / "out.xlsx")
    assert result.ok, [str(p) for p in result.problems]
    assert sorted(Member.objects.values_list("name", flat=True)) == names_before


def test_the_findings_export_writes_no_formula(register, county_admin, tmp_path):
    Member.objects.filter(name="王强").update(gender="女")  # DQ_GENDER_ID: a person-level finding
    run_screening(as_of=dt.date(2025, 6, 30))
    assert Finding.objects.exists()
    _hostile_register()
    Finding.objects.update(message=HOSTILE[0], period="-2+3")
    with acting_as(county_admin, source="web"):
        count = export_findings(tmp_path / "findings.xlsx", user=county_admin, params={})
    assert count >= 1
    found = assert_no_formula(tmp_path / "findings.xlsx")
    assert {HOSTILE[0], "-2+3", "+1"} <= texts(found)  # the note, the period, 王强's household head
    assert any(c.data_type == "n" and c.value == 1 for c in found), "序号 stays a number"


def test_the_rectification_ledger_writes_no_formula(county_staff, tmp_path):
    with acting_as(county_staff, source="web"):
        batch = rectification.create_batch(user=county_staff, name="=1+1", source="supervision",
                                           region=county_staff.region)  # fmt: skip
        rectification.add_item(
            user=county_staff, batch=batch, number=1, description=HOSTILE[0], region=county_staff.region,
            responsible_unit="+1", responsible_person="@SUM(A1)", deadline=dt.date(2027, 3, 1),
            measures="-2+3", progress="\t=1+1",
        )  # fmt: skip
        export_ledger(tmp_path / "ledger.xlsx", user=county_staff, batch=batch)
    found = assert_no_formula(tmp_path / "ledger.xlsx")
    assert {HOSTILE[0], "+1", "@SUM(A1)", "-2+3", "\t=1+1"} <= texts(found)
    assert any(str(c.value).startswith("=1+1整改台账") for c in found)


def test_the_error_workbook_copies_hostile_cells_as_text(tmp_path):
    rows = builders.standard_rows()
    rows[0]["姓名"] = HOSTILE[0]
    rows[1]["姓名"] = "-2+3"
    source = builders.write_xlsx(tmp_path / "in.xlsx", rows)
    target = write_error_report(source, [Problem(4, "姓名", "=SUM(A1)")], tmp_path / "errors.xlsx")
    found = assert_no_formula(target)
    assert {HOSTILE[0], "-2+3"} <= texts(found)


def test_csv_cells_that_a_spreadsheet_would_evaluate_get_a_quote(tmp_path):
    """CSV has no cell types, so the text itself must not start a formula (OWASP: a leading quote);
    numbers, negative ones included, stay numbers."""
    path = tmp_path / "out.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerow(csv_row([*HOSTILE, "张三", -2, 1234.5, None]))
    with open(path, newline="", encoding="utf-8-sig") as fh:
        written = next(csv.reader(fh))
    assert all(cell.startswith("'") for cell in written[: len(HOSTILE)])
    assert written[len(HOSTILE) :] == ["张三", "-2", "1234.5", ""]
