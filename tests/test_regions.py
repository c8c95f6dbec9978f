from __future__ import annotations

import pytest
import xlsxwriter

from fangpin.regions.actions import RegionTableError, load_region_file
from fangpin.regions.models import Level, Region, code_range, level_of
from tests import builders

pytestmark = pytest.mark.django_db


def test_the_region_table_loads_from_excel_with_its_tree_and_full_names(tmp_path):
    path = tmp_path / "区划.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["2023年统计用区划代码"])
    sheet.write_row(1, 0, ["统计用区划代码", "名称", "城乡分类代码"])
    for row, (code, name) in enumerate(builders.REGIONS, start=2):
        sheet.write_row(row, 0, [code, name, "220"])
    workbook.close()
    result = load_region_file(path)
    assert result.created == len(builders.REGIONS)
    village = Region.objects.get(code=builders.VILLAGE_A1)
    assert village.level == Level.VILLAGE and village.parent.code == builders.TOWNSHIP_A
    assert str(village) == "绛县古绛镇东关村"
    assert load_region_file(path).unchanged == len(builders.REGIONS)


def test_a_region_whose_parent_is_missing_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("区划代码,名称\n140826100201,东关村\n", encoding="utf-8")
    with pytest.raises(RegionTableError, match="上级 140826100000"):
        load_region_file(path)
    assert not Region.objects.exists()


def test_codes_are_read_by_level_and_scoped_by_range():
    assert [level_of(c) for c in ("140000000000", "140800000000", "140826000000", "140826100000", "140826100201")] == [
        Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE,
    ]  # fmt: skip
    assert code_range("140826100") == ("140826100000", "140826100999")
