"""Files the tests build: national-layout member files in every format a county really sends."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import xlsxwriter
import xlwt

from fangpin.common.idnumber import make_id

COUNTY = "140826000000"
TOWNSHIP_A, TOWNSHIP_B = "140826100000", "140826101000"
VILLAGE_A1, VILLAGE_A2, VILLAGE_B1 = "140826100201", "140826100202", "140826101201"
REGIONS = [
    ("140000000000", "山西省"),
    ("140800000000", "运城市"),
    (COUNTY, "绛县"),
    (TOWNSHIP_A, "古绛镇"),
    (TOWNSHIP_B, "横水镇"),
    (VILLAGE_A1, "东关村"),
    (VILLAGE_A2, "西街村"),
    (VILLAGE_B1, "柳庄村"),
]
VILLAGE_NAMES = {
    VILLAGE_A1: ("古绛镇", "东关村"),
    VILLAGE_A2: ("古绛镇", "西街村"),
    VILLAGE_B1: ("横水镇", "柳庄村"),
}

HEADER = [
    "县", "乡", "村", "户编号", "姓名", "证件号码", "证件类型", "与户主关系", "性别", "出生日期", "健康状况",
    "劳动技能", "在校生状况", "是否参加城乡居民基本医疗保险", "是否参加城镇职工基本医疗保险", "家庭成员联系电话",
    "户类型", "监测对象类别", "户联系电话", "年度家庭人口数", "工资性收入", "生产经营性收入", "财产性收入",
    "转移性收入", "生产经营性支出", "产业奖励", "人均纯收入（元）", "是否危房户", "是否解决安全饮用水",
]  # fmt: skip


def pid(seq: int, birth: dt.date = dt.date(1970, 1, 1), address: str = "140826") -> str:
    return make_id(address, birth, seq)


def family(
    household_no: str,
    village: str,
    people: list[tuple[str, str, str, str]],
    *,
    household_type: str = "一般农户",
    category: str = "",
    wage: int = 30000,
    business: int = 8000,
    expense: int = 3000,
    reported: str | None = None,
    phone: str = "13912345678",
) -> list[dict[str, object]]:
    """people: (name, id number, relation, gender). Income per household, repeated on each row."""
    township, village_name = VILLAGE_NAMES[village]
    size = len(people)
    net = wage + business - expense
    rows = []
    for name, id_number, relation, gender in people:
        rows.append({
            "县": "绛县", "乡": township, "村": village_name, "户编号": household_no, "姓名": name,
            "证件号码": id_number, "证件类型": "身份证", "与户主关系": relation, "性别": gender,
            "出生日期": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}", "健康状况": "健康",
            "劳动技能": "普通劳动力", "在校生状况": "", "是否参加城乡居民基本医疗保险": "是",
            "是否参加城镇职工基本医疗保险": "否", "家庭成员联系电话": phone if relation == "户主" else "",
            "户类型": household_type, "监测对象类别": category, "户联系电话": phone, "年度家庭人口数": size,
            "工资性收入": wage, "生产经营性收入": business, "财产性收入": 0, "转移性收入": 0,
            "生产经营性支出": expense, "产业奖励": 0,
            "人均纯收入（元）": reported if reported is not None else f"{net / size:.2f}",
            "是否危房户": "否", "是否解决安全饮用水": "是",
        })  # fmt: skip
    return rows


def standard_rows() -> list[dict[str, object]]:
    """Three households in three villages of two townships."""
    return (
        family("H001", VILLAGE_A1, [("张建国", pid(11), "户主", "男"), ("李秀英", pid(22, dt.date(1972, 5, 3)), "配偶", "女")])
        + family("H002", VILLAGE_A2, [("王强", pid(31, dt.date(1980, 2, 2)), "户主", "男")], household_type="脱贫户",
                 category="脱贫不稳定户", wage=4000, business=2000, expense=500, phone="13800001111")
        + family("H003", VILLAGE_B1, [("赵敏", pid(42, dt.date(1990, 3, 3)), "户主", "女"),
                                      ("赵小龙", pid(51, dt.date(2015, 6, 1)), "之子", "男")], phone="13700002222")
    )  # fmt: skip


def write_region_csv(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["区划代码", "名称"])
        writer.writerows(REGIONS)
    return path


def _table(rows: list[dict[str, object]], header: list[str] | None) -> list[list[object]]:
    header = header or list(rows[0])
    return [header] + [[row.get(h, "") for h in header] for row in rows]


def write_xlsx(
    path: Path,
    rows: list[dict[str, object]],
    *,
    titles: tuple[str, ...] = ("（自定义）户成员信息（2025年度）", "导出时间：2026-03-01"),
    header: list[str] | None = None,
    numeric_ids: bool = False,
    id_column: str = "证件号码",
) -> Path:
    """An .xlsx like the national export; numeric_ids writes IDs as Excel numbers (the classic damage)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    r = 0
    for title in titles:
        sheet.write_string(r, 0, title)
        r += 1
    table = _table(rows, header)
    id_col = table[0].index(id_column) if id_column in table[0] else -1
    for values in table:
        for c, value in enumerate(values):
            if numeric_ids and c == id_col and r > len(titles) and str(value).isdigit():
                sheet.write_number(r, c, float(value))
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value not in ("", None):
                sheet.write_string(r, c, str(value))
        r += 1
    workbook.close()
    return path


def write_xls(path: Path, rows: list[dict[str, object]], titles: tuple[str, ...] = ("户成员信息",)) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    r = 0
    for title in titles:
        sheet.write(r, 0, title)
        r += 1
    for values in _table(rows, None):
        for c, value in enumerate(values):
            sheet.write(r, c, value)
        r += 1
    book.save(str(path))
    return path


def write_csv(
    path: Path,
    rows: list[dict[str, object]],
    *,
    encoding: str = "utf-8",
    header: list[str] | None = None,
    titles: tuple[str, ...] = (),
) -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        for title in titles:
            writer.writerow([title])
        writer.writerows(_table(rows, header))
    return path


def reports_county() -> list[dict[str, object]]:
    """The four households the report tests count by hand: H001 and H004 in 东关村, H002 in 西街村
    (脱贫户), H003 in 柳庄村 of 横水镇; 2, 1, 2 and 3 people."""
    return (
        family("H001", VILLAGE_A1, [("张建国", pid(11), "户主", "男"), ("李秀英", pid(22, dt.date(1972, 5, 3)), "配偶", "女")])
        + family("H002", VILLAGE_A2, [("王强", pid(31, dt.date(1980, 2, 2)), "户主", "男")], household_type="脱贫户")
        + family("H003", VILLAGE_B1, [("赵敏", pid(42, dt.date(1990, 3, 3)), "户主", "女"),
                                      ("赵小龙", pid(51, dt.date(2015, 6, 1)), "之子", "男")])
        + family("H004", VILLAGE_A1, [("陈刚", pid(61, dt.date(1975, 1, 1)), "户主", "男"),
                                      ("刘芳", pid(72, dt.date(1976, 1, 1)), "配偶", "女"),
                                      ("陈小明", pid(81, dt.date(2000, 1, 1)), "之子", "男")], household_type="脱贫户")
    )  # fmt: skip
