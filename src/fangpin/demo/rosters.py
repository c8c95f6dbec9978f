"""Department rosters for the demo county, with the faults real ones have: an export whose ID column
Excel turned into numbers (rejected with an error workbook, then sent again corrected), a 残联 file
keyed by 20-digit disability card numbers, a GBK CSV from 教育, people who are not in the register,
deaths not yet deregistered, large medical bills, children out of school, disasters in one township."""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from .generator import Family, Person


@dataclass
class RosterFile:
    kind: str
    source: str
    path: Path


@dataclass
class RosterSampler:
    """Collects, while the county is generated, the people and households the rosters will name."""

    rng: random.Random
    year: int
    rows: dict[str, list[list[object]]] = field(default_factory=dict)

    def _date(self) -> dt.date:
        return dt.date(self.year, 1, 5) + dt.timedelta(days=self.rng.randrange(0, 290))

    def add(self, kind: str, row: list[object]) -> None:
        self.rows.setdefault(kind, []).append(row)

    def see(self, family: Family, today: dt.date) -> None:
        rng, head = self.rng, family.members[0]
        poverty = family.household_type == "脱贫户"
        for person in family.members:
            age = person.age(today)
            roll = rng.random()
            if roll < 0.03:  # ordinary claims
                for _ in range(rng.randint(1, 3)):
                    total = rng.randint(300, 6000)
                    self.add("medical", self._claim(person, total, int(total * rng.uniform(0.1, 0.3))))
            if (poverty and roll > 0.995) or roll > 0.9985:  # a serious illness this year
                total = rng.randint(40000, 160000)
                self.add("medical", self._claim(person, total, int(total * rng.uniform(0.2, 0.4))))
            if person.health != "残疾" and rng.random() < 0.002:
                card = person.id_number[:18] + rng.choice("1234567") + rng.choice("1234")
                self.add("disability", [card, person.name, "", "", f"{self._date():%Y-%m-%d}"])
            if age > 75 and rng.random() < 0.01:
                self.add(
                    "deregistration", [person.id_number[:18], person.name, "死亡", f"{self._date():%Y/%m/%d}"]
                )
            if person.school and 6 <= age <= 15:
                status = "辍学" if rng.random() < 0.006 else "在读"
                if status != "在读" or rng.random() < 0.02:
                    self.add("schooling", [person.id_number[:18], person.name, "县第一中学" if age > 11 else "中心小学",
                                           "初中" if age > 11 else "小学", person.school, status, f"{self._date():%Y%m%d}"])  # fmt: skip
            if person.work_months and rng.random() < 0.003:
                self.add(
                    "employment",
                    [person.id_number[:18], person.name, "失业登记", f"{self._date():%Y-%m-%d}", ""],
                )
            if family.category and rng.random() < 0.06:
                self.add(
                    "assets",
                    [person.id_number[:18], person.name, "车辆", "小型轿车", f"{self._date():%Y-%m-%d}"],
                )
        if rng.random() < 0.003 and not family.category:
            self.add(
                "assistance",
                [head.id_number[:18], head.name, "临时救助", f"{self._date():%Y-%m-%d}", "", "3000"],
            )
        if family.category and not family.eliminated and rng.random() < 0.15:
            end = self._date()
            self.add(
                "assistance",
                [head.id_number[:18], head.name, "低保", f"{self.year - 2}-01-01", f"{end:%Y-%m-%d}", "4800"],
            )
        if rng.random() < 0.002:
            self.add(
                "housing", [head.id_number[:18], head.name, rng.choice("CD"), f"{self._date():%Y-%m-%d}"]
            )
        if family.township == "冷口乡" and rng.random() < 0.03:
            self.add(
                "disaster",
                [
                    head.id_number[:18],
                    head.name,
                    "洪涝",
                    rng.randint(3000, 40000),
                    f"{self._date():%Y-%m-%d}",
                ],
            )

    def _claim(self, person: Person, total: int, self_pay: int) -> list[object]:
        return [
            person.name,
            person.id_number[:18],
            f"{self._date():%Y-%m-%d}",
            total,
            total - self_pay,
            0,
            0,
            self_pay,
        ]

    def outsiders(self, count: int) -> None:
        """People of other counties treated here: in the roster, not in the register."""
        from fangpin.common.idnumber import make_id

        for n in range(count):
            id_number = make_id("140802", dt.date(1960 + n % 40, 1 + n % 12, 1 + n % 27), 2 * n + 1)
            self.add("medical", [f"外县{n}", id_number, f"{self._date():%Y-%m-%d}", 5000, 4000, 0, 0, 1000])


HEADERS = {
    "medical": ["参保人姓名", "身份证号码", "结算时间", "总费用", "统筹支付", "大病保险支付", "医疗救助支付", "个人负担"],
    "disability": ["残疾人证号", "姓名", "残疾类别", "残疾等级", "发证日期"],
    "deregistration": ["公民身份号码", "姓名", "注销原因", "注销日期"],
    "schooling": ["身份证号", "姓名", "学校", "学段", "年级", "学籍状态", "变动日期"],
    "assistance": ["身份证号码", "姓名", "救助类型", "开始日期", "结束日期", "金额"],
    "housing": ["户主身份证号", "户主姓名", "鉴定等级", "鉴定日期"],
    "disaster": ["户主身份证号", "户主姓名", "灾害类型", "直接经济损失", "受灾日期"],
    "employment": ["身份证号码", "姓名", "类型", "日期", "月收入"],
    "assets": ["证件号码", "姓名", "类型", "说明", "日期"],
}  # fmt: skip
SOURCES = {
    "medical": "县医保局结算明细", "disability": "县残联新办证名单", "deregistration": "县公安局户籍注销",
    "schooling": "县教育局学籍变动", "assistance": "县民政局救助名单", "housing": "县住建局鉴定结果",
    "disaster": "县应急局灾情统计", "employment": "县人社局就业失业登记", "assets": "县财政局资产比对",
}  # fmt: skip
TITLES = {"medical": "城乡居民医保结算明细", "disaster": "灾情统计表"}


def _xlsx(path: Path, kind: str, rows: list[list[object]], *, numeric_ids: bool = False) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    offset = 0
    if kind in TITLES:
        sheet.write_string(0, 0, TITLES[kind])
        offset = 1
    sheet.write_row(offset, 0, HEADERS[kind])
    id_col = next(
        i
        for i, h in enumerate(HEADERS[kind])
        if any(k in h for k in ("身份证", "身份号码", "证件号码", "证号"))
    )
    for r, row in enumerate(rows, start=offset + 1):
        for c, value in enumerate(row):
            if c == id_col and numeric_ids and str(value)[:17].isdigit() and str(value)[-1] != "X":
                sheet.write_number(r, c, float(value))  # what Excel does to an ID column left as 常规
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()


def write_rosters(sampler: RosterSampler, out_dir: Path, period: str) -> list[RosterFile]:
    """Files in the order a county receives them; the first medical file is the damaged one."""
    sampler.outsiders(25)
    files = []
    damaged = out_dir / f"医保结算_{period}_原始导出.xlsx"
    _xlsx(damaged, "medical", sampler.rows.get("medical", [])[:400], numeric_ids=True)
    files.append(RosterFile("medical", SOURCES["medical"], damaged))
    for kind, rows in sampler.rows.items():
        if kind == "schooling":  # 教育 sends a CSV saved by Excel on Windows: GBK
            path = out_dir / f"学籍变动_{period}.csv"
            with open(path, "w", newline="", encoding="gbk") as fh:
                writer = csv.writer(fh)
                writer.writerow(HEADERS[kind])
                writer.writerows(rows)
        else:
            path = out_dir / f"{SOURCES[kind]}_{period}.xlsx"
            _xlsx(path, kind, rows)
        files.append(RosterFile(kind, SOURCES[kind], path))
    return files
