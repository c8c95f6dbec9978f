"""Population files as a county really receives them: the 公安 户籍 export and a village's 花名册.

The 户籍 export: two title rows (the unit and the export time), one row per person, 公安's own column
names and wording (妻, 长子, 东关村村民委员会), town residents (非农业, 居委会) and cancelled people
mixed in. The 花名册: a merged title naming the township and village, a second title row, 序号 and
组别 written on the head's row only (组别 merged down the household), a blank row between
households, and the 家庭人口 on the head's row.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import xlsxwriter
import xlwt

from tests.builders import pid

HUJI_HEADER = [
    "户号", "姓名", "公民身份号码", "与户主关系", "性别", "民族", "出生日期", "户籍地址", "所属乡镇/街道",
    "所属村(居)委会", "户籍类别", "注销状态",
]  # fmt: skip
HUJI_TITLES = ("绛县公安局户籍人口信息（农村）", "导出单位：绛县公安局治安大队    导出时间：2026-03-02 09:15")
ROSTER_HEADER = ["序号", "组别", "户主姓名", "姓名", "身份证号", "与户主关系", "性别", "出生日期", "联系电话",
                 "家庭人口", "备注"]  # fmt: skip

# people the national export does not hold (see tests.builders.standard_rows for those it does)
SUN = pid(101, dt.date(1958, 4, 12))
SUN_WIFE = pid(102, dt.date(1960, 9, 1))
SUN_SON = pid(103, dt.date(1985, 1, 20))
ZHOU = pid(111, dt.date(1972, 11, 30))
ZHOU_DAUGHTER = pid(112, dt.date(2001, 7, 7))
MA = pid(121, dt.date(1949, 2, 2))
TOWNSMAN = pid(131, dt.date(1980, 5, 5))
DECEASED = pid(141, dt.date(1930, 1, 1))
NEIGHBOURHOOD = pid(151, dt.date(1990, 6, 6))
ZHANG = pid(11)  # 张建国, head of the national household H001
LI = pid(22, dt.date(1972, 5, 3))  # 李秀英, his wife in H001
NEWBORN = pid(161, dt.date(2025, 12, 1))  # 张建国's grandchild, not (yet) in the national export


def _birth(id_number: str) -> str:
    return f"{id_number[6:10]}{id_number[10:12]}{id_number[12:14]}"


def huji_person(number: str, name: str, id_number: str, relation: str, gender: str, village: str, *,
                township: str = "古绛镇", ethnicity: str = "汉族", category: str = "农业家庭户口",
                cancelled: str = "正常") -> dict[str, object]:  # fmt: skip
    return {
        "户号": number, "姓名": name, "公民身份号码": id_number, "与户主关系": relation, "性别": gender,
        "民族": ethnicity, "出生日期": _birth(id_number), "户籍地址": f"山西省绛县{township}{village}{number[-3:]}号",
        "所属乡镇/街道": township, "所属村(居)委会": village, "户籍类别": category, "注销状态": cancelled,
    }  # fmt: skip


def huji_rows() -> list[dict[str, object]]:
    """Three rural 户 of three villages, two of them new to the register; 张建国's 户 (national H001)
    with a grandchild the national export lacks; a town resident, a cancelled person, a 居委会."""
    return [
        huji_person("140826000101", "孙茂林", SUN, "户主", "男", "东关村村民委员会"),
        huji_person("140826000101", "郭秀兰", SUN_WIFE, "妻", "女", "东关村村民委员会"),
        huji_person("140826000101", "孙志强", SUN_SON, "长子", "男", "东关村村民委员会"),
        huji_person("140826000102", "周桂芳", ZHOU, "户主", "女", "西街村委会", ethnicity="回族"),
        huji_person("140826000102", "周婷", ZHOU_DAUGHTER, "长女", "女", "西街村委会", ethnicity="回族"),
        huji_person("140826000201", "马德胜", MA, "户主", "男", "柳庄村", township="横水镇"),
        huji_person("140826000103", "张建国", ZHANG, "户主", "男", "东关村村民委员会", ethnicity="汉族"),
        huji_person("140826000103", "李秀英", LI, "妻", "女", "东关村村民委员会", ethnicity="汉族"),
        huji_person("140826000103", "张小宝", NEWBORN, "孙子", "男", "东关村村民委员会"),
        huji_person("140826000301", "钱进", TOWNSMAN, "户主", "男", "东关村村民委员会", category="非农业家庭户口"),
        huji_person("140826000104", "吴老汉", DECEASED, "户主", "男", "东关村村民委员会", cancelled="死亡注销"),
        huji_person("140826000401", "郑丽", NEIGHBOURHOOD, "户主", "女", "城关社区居委会"),
    ]  # fmt: skip


def _table(rows: list[dict[str, object]], header: list[str]) -> list[list[object]]:
    return [header] + [[row.get(h, "") for h in header] for row in rows]


def write_huji_xlsx(path: Path, rows: list[dict[str, object]], *, numeric_ids: bool = False,
                    header: list[str] | None = None) -> Path:  # fmt: skip
    """An .xlsx as the 公安 export saves it; numeric_ids: the IDs became Excel numbers (the damage)."""
    header = header or HUJI_HEADER
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("户籍人口")
    sheet.merge_range(0, 0, 0, len(header) - 1, HUJI_TITLES[0])
    sheet.write_string(1, 0, HUJI_TITLES[1])
    id_col = header.index("公民身份号码") if "公民身份号码" in header else -1
    for r, values in enumerate(_table(rows, header), start=2):
        for c, value in enumerate(values):
            if numeric_ids and c == id_col and r > 2 and str(value).isdigit():
                sheet.write_number(r, c, float(value))
            elif value not in ("", None):
                sheet.write_string(r, c, str(value))
    workbook.close()
    return path


def write_huji_csv(path: Path, rows: list[dict[str, object]], *, encoding: str = "gbk") -> Path:
    """A CSV as Excel on a Chinese Windows machine saves it: GBK, the titles in the first column."""
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        for title in HUJI_TITLES:
            writer.writerow([title])
        writer.writerow([])
        writer.writerows(_table(rows, HUJI_HEADER))
    return path


def write_huji_xls(path: Path, rows: list[dict[str, object]]) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("户籍人口")
    sheet.write_merge(0, 0, 0, len(HUJI_HEADER) - 1, HUJI_TITLES[0])
    sheet.write(1, 0, HUJI_TITLES[1])
    for r, values in enumerate(_table(rows, HUJI_HEADER), start=2):
        for c, value in enumerate(values):
            sheet.write(r, c, value)
    book.save(str(path))
    return path


# a 花名册 household: (组别, [(name, id, relation, gender, phone)]); 序号 counts households
RosterHousehold = tuple[str, list[tuple[str, str, str, str, str]]]
HAN = pid(201, dt.date(1966, 3, 3))
HAN_WIFE = pid(202, dt.date(1968, 8, 8))
HAN_GRANDSON = pid(203, dt.date(2012, 2, 29))
FENG = pid(211, dt.date(1955, 10, 10))
FENG_OLD15 = f"{FENG[:6]}{FENG[8:17]}"  # the same man's 15-digit ID, as an old roster still has it


def roster_households() -> list[RosterHousehold]:
    """东关村: 韩 (3 people), 冯 (alone, written with his old 15-digit ID), and 张建国 of the national
    H001, whose phone the national export lacks (it has one: the roster's must not replace it)."""
    return [
        ("一组", [("韩卫东", HAN, "户主", "男", "13935912345"), ("冯玉梅", HAN_WIFE, "配偶", "女", ""),
                  ("韩小龙", HAN_GRANDSON, "孙子", "男", "")]),
        ("二组", [("冯老四", FENG_OLD15, "户主", "男", "0359-6512345")]),
        ("二组", [("张建国", ZHANG, "户主", "男", "13600000000"), ("李秀英", LI, "配偶", "女", "13711112222")]),
    ]  # fmt: skip


def write_roster_xlsx(path: Path, households: list[RosterHousehold], *, title: str = "古绛镇东关村村民花名册",
                      unit: str = "东关村村民委员会", id_as_number: str = "") -> Path:  # fmt: skip
    """A village's .xlsx: the title merged across the sheet, 序号/组别/户主姓名/家庭人口 on the head's
    row only (组别 merged down the household), a blank row after each household. `id_as_number`: that
    person's ID was typed in as a number (Excel shows 4.20106E+17)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("花名册")
    sheet.merge_range(0, 0, 0, len(ROSTER_HEADER) - 1, title)
    sheet.write_string(1, 0, f"填报单位：{unit}")
    sheet.write_string(1, 6, "填报日期：2026年3月5日")
    for c, label in enumerate(ROSTER_HEADER):
        sheet.write_string(2, c, label)
    r = 3
    for serial, (group, people) in enumerate(households, start=1):
        if len(people) > 1:
            sheet.merge_range(r, 1, r + len(people) - 1, 1, group)
        else:
            sheet.write_string(r, 1, group)
        for i, (name, id_number, relation, gender, phone) in enumerate(people):
            if i == 0:
                sheet.write_number(r, 0, serial)
                sheet.write_string(r, 2, people[0][0])
                sheet.write_number(r, 9, len(people))
            sheet.write_string(r, 3, name)
            if id_number == id_as_number:
                sheet.write_number(r, 4, float(id_number))
            else:
                sheet.write_string(r, 4, id_number)
            sheet.write_string(r, 5, relation)
            sheet.write_string(r, 6, gender)
            birth = id_number[6:14] if len(id_number) == 18 else "19" + id_number[6:12]
            sheet.write_string(r, 7, f"{birth[:4]}.{birth[4:6]}.{birth[6:]}")
            if phone:
                sheet.write_string(r, 8, phone)
            r += 1
        r += 1  # the blank row between households
    workbook.close()
    return path
