"""Hostile cells, generated: every cell parser gives a value or a clear refusal, never a traceback.

A county file can hold anything in a cell: text, an Excel number (also NaN or 1e300 from a formula),
a date cell, control characters, digits of other scripts, an ID typed into an amount. These tests
generate such cells with Hypothesis and state what each parser promises about them.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fangpin.common import cells
from fangpin.common.idnumber import CHECK_CHARS, check_char, make_id, mask_id, normalise_id
from fangpin.common.phone import LANDLINE, MOBILE, mask_phone, normalise_phone
from fangpin.registry.columns import ALL_COLUMNS, NUMBER_FIELDS, SMALL_INTEGER_MAX
from fangpin.registry.rows import CellPlan
from fangpin.registry.vocabularies import VOCABULARIES, shown

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DIGIT_RUN = re.compile(r"\d{7,}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# what a cell of a county file can hold, as the readers (calamine, the xlsx stream, csv) hand it over
junk_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from("\x00\x07\t\r\n\u200b\ufeff"),
    max_size=40,
)
numberish = st.from_regex(r"\A[ +\-]?[0-9０-９,，.eE]{1,30}(元|亩)?\Z", fullmatch=True)
formulas = st.sampled_from(["=SUM(A1:A9)", "+1", "-1", "@A1", "=1/0", "#DIV/0!", "#N/A", '=HYPERLINK("x")'])
datey = st.dates(min_value=dt.date(1, 1, 1)).map(lambda d: f"{d.year}年{d.month}月{d.day}日") | st.from_regex(
    r"\A\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\Z", fullmatch=True
)
any_cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    junk_text,
    numberish,
    formulas,
    datey,
    st.from_regex(r"\A[0-9]{6,20}[xX]?\Z", fullmatch=True),  # ID- and phone-like digit runs
)


def quoted_in_clear(message: str, raw: object) -> bool:
    """Whether the message carries seven digits in a row of what the cell held (an ID, a phone)."""
    digits = "".join(c if c.isdigit() else " " for c in cells.text(raw)).split()
    windows = {run[i : i + 7] for run in digits for i in range(len(run) - 6)}
    return any(window in message for window in windows)


def assert_clear_refusal(exc: Exception, raw: object) -> None:
    """A refusal a clerk can read: Chinese, and not quoting an ID or a phone in clear."""
    message = str(exc)
    assert CHINESE.search(message), message
    assert not quoted_in_clear(message, raw), message


# --- common.cells --------------------------------------------------------------------------------


@pytest.mark.parametrize("parse", [cells.text, cells.yes_no, cells.money, cells.integer, cells.date,
                                   cells.month, cells.split_list], ids=lambda f: f.__name__)  # fmt: skip
@FUZZ
@given(raw=any_cell)
@example(raw="1e30")  # quantize raised decimal.InvalidOperation
@example(raw=1e300)
@example(raw="13812345678")  # a phone in a date column was quoted in clear
@example(raw="张\x00三")  # U+0000 from an .xlsx failed the write on PostgreSQL
def test_every_cell_parser_gives_a_value_or_a_chinese_refusal_for_any_cell(parse, raw):
    try:
        value = parse(raw)
    except cells.CellError as exc:
        assert_clear_refusal(exc, raw)
        return
    assert "\x00" not in str(value)  # PostgreSQL holds U+0000 in neither text nor jsonb


@FUZZ
@given(raw=any_cell, signed=st.booleans())
def test_an_amount_has_cents_fits_decimal_precision_and_is_negative_only_when_allowed(raw, signed):
    try:
        value = cells.money(raw, allow_negative=signed)
    except cells.CellError:
        return
    if value is None:
        return
    assert value.as_tuple().exponent == -2
    assert abs(value) < Decimal(10) ** cells.MAX_NUMBER_DIGITS
    assert signed or value >= 0


@FUZZ
@given(amount=st.decimals(min_value=-(10**12), max_value=10**12, places=2))
def test_an_amount_written_with_separators_and_units_reads_back_exactly(amount):
    text = f"{amount:,}"
    assert cells.money(text, allow_negative=True) == amount
    assert cells.money(text.replace(",", "，") + "元", allow_negative=True) == amount
    assert cells.money(float(amount), allow_negative=True) == amount


@FUZZ
@given(day=st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_a_date_reads_back_from_every_spelling_a_county_file_uses(day):
    for spelling in (day, day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day:%Y%m%d}",
                     f"{day.year}年{day.month}月{day.day}日", f"{day.isoformat()} 00:00:00",
                     dt.datetime.combine(day, dt.time(8, 30))):  # fmt: skip
        assert cells.date(spelling) == day, spelling
    if day >= dt.date(1900, 3, 1):
        assert cells.date((day - cells.EXCEL_EPOCH).days) == day  # an Excel serial number
    if 1900 < day.year < 2200:
        assert cells.month(day) == cells.month(f"{day:%Y%m}") == f"{day:%Y%m}"


@FUZZ
@given(word=st.sampled_from(sorted(cells.YES | cells.NO)), case=st.sampled_from([str.lower, str.upper]))
def test_yes_and_no_words_read_in_any_case_and_width(word, case):
    full_width = word.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    expected = word in cells.YES
    assert cells.yes_no(case(word)) is expected
    assert cells.yes_no(f" {full_width} ") is expected


# --- common.idnumber -----------------------------------------------------------------------------

addresses = st.from_regex(r"\A[1-6][0-9]{5}\Z", fullmatch=True)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


@FUZZ
@given(raw=any_cell, disability=st.booleans())
@example(raw=float("nan"), disability=False)  # int(NaN) raised ValueError
@example(raw=float("inf"), disability=False)  # int(inf) raised OverflowError
@example(raw="1408261970010100\U00010a401", disability=False)  # int('𐩀') raised ValueError
@example(raw="١٤٠٨٢٦١٩٧٠٠١٠١٠٠١٣", disability=False)  # Arabic-Indic digits passed as a number
def test_any_id_cell_gives_a_valid_number_or_a_reason_that_never_quotes_it(raw, disability):
    result = normalise_id(raw, allow_disability_card=disability)
    if result.ok:
        value = result.value
        assert value.isascii() and len(value) in (18, 20)
        assert value[:17].isdigit() and value[17] == check_char(value[:17])
        assert cells.text(raw).upper().replace(" ", "").lstrip("'")[:15] == value[:15] or result.note
    else:
        assert result.fault and result.value == "" and "\x00" not in result.text
        assert CHINESE.search(result.error) and not quoted_in_clear(result.error, raw)


@FUZZ
@given(address=addresses, birth=births, sequence=sequences)
def test_a_valid_id_round_trips_in_every_form_a_clerk_types_it(address, birth, sequence):
    number = make_id(address, birth, sequence)
    full_width = number.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    for form in (number, number.lower(), f" {number[:6]} {number[6:]} ", f"'{number}", full_width):
        result = normalise_id(form)
        assert result.ok and result.value == number and not result.fault, form


@FUZZ
@given(address=addresses, birth=births.filter(lambda d: d.year < 2000), sequence=sequences)
def test_a_15_digit_number_converts_to_the_valid_18_digit_one(address, birth, sequence):
    number = make_id(address, birth, sequence)
    old = number[:6] + number[8:17]
    result = normalise_id(old)
    assert result.value == number and result.note and mask_id(number) in result.note
    assert normalise_id(result.value).ok


@FUZZ
@given(address=addresses, birth=births, sequence=sequences, position=st.integers(0, 17), data=st.data())
def test_a_single_mistyped_character_is_never_taken_for_a_valid_number(
    address, birth, sequence, position, data
):
    number = make_id(address, birth, sequence)
    alphabet = CHECK_CHARS if position == 17 else string.digits
    typo = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    assert not normalise_id(number[:position] + typo + number[position + 1 :]).ok


@FUZZ
@given(value=st.text(max_size=60))
def test_a_masked_id_shows_at_most_eight_characters_and_fits_its_column(value):
    masked = mask_id(value)
    assert len(masked) <= 24
    assert len(masked.replace("*", "")) <= min(8, len(value)) or set(value) & {"*"}
    if len(value) == 18:
        assert masked == value[:4] + "*" * 10 + value[-4:]


# --- common.phone --------------------------------------------------------------------------------

mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z", fullmatch=True)


@FUZZ
@given(raw=any_cell)
@example(raw=float("nan"))  # int(NaN) raised ValueError
@example(raw="١٣٨١٢٣٤٥٦٧٨")  # Arabic-Indic digits matched \d and were taken for a mobile
@example(raw="138123456789")  # the refusal quoted the number in clear
def test_any_phone_cell_gives_a_number_nothing_or_a_refusal_that_never_quotes_it(raw):
    value, error = normalise_phone(raw)
    assert not (value and error)
    if value:
        assert value.isascii() and (MOBILE.match(value) or LANDLINE.match(value))
    if error:
        assert CHINESE.search(error) and not quoted_in_clear(error, raw)


@FUZZ
@given(number=mobiles)
def test_a_mobile_round_trips_from_text_a_number_cell_and_with_the_country_code(number):
    full_width = number.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    for form in (number, int(number), float(number), f"+86{number}", f"{number[:3]} {number[3:7]} {number[7:]}",
                 full_width):  # fmt: skip
        assert normalise_phone(form) == (number, ""), form
    assert mask_phone(number) == number[:3] + "****" + number[-4:]


@FUZZ
@given(value=st.text(min_size=1, max_size=80))
def test_a_masked_phone_fits_its_column_and_hides_at_least_half_of_a_long_value(value):
    masked = mask_phone(value)
    assert len(masked) <= 20
    shown_chars = len(masked) - masked.count("*") + value.count("*")
    assert shown_chars <= 7 if len(value) == 11 else shown_chars <= max(5, len(value) // 2 + 1)


# --- registry: vocabularies and the per-row cell plan --------------------------------------------


@FUZZ
@given(target=st.sampled_from(sorted(VOCABULARIES)), raw=junk_text)
def test_a_vocabulary_reads_any_text_to_one_of_its_values_or_says_it_is_unknown(target, raw):
    vocabulary = VOCABULARIES[target]
    value, known = vocabulary.read(cells.text(raw))
    if not known:
        assert value == ""
    elif vocabulary.values and value:
        assert value in vocabulary.values


@pytest.mark.parametrize("target", sorted(t for t, v in VOCABULARIES.items() if v.values))
def test_every_canonical_value_reads_as_itself(target):
    vocabulary = VOCABULARIES[target]
    for value in vocabulary.values:
        assert vocabulary.read(value) == (value, True)


@FUZZ
@given(text=st.text(max_size=80))
def test_a_quoted_cell_is_short_and_never_holds_a_long_digit_run(text):
    quoted = shown(text)
    assert len(quoted) <= 21
    assert not DIGIT_RUN.search(quoted)


PLAN = CellPlan(list(enumerate(ALL_COLUMNS)), [])


@FUZZ
@given(values=st.lists(any_cell, min_size=0, max_size=len(ALL_COLUMNS)))
@example(values=["1000"] * len(ALL_COLUMNS))  # 务工时间 1000 failed the write (4 digits, 1 decimal)
@example(values=["9" * 18] * len(ALL_COLUMNS))  # an ID in every column
def test_any_row_reads_into_values_that_fit_their_database_columns(values):
    row = PLAN.read(7, values)
    for problem in row.problems:
        assert problem.row == 7 and problem.column
        assert CHINESE.search(problem.message), str(problem)
        assert not any(quoted_in_clear(str(problem), raw) for raw in values), str(problem)
    for fault in row.faults:
        assert not any(quoted_in_clear(fault.message + fault.shown, raw) for raw in values), fault
    refused = {p.column for p in row.problems}
    for column in ALL_COLUMNS:
        if column.label in refused or column.entity not in row.parsed:
            continue
        value = row.parsed[column.entity].get(column.field)
        if isinstance(value, str) and column.kind in ("text", "enum"):
            assert len(value) <= column.max_length, (column.label, value)
        if isinstance(value, Decimal | int) and not isinstance(value, bool) and column.largest is not None:
            assert abs(value) <= column.largest, (column.label, value)


def test_each_columns_bounds_match_the_database_field_it_is_written_to():
    """The limits the parsers check are the models' own: a drift would fail a write, not a cell."""
    from django.apps import apps

    models = {e: apps.get_model("registry", m) for e, m in
              (("household", "Household"), ("member", "Member"), ("income", "IncomeRecord"))}  # fmt: skip
    checked = 0
    for column in ALL_COLUMNS:
        model = models.get(column.entity)
        names = {f.name for f in model._meta.fields} if model else set()
        if column.field not in names:
            continue
        db_field = model._meta.get_field(column.field)
        if column.kind == "text" and column.target not in {t for t, v in VOCABULARIES.items() if v.values}:
            assert column.max_length <= db_field.max_length, column.label
        if column.kind in NUMBER_FIELDS:
            assert NUMBER_FIELDS[column.kind] == (db_field.max_digits, db_field.decimal_places), column.label
        if column.kind == "int":
            assert db_field.get_internal_type() == "PositiveSmallIntegerField" and SMALL_INTEGER_MAX == 32767
        checked += 1
    assert checked > 60


def test_a_number_beyond_its_column_is_refused_by_row_and_column_not_written():
    plan = CellPlan([(0, next(c for c in ALL_COLUMNS if c.target == "member.work_months"))], [])
    row = plan.read(5, ["1000"])
    assert [str(p) for p in row.problems] == ["第5行「务工时间（月）」列：数值过大（整数部分最多3位）"]
