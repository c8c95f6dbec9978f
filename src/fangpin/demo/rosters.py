"""Department rosters for the demo county, as departments really send them: an export whose ID column
Excel turned into numbers (rejected with an error workbook, then sent again corrected), a 残联 file
keyed by 20-digit disability card numbers, a GBK CSV from 教育, people who are not in the register.

Their ordinary rows agree with the register (small medical bills, cards already registered, children
in school, 就业登记, old or ongoing assistance, A/B housing, small disaster losses, cars of households
not monitored); the rows that must raise a 部门预警 are the seeded ones (faults.py), one fault each."""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from .generator import ABLE, Family, Person

MEDICAL_RULES = {
    (True, "year"): "DEPT_MEDICAL_SELF_PAY_POVERTY", (True, "12m"): "DEPT_MEDICAL_12M_POVERTY",
    (False, "year"): "DEPT_MEDICAL_SELF_PAY_OTHER", (False, "12m"): "DEPT_MEDICAL_12M_OTHER",
}  # fmt: skip


def twelve_months_before(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1) if (day.month, day.day) != (2, 29) else day - dt.timedelta(days=365)


def medical_rules(
    poverty: bool,
    claims: list[tuple[dt.date, int]],
    net: Decimal,
    today: dt.date,
    parameters: dict[str, float],
) -> set[str]:
    """The medical-roster rules of catalogue/70_department_warnings.toml a household's claims raise."""
    year_start, ago = dt.date(today.year, 1, 1), twelve_months_before(today)
    this_year = sum(s for d, s in claims if year_start <= d <= today)
    last_twelve = [s for d, s in claims if ago < d <= today]
    line = parameters["medical_self_pay_poverty" if poverty else "medical_self_pay_other"]
    rules = set()
    if this_year >= line:
        rules.add(MEDICAL_RULES[(poverty, "year")])
    if sum(last_twelve) >= line:
        rules.add(MEDICAL_RULES[(poverty, "12m")])
    if last_twelve and sum(last_twelve) > parameters["medical_share_of_income"] * float(net):
        rules.add("DEPT_MEDICAL_SHARE_OF_INCOME")
    return rules


def claim_row(person: Person, day: dt.date, self_pay: int, rng: random.Random) -> list[object]:
    total = int(self_pay * rng.uniform(2.5, 5)) if self_pay >= 1000 else self_pay + rng.randint(200, 3000)
    return [person.name, person.id_number[:18], f"{day:%Y-%m-%d}", total, total - self_pay, 0, 0, self_pay]


@dataclass
class RosterFile:
    kind: str
    source: str
    path: Path


@dataclass
class RosterSampler:
    """Collects, while the county is generated, the people and households the rosters will name."""

    rng: random.Random
    today: dt.date
    parameters: dict[str, float]
    rows: dict[str, list[list[object]]] = field(default_factory=dict)

    def recent(self) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(10, 330))

    def add(self, kind: str, row: list[object]) -> int:
        rows = self.rows.setdefault(kind, [])
        rows.append(row)
        return len(rows) - 1

    def see(self, family: Family) -> None:
        for person in family.members:  # cards 残联 issued years ago to people the export lists with 身份证
            if person.roster_card and person.health == "残疾":
                issued = self.today - dt.timedelta(days=self.rng.randint(700, 2500))
                card = person.roster_card
                self.add(
                    "disability",
                    [person.id_number[:18] + card, person.name, card[0], card[1], f"{issued:%Y-%m-%d}"],
                )
        for kind, row, seeds in family.roster_rows:
            index = self.add(kind, row)
            for seed in seeds:
                seed.roster = (kind, index)
        if not family.quiet:
            self.ordinary(family)

    def ordinary(self, family: Family) -> None:
        """Rows that agree with the register and raise nothing."""
        rng, head, today = self.rng, family.members[0], self.today
        day = lambda value: f"{value:%Y-%m-%d}"  # noqa: E731
        # small bills: within the year less than a quarter of the family's net income, far below any line
        budget = min(Decimal(1500), family.net * Decimal("0.25"))
        for person in family.members:
            age = person.age(today)
            if rng.random() < 0.03 and budget > 100:
                for _ in range(rng.randint(1, 3)):
                    self_pay = min(rng.randint(50, 600), int(budget))
                    if self_pay < 10:
                        break
                    budget -= self_pay
                    self.add("medical", claim_row(person, self.recent(), self_pay, rng))
            if person.card and rng.random() < 0.05:  # a card renewed: the registered category and grade
                card = person.card
                self.add("disability", [person.id_number, person.name, card[0], card[1], day(self.recent())])
            if person.student and 6 <= age <= 15 and rng.random() < 0.02:
                self.add("schooling", [person.id_number[:18], person.name, "县第一中学" if age > 11 else "中心小学",
                                       "初中" if age > 11 else "小学", person.school, "在读",
                                       f"{self.recent():%Y%m%d}"])  # fmt: skip
            if person.work_months and person.labour in ABLE and rng.random() < 0.005:
                self.add("employment", [person.id_number[:18], person.name, "就业登记", day(self.recent()),
                                        rng.randint(3000, 6500)])  # fmt: skip
            if age >= 25 and (not family.category or family.eliminated) and rng.random() < 0.004:
                self.add(
                    "assets", [person.id_number[:18], person.name, "车辆", "小型轿车", day(self.recent())]
                )
        if family.category and "缺劳动力" in family.risks:  # 低保 since identification, still paid
            end = (
                f"{family.eliminated_month[:4]}-{family.eliminated_month[4:]}-28" if family.eliminated else ""
            )
            if not family.eliminated or family.eliminated_month:
                start = (
                    f"{family.identified[:4]}-{family.identified[4:]}-01"
                    if family.identified
                    else "2021-01-01"
                )
                self.add("assistance", [head.id_number[:18], head.name, "低保", start, end, 4800])
        elif not family.category and rng.random() < 0.003:  # temporary help, more than a year ago
            self.add("assistance", [head.id_number[:18], head.name, "临时救助",
                                    day(today - dt.timedelta(days=rng.randint(400, 900))), "", 2000])  # fmt: skip
        if rng.random() < 0.003:
            self.add("housing", [head.id_number[:18], head.name, rng.choice("AB"), day(self.recent())])
        if family.dangerous_house and "住房安全保障" in family.measures:  # the appraisal behind the record
            self.add("housing", [head.id_number[:18], head.name, rng.choice("CD"), day(self.recent())])
        if family.township == "冷口乡" and rng.random() < 0.03:
            self.add(
                "disaster",
                [head.id_number[:18], head.name, "洪涝", rng.randint(500, 4500), day(self.recent())],
            )

    def outsiders(self, count: int) -> None:
        """People of other counties: treated here or deregistered there, not in this register."""
        from fangpin.common.idnumber import make_id

        for n in range(count):
            id_number = make_id("140802", dt.date(1960 + n % 40, 1 + n % 12, 1 + n % 27), 2 * n + 1)
            self.add("medical", [f"外县{n}", id_number, f"{self.recent():%Y-%m-%d}", 5000, 4000, 0, 0, 1000])
        for n in range(max(3, count // 5)):
            id_number = make_id("140821", dt.date(1940 + n % 30, 1 + n % 12, 1 + n % 27), 2 * n + 1)
            self.add("deregistration", [id_number, f"外县{n}", "迁出", f"{self.recent():%Y/%m/%d}"])


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


def _xlsx(path: Path, kind: str, rows: list[list[object]], *, numeric_ids: bool = False) -> int:
    """Writes the roster; returns the Excel row number of its first data row."""
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
    return offset + 2


def write_rosters(
    sampler: RosterSampler, out_dir: Path, period: str
) -> tuple[list[RosterFile], dict[str, tuple[str, int]]]:
    """Files in the order a county receives them; the first medical file is the damaged one. Returns the
    files and, per kind, the accepted file's name and the row number of its first data row."""
    sampler.outsiders(25)
    files = []
    first_rows: dict[str, tuple[str, int]] = {}
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
            first = 2
        else:
            path = out_dir / f"{SOURCES[kind]}_{period}.xlsx"
            first = _xlsx(path, kind, rows)
        files.append(RosterFile(kind, SOURCES[kind], path))
        first_rows[kind] = (path.name, first)
    return files, first_rows
