"""Hostile files, generated: the register, roster and inspection-list importers refuse clearly or import
correctly, never crash and never leave half a file in the database.

Hypothesis builds real files (.xlsx through xlsxwriter, CSV in UTF-8, UTF-8 with BOM and GBK/GB18030,
raw bytes under a table's name) from the real column names and junk, with good rows mutated cell by
cell into control characters, huge numbers, dates, formulas and other scripts' digits. Each example
runs in a savepoint rolled back at its end, so every file meets the same empty register.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import re
import tempfile
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from django.db import transaction
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from fangpin.audit.models import AuditEntry
from fangpin.common import cells
from fangpin.common.idnumber import UNUSABLE_FAULTS, make_id, normalise_id
from fangpin.feeds import actions as feeds
from fangpin.feeds.importer import import_roster
from fangpin.feeds.kinds import KINDS
from fangpin.feeds.models import Roster, RosterRecord
from fangpin.rectification import actions as rectification
from fangpin.rectification.importer import COLUMNS as LIST_COLUMNS
from fangpin.rectification.importer import import_list
from fangpin.rectification.models import Item
from fangpin.registry.columns import ALL_COLUMNS
from fangpin.registry.importer import import_register
from fangpin.registry.models import Household, IncomeRecord, Member
from fangpin.registry.rows import is_blank
from fangpin.registry.vocabularies import VOCABULARIES
from tests import builders

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")

junk_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from("\x00\x07\t\r\n\u200b\ufeff"),
    max_size=30,
)
junk_cell = st.one_of(
    junk_text,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.booleans(),
    st.sampled_from(["=SUM(A1:A3)", "=1/0", "+1", "@A1", "#N/A", "1e30", "١٢٣", "９９９", "", "   ", "\x1c"]),
    st.from_regex(r"\A[0-9]{15,20}\Z", fullmatch=True),
)
key_junk = st.one_of(junk_text, st.from_regex(r"\A[0-9]{15,20}[xX]?\Z", fullmatch=True))  # text only
HOSTILE_RATES = st.sampled_from([0, 40, 10, 3])  # one cell in N is hostile (0: none)
FORMATS = ("xlsx", "csv-utf-8", "csv-utf-8-sig", "csv-gbk")


@contextlib.contextmanager
def rolled_back():
    """One example's database work, undone at its end (the test's own transaction stays open)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def write_table(directory: Path, fmt: str, table: list[list[object]], keys: set[int]) -> Path:
    """The table as a real file; columns in `keys` are always written as text cells."""
    if fmt == "xlsx":
        path = directory / "file.xlsx"
        workbook = xlsxwriter.Workbook(
            str(path), {"nan_inf_to_errors": True, "default_date_format": "yyyy-mm-dd"}
        )
        sheet = workbook.add_worksheet()
        for r, values in enumerate(table):
            for c, value in enumerate(values):
                if value is None or value == "":
                    continue
                if c in keys or r == 0:
                    sheet.write_string(r, c, str(value))
                elif isinstance(value, int) and not isinstance(value, bool):
                    sheet.write_number(r, c, float(value))
                else:
                    sheet.write(r, c, value)  # "=…" becomes a formula without a cached value
        workbook.close()
        return path
    encoding = {"csv-utf-8": "utf-8", "csv-utf-8-sig": "utf-8-sig", "csv-gbk": "gbk"}[fmt]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["" if v is None else str(v) for v in values] for values in table])
    text = buffer.getvalue()
    path = directory / "file.csv"
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:  # what GBK cannot hold, Excel on a Chinese Windows writes as GB18030
        path.write_bytes(text.encode("gb18030"))
    return path


def mutated(draw, rate: int, good: object, junk: st.SearchStrategy) -> object:
    return draw(junk) if rate and draw(st.integers(1, rate)) == 1 else good


def with_required(draw, labels: list[str], required: list[str]) -> list[str]:
    """Most files carry the columns an import needs (else every example is the same refusal)."""
    if draw(st.integers(0, 3)):
        labels = [label for label in labels if label not in required] + required
    return draw(st.permutations(labels))


def cell_text(value: object) -> str:
    return "" if value is None else cells.text(str(value))


def assert_clear_problems(problems: list) -> None:
    event("refused")
    assert problems
    for problem in problems:
        assert problem.row >= 1 and CHINESE.search(problem.message), str(problem)


# --- the register import -------------------------------------------------------------------------

REGISTER_LABELS = sorted(
    {c.label for c in ALL_COLUMNS if c.target not in ("member.person_no", "region.code", "household.head_id")}
)
REQUIRED = ["乡", "村", "户编号", "姓名", "证件号码", "与户主关系"]


@st.composite
def register_files(draw):
    """A header of real and junk labels, and rows of good values of three households, mutated."""
    labels = draw(st.lists(st.sampled_from(REGISTER_LABELS) | junk_text, max_size=14, unique=True))
    labels = with_required(draw, labels, REQUIRED)
    people = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 999)), min_size=1, max_size=8))
    rate = draw(HOSTILE_RATES)
    villages = [builders.VILLAGE_A1, builders.VILLAGE_A2, builders.VILLAGE_B1]
    good = []
    for i, (household, sequence) in enumerate(people):
        number = make_id("140826", dt.date(1960 + household, 1 + i % 12, 1), sequence)
        relation = "户主" if all(h != household for h, _ in people[:i]) else "之子"
        good += builders.family(f"H{household}", villages[household], [(f"人{i}", number, relation, "男")])
    table: list[list[object]] = [list(labels)]
    for row in good:
        values = []
        for label in labels:
            junk = key_junk if label in ("户编号", "证件号码") else junk_cell
            values.append(mutated(draw, rate, row.get(label, ""), junk))
        table.append(values)
        if draw(st.integers(0, 5)) == 0:
            table.append([""] * len(labels))  # an empty row between
    titles = draw(
        st.lists(
            st.sampled_from(["（自定义）户成员信息（2025年度）", "导出时间：2026-03-01", ""]), max_size=2
        )
    )
    return [[t] for t in titles] + table, {labels.index(k) for k in ("户编号", "证件号码") if k in labels}


def expected_register(table: list[list[object]]) -> tuple[set[str], set[str]]:
    """The households and people a correct import of this table holds (it was accepted: every row is
    placed and every ID names somebody)."""
    header = next(values for values in table if "户编号" in values or "证件号码" in values)
    rows = table[table.index(header) + 1 :]
    position = {label: i for i, label in enumerate(header)}
    households, people = set(), set()
    id_types = VOCABULARIES["member.id_type"]
    for values in rows:
        if is_blank([None if v == "" else v for v in values]):
            continue
        if (key := cell_text(values[position["户编号"]])) != "":
            households.add(key)
        id_type = id_types.read(cell_text(values[position["证件类型"]]))[0] if "证件类型" in position else ""
        raw = values[position["证件号码"]]
        result = normalise_id(str(raw), allow_disability_card=id_type == "残疾人证")
        if cell_text(raw) and result.fault not in UNUSABLE_FAULTS:
            people.add((result.value or result.text)[:18])
    return households, people


def database_counts() -> tuple[int, int, int, int]:
    return (
        Household.objects.count(),
        Member.objects.count(),
        IncomeRecord.objects.count(),
        AuditEntry.objects.count(),
    )


@FUZZ
@given(drawn=register_files(), fmt=st.sampled_from(FORMATS))
def test_a_generated_register_file_is_refused_clearly_or_imported_with_the_counts_it_holds(
    regions, drawn, fmt
):
    table, keys = drawn
    note(f"{fmt}: {table!r}")
    with tempfile.TemporaryDirectory() as directory, rolled_back():
        path = write_table(Path(directory), fmt, table, keys)
        before = database_counts()
        result = import_register(path)
        if not result.ok:
            assert_clear_problems(result.problems)
            assert database_counts() == before, "a refused file left rows behind"
            return
        event("imported")
        households, people = expected_register(table)
        assert Household.objects.count() == result.households.created == len(households)
        assert Member.objects.count() == result.members.created == len(people)
        assert IncomeRecord.objects.count() == result.incomes.created <= len(households)
        stored = register_state()
        again = import_register(path)  # the same file again creates nothing and leaves the same register
        assert again.ok, [str(p) for p in again.problems]
        assert (again.households.created, again.members.created, again.members.updated) == (0, 0, 0)
        assert register_state() == stored
        # not asserted: households.updated == 0 (see the xfail test below: a late fault is cleared and set again)


def register_state() -> list:
    households = Household.objects.order_by("household_no").values_list(
        "household_no", "region_code", "value_faults"
    )
    members = Member.objects.order_by("id_number_hash").values_list(
        "id_number_hash", "name", "relation", "value_faults"
    )
    return [list(households), list(members)]


@pytest.mark.xfail(
    strict=True,
    reason="importer: a household_inconsistent fault is cleared row by row and set again "
    "at the end, so re-importing the same file counts an update and writes two audit entries",
)
def test_reimporting_a_file_whose_household_rows_disagree_changes_and_audits_nothing(regions, tmp_path):
    """Found by the generated files (on PostgreSQL; the same on SQLite): H0's rows differ in one column."""
    table = [["乡", "与户主关系", "村", "户编号", "姓名", "与村主干路距离", "证件号码"],
             ["古绛镇", "户主", "东关村", "H0", "人0", "", "140826196001010004"],
             ["古绛镇", "", "东关村", "H0", "人1", "0", "140826196002010006"]]  # fmt: skip
    path = write_table(tmp_path, "csv-utf-8", table, set())
    assert import_register(path).ok
    entries = AuditEntry.objects.count()
    again = import_register(path)
    assert again.ok and again.households.updated == 0 and AuditEntry.objects.count() == entries


def damaged(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    data = bytearray(data[: max(cut, 1)])
    for position, byte in flips:
        data[position % len(data)] = byte
    return bytes(data)


@functools.cache
def good_workbook() -> bytes:
    """Built once: xlsxwriter stamps the time into each file, and Hypothesis wants the same bytes."""
    with tempfile.TemporaryDirectory() as directory:
        return builders.write_xlsx(Path(directory) / "good.xlsx", builders.standard_rows()).read_bytes()


@st.composite
def hostile_bytes(draw):
    """Random bytes, a zip of junk parts, or a real workbook cut short and with bytes flipped."""
    kind = draw(st.sampled_from(["random", "zip", "damaged", "gbk"]))
    if kind == "random":
        return draw(st.binary(max_size=3000))
    if kind == "gbk":  # a CSV of real headers whose bytes mix GBK, UTF-8 and junk
        header = ",".join(builders.HEADER[:8])
        parts = draw(st.lists(st.sampled_from([header.encode("gbk"), header.encode("utf-8"), b"\xff\xfe", b"\x00",
                                               b"\r", b"\n", b'"', "张三".encode("gbk"), b"\xe5\xbc"]),
                              max_size=30))  # fmt: skip
        return b"".join(parts)
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in draw(st.lists(st.sampled_from(["[Content_Types].xml", "xl/workbook.xml",
                                                       "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                                       "xl/_rels/workbook.xml.rels"]), unique=True)):  # fmt: skip
                archive.writestr(name, draw(st.binary(max_size=200)) or b"<x/>")
        return buffer.getvalue()
    good = good_workbook()
    flips = draw(st.lists(st.tuples(st.integers(0, len(good)), st.integers(0, 255)), max_size=4))
    return damaged(good, draw(st.integers(1, len(good))), flips)


@FUZZ
@given(data=hostile_bytes(), suffix=st.sampled_from([".xlsx", ".xls", ".csv", ".txt", ".xlsm"]))
def test_any_bytes_under_a_tables_name_are_refused_with_a_chinese_reason_and_nothing_written(
    regions, data, suffix
):
    with tempfile.TemporaryDirectory() as directory, rolled_back():
        path = Path(directory) / f"upload{suffix}"
        path.write_bytes(data)
        before = database_counts()
        result = import_register(path)
        if result.ok:  # a cut that kept whole rows of a real workbook: a correct import of those rows
            assert Member.objects.count() == result.members.created <= 5
            return
        assert_clear_problems(result.problems)
        assert database_counts() == before


# --- the department roster import ----------------------------------------------------------------

MEDICAL = KINDS["medical"]
ROSTER_LABELS = sorted({name for f in MEDICAL.fields for name in (f.name, *f.synonyms)})


@st.composite
def roster_files(draw):
    labels = draw(st.lists(st.sampled_from(ROSTER_LABELS) | junk_text, min_size=1, max_size=10, unique=True))
    labels = with_required(draw, labels, ["身份证号码", "结算时间", "个人负担"])
    rate = draw(HOSTILE_RATES)
    good = {"身份证号码": builders.pid(11), "参保人姓名": "张三", "结算时间": "2025/3/5", "总费用": "40,000",
            "统筹支付": "15000", "个人负担": "25000元"}  # fmt: skip
    table: list[list[object]] = [["县医保局结算月报"], list(labels)]
    for _ in range(draw(st.integers(0, 6))):
        table.append([mutated(draw, rate, good.get(label, ""), junk_cell) for label in labels])
    return table


@FUZZ
@given(table=roster_files(), fmt=st.sampled_from(FORMATS))
def test_a_generated_roster_is_refused_clearly_or_every_row_is_kept(register, department_officer, table, fmt):
    with tempfile.TemporaryDirectory() as directory, rolled_back():
        # every cell is a text cell here: an unevaluated formula reads back empty, so the row count holds
        path = write_table(Path(directory), fmt, table, set(range(len(table[1]))))
        roster = Roster.objects.create(kind="medical", source="县医保局", period="202503", file_name=path.name,
                                       uploaded_by=department_officer, file_path=str(path))  # fmt: skip
        if (reason := feeds.read_header(roster)) is not None:  # no header: the roster is rejected, in Chinese
            event("refused")
            assert CHINESE.search(reason) and not RosterRecord.objects.exists()
            return
        result = import_roster(roster)
        if not result.ok:
            assert_clear_problems(result.problems)
            assert not RosterRecord.objects.exists()
            return
        event("imported")
        data_rows = [
            values for number, values in enumerate(table, start=1)
            if number > roster.header_row and not is_blank([None if v == "" else str(v) for v in values])
        ]  # fmt: skip
        assert (
            RosterRecord.objects.count() == result.rows == len(data_rows) == result.matched + result.unmatched
        )


# --- the inspection list of the rectification ledger ---------------------------------------------

LIST_LABELS = sorted({name for c in LIST_COLUMNS for name in (c.label, *c.synonyms)})
GOOD_ITEM = {"序号": "1", "问题描述": "帮扶措施与风险类型不匹配", "问题类别": "帮扶措施", "乡镇": "古绛镇",
             "村": "", "责任单位": "古绛镇人民政府", "责任人": "王镇长", "整改时限": "2026年12月31日",
             "整改措施": "逐户核对", "关联规则": "DQ_MEASURE_FOR_ILLNESS"}  # fmt: skip


@st.composite
def inspection_lists(draw):
    labels = draw(st.lists(st.sampled_from(LIST_LABELS) | junk_text, min_size=1, max_size=10, unique=True))
    labels = with_required(draw, labels, list(GOOD_ITEM))
    table: list[list[object]] = [["省督导组反馈问题清单"], list(labels)]
    junk = junk_cell | st.text(alphabet="问题整改", min_size=60, max_size=200)
    rate = draw(HOSTILE_RATES)
    for i in range(draw(st.integers(0, 6))):
        good = {**GOOD_ITEM, "序号": str(i + 1)}
        table.append([mutated(draw, rate, good.get(label, ""), junk) for label in labels])
    return table


@FUZZ
@given(table=inspection_lists(), fmt=st.sampled_from(FORMATS))
def test_a_generated_inspection_list_is_refused_clearly_or_every_row_becomes_an_item(
    county_staff, table, fmt
):
    with tempfile.TemporaryDirectory() as directory, rolled_back():
        batch = rectification.create_batch(user=county_staff, name="督导反馈", source="supervision",
                                           region=county_staff.region)  # fmt: skip
        path = write_table(Path(directory), fmt, table, set(range(len(table[1]))))
        result = import_list(user=county_staff, batch=batch, path=str(path))
        if not result.ok:
            assert_clear_problems(result.problems)
            assert not Item.objects.exists()
            return
        event("imported")
        written = [v for v in table[2:] if not is_blank([None if x == "" else str(x) for x in v])]
        assert Item.objects.count() == result.created == len(written)
        for item in Item.objects.all():
            item.full_clean()  # every value fits its column (PostgreSQL would have refused the write)


def list_file(directory: Path, numbers: list[str]) -> str:
    table = [list(GOOD_ITEM)] + [[{**GOOD_ITEM, "序号": n}[k] for k in GOOD_ITEM] for n in numbers]
    return str(write_table(directory, "csv-utf-8", table, set()))


def test_an_inspection_list_numbering_two_rows_alike_is_refused_by_row_not_a_database_error(
    county_staff, tmp_path
):
    """Found by the generated lists: two rows with 序号 1 failed the write on the (batch, number) constraint."""
    batch = rectification.create_batch(user=county_staff, name="督导反馈", source="supervision",
                                       region=county_staff.region)  # fmt: skip
    result = import_list(user=county_staff, batch=batch, path=list_file(tmp_path, ["1", "1", "99999999999"]))
    assert not result.ok and not Item.objects.exists()
    assert [str(p) for p in result.problems] == ["第3行「序号」列：序号1与第2行重复",
                                                 "第4行「序号」列：应为1到2147483647之间的整数"]  # fmt: skip


def test_rows_without_a_number_follow_the_numbers_the_list_and_the_batch_already_hold(county_staff, tmp_path):
    """Found by the generated lists: an unnumbered row took 本批次条数+1, which a later row could hold."""
    batch = rectification.create_batch(user=county_staff, name="督导反馈", source="supervision",
                                       region=county_staff.region)  # fmt: skip
    assert import_list(user=county_staff, batch=batch, path=list_file(tmp_path, ["", "1"])).ok
    assert sorted(Item.objects.values_list("number", flat=True)) == [1, 2]
    again = import_list(user=county_staff, batch=batch, path=list_file(tmp_path, ["2", ""]))
    assert [str(p) for p in again.problems] == ["第2行「序号」列：序号2本批次已有该序号的问题"]
    assert import_list(user=county_staff, batch=batch, path=list_file(tmp_path, ["", "7"])).ok
    assert sorted(Item.objects.values_list("number", flat=True)) == [1, 2, 7, 8]
