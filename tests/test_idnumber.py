import datetime as dt

import pytest

from fangpin.common import cells
from fangpin.common.idnumber import check_char, mask_id, normalise_id
from fangpin.common.phone import mask_phone, normalise_phone
from tests.builders import pid


def test_a_valid_id_passes_and_keeps_its_check_character():
    value = pid(11)
    assert normalise_id(value).value == value


def test_the_gb11643_check_digit_is_validated():
    value = pid(11)
    wrong = value[:17] + ("0" if value[17] != "0" else "1")
    assert "校验位错误" in normalise_id(wrong).error


def test_a_known_example_has_the_published_check_character():
    assert check_char("11010519491231002") == "X"


def test_a_lower_case_x_and_full_width_digits_are_normalised():
    value = pid(11, dt.date(1949, 12, 31), "110105")
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c.lower() for c in value)
    assert normalise_id(full_width).value == value


def test_an_id_excel_stored_as_a_number_is_reported_not_repaired():
    result = normalise_id(1.40826197001011e17)
    assert not result.ok and "Excel" in result.error


def test_scientific_notation_text_is_reported():
    assert "科学计数法" in normalise_id("1.40826E+17").error


def test_trailing_zeros_from_excel_truncation_are_reported():
    value = pid(11)[:15] + "000"
    assert check_char(value[:17]) != "0"  # the damaged number does not validate by chance
    assert "Excel截断" in normalise_id(value).error


def test_a_15_digit_id_is_converted_to_18_digits_and_the_conversion_is_noted():
    result = normalise_id("140826700101111")
    assert result.ok and result.value == pid(111, dt.date(1970, 1, 1))[:17] + result.value[17]
    assert len(result.value) == 18 and "转换" in result.note


def test_a_20_character_disability_card_number_is_accepted_only_where_the_type_says_so():
    card = pid(11) + "42"
    assert normalise_id(card, allow_disability_card=True).value == card
    assert not normalise_id(card).ok
    assert not normalise_id(pid(11) + "92", allow_disability_card=True).ok


def test_placeholder_and_impossible_birth_dates_are_rejected():
    assert "占位" in normalise_id("999999197001011234").error
    assert "出生日期" in normalise_id("140826197013011234").error


def test_masks_show_only_prefix_and_suffix():
    assert mask_id(pid(11)) == pid(11)[:4] + "*" * 10 + pid(11)[-4:]
    assert mask_phone("13912345678") == "139****5678"


def test_phones_are_validated():
    assert normalise_phone("139 1234 5678") == ("13912345678", "")
    assert normalise_phone("1391234567")[1]
    assert normalise_phone(13912345678.0) == ("13912345678", "")


@pytest.mark.parametrize(
    "raw", ["2024-03-05", "2024/3/5", "20240305", "2024年3月5日", 45356, dt.datetime(2024, 3, 5, 0, 0)]
)
def test_every_date_form_of_the_formats_is_read(raw):
    assert cells.date(raw) == dt.date(2024, 3, 5)


@pytest.mark.parametrize("raw", ["202403", "2024-03", "2024年3月", 202403])
def test_the_national_month_form_is_read(raw):
    assert cells.month(raw) == "202403"


def test_yes_no_keeps_empty_as_unknown():
    assert [cells.yes_no(v) for v in ("是", "N", 1, "√", "×", "", None)] == [
        True,
        False,
        True,
        True,
        False,
        None,
        None,
    ]
    with pytest.raises(cells.CellError):
        cells.yes_no("也许")


def test_money_accepts_separators_and_units_and_refuses_negatives_unless_allowed():
    assert str(cells.money("12,345.5元")) == "12345.50"
    with pytest.raises(cells.CellError):
        cells.money("-100")
    assert str(cells.money("-100", allow_negative=True)) == "-100.00"
