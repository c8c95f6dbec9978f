"""A synthetic but realistic county: 绛县 (140826), deterministic by seed.

It writes what a county really receives — a region table and the national system's exports
(户成员信息, 监测对象信息 of this year and of last year) as .xlsx with title rows — so the demo goes
through the same import path a user does. Names, ages, household structures, incomes and the 三保障
facts follow plausible distributions; the numbers are made up, the layouts are not.

A clean county stays clean: every record the generator writes satisfies every rule of the catalogue,
except the faults it seeds on purpose (faults.py) — a small number per rule, spread over the county —
each of which it records in truth.csv beside the files, with the rule that must find it.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tomllib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from fangpin.common.idnumber import make_id
from fangpin.registry.columns import LAYOUT_TITLES, MEMBER_LAYOUT, MONITORING_LAYOUT
from fangpin.rules.catalogue import CATALOGUE_DIR

COUNTY_CODE = "140826"
PROVINCE = ("140000000000", "山西省")
CITY = ("140800000000", "运城市")
COUNTY = ("140826000000", "绛县")
# The county's towns and townships; the 3-digit codes follow the 统计用区划代码 pattern (1xx 镇, 2xx 乡).
TOWNSHIPS = [
    ("100", "古绛镇"), ("101", "横水镇"), ("102", "陈村镇"), ("103", "卫庄镇"), ("104", "南樊镇"),
    ("105", "么里镇"), ("106", "安峪镇"), ("107", "大交镇"), ("200", "冷口乡"), ("201", "郝庄乡"),
]  # fmt: skip
VILLAGE_HEADS = "东西南北前后上下中大小新老"
VILLAGE_TAILS = [
    "庄",
    "沟",
    "峪",
    "坡",
    "堡",
    "头",
    "湾",
    "寨",
    "河",
    "岭",
    "村",
    "院",
    "店",
    "窑",
    "家庄",
    "王村",
]
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏"
    "汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文卫柴裴畅原"
)
MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国建军志强海峰文博子豪宏亮永红"
FEMALE = "芳娜敏静丽艳娟霞燕玲桂英秀兰萍红梅琳雪婷慧颖琴云莲凤洁倩佳欣怡晶丹彤萌月华玉珍翠"
RISKS = [("因病", 40), ("因残", 18), ("因学", 10), ("缺劳动力", 10), ("因务工就业不稳", 8), ("因意外事故", 4),
         ("因自然灾害", 4), ("因安全住房", 2), ("因安全饮水", 2), ("其他", 2)]  # fmt: skip
# the measure each risk calls for (policy §7.3); 因学 gets 雨露计划 only with a 中职/高职 student (§7.4)
RISK_MEASURES = {
    "因病": ("健康帮扶", "城乡居民基本医疗保险个人缴费补贴"), "因残": ("综合保障", "残疾人补贴"),
    "因学": ("教育帮扶", "学生资助"), "缺劳动力": ("综合保障", "低保"),
    "因务工就业不稳": ("就业帮扶", "外出务工交通补贴"), "因意外事故": ("社会帮扶", "防返贫保险理赔"),
    "因自然灾害": ("生产生活条件改善", "灾后生产生活恢复"), "因安全住房": ("住房安全保障", "农村危房改造"),
    "因安全饮水": ("饮水安全保障", "供水管网入户"), "其他": ("社会帮扶", "社会捐赠"),
}  # fmt: skip
INDUSTRY_ITEMS = ["到户产业发展奖补", "产业技术指导和培训"]
WELFARE_POSTS = ["保洁员", "护林员", "护路员", "水管员"]
# The first families all live in the demo logins' village, so that even a small demo shows the whole
# monitoring loop there: some monitored, a few of them ready for risk elimination, the rest to identify.
DEMO_VILLAGE_FAMILIES, DEMO_MONITORED, DEMO_READY = 40, 14, 6
GRADES = ["一", "二", "三", "四", "五", "六"]
THREE = ["一", "二", "三"]
WORK_PLACES = ["本县", "本县", "运城市", "太原市", "西安市", "北京市", "江苏省苏州市"]
AWAY = ["运城市", "太原市", "西安市", "北京市", "江苏省苏州市"]
ABLE = ("普通劳动力", "技能劳动力")
NO_LABOUR = ("无劳动力", "丧失劳动力")
# Per-capita net income bands (yuan). They keep clear of every monitoring line 2021–2026 (6,000–8,300):
# a household not monitored lives well above it, a monitored one below, an eliminated one above.
BANDS = {
    "normal": (10_800, 30_000), "low": (3_800, 7_600), "above": (9_800, 17_000),
    "below": (2_500, 5_600), "high": (21_500, 32_000),
    # a seeded 低保边缘 income (2026 regime): above the highest default monitoring line (8,300 in 2026),
    # below the default 低保边缘 line (1.5 × the 低保 standard of 6,600 = 9,900), clear of both
    "edge": (8_750, 9_450),
}  # fmt: skip
BELOW_LINE_MAX = Decimal("6500")  # a seeded "below the line" income stays under this whatever is fixed


def rule_parameters() -> dict[str, float]:
    """The catalogue's default parameter values (the latest nationwide ones): the generator keeps clean
    records inside them and puts seeded faults outside, without asking the database."""
    with open(CATALOGUE_DIR / "parameters.toml", "rb") as fh:
        data = tomllib.load(fh)
    values = {}
    for name, spec in data.items():
        rows = sorted(
            (v for v in spec.get("value", []) if v["province"] == "*"), key=lambda v: str(v["from"])
        )
        if rows:
            values[name] = rows[-1]["value"]
    return values


@dataclass
class Person:
    name: str
    id_number: str
    relation: str
    gender: str
    birth: dt.date
    person_no: str = ""
    health: str = "健康"
    labour: str = "普通劳动力"
    education: str = ""
    school: str = ""
    dropout: str = ""
    work_months: int = 0
    work_place: str = ""
    phone: str = ""
    resident_medical: bool | None = True
    employee_medical: bool | None = False
    critical_illness: bool | None = True
    pension: bool | None = False
    dibao: bool = False
    tekun: bool = False
    welfare_post: str = ""
    post_none: bool = False  # the export writes 否 in 公益性岗位 for "no post"
    roster_card: str = ""  # category and grade of a card 残联 holds for someone the export lists with 身份证
    welfare_months: int | None = None
    id_type: str = "身份证"
    birth_written: dt.date | None = None  # a 出生日期 that differs from the ID (a seeded fault)
    cells: dict[str, object] = field(default_factory=dict)  # seeded cell values, in every file
    monitoring_cells: dict[str, object] = field(default_factory=dict)  # in the 监测对象信息 file only
    in_monitoring: bool = True  # False: left out of the 监测对象信息 file (a seeded fault)
    rows: dict[str, int] = field(default_factory=dict)  # file kind → row number as Excel shows it

    def age(self, today: dt.date) -> int:
        return today.year - self.birth.year - ((today.month, today.day) < (self.birth.month, self.birth.day))

    @property
    def card(self) -> str:
        """The category and grade digits of a 残疾人证号 (20 characters), else ''."""
        return self.id_number[18:] if len(self.id_number) == 20 else ""

    @property
    def student(self) -> bool:
        return bool(self.school) and self.school not in ("学龄前儿童", "学前教育")


@dataclass
class Needs:
    """What a seeded fault needs its household to be generated as (None: whatever comes)."""

    monitored: bool | None = None
    eliminated: bool | None = None
    risks: tuple[str, ...] = ()
    household_type: str | None = None
    method: str | None = None
    identified_after: str = ""  # YYYYMM, inclusive
    identified_before: str = ""  # YYYYMM, inclusive


@dataclass
class Family:
    household_no: str
    township: str
    village: str
    village_code: str
    household_type: str
    members: list[Person] = field(default_factory=list)
    category: str = ""
    risks: list[str] = field(default_factory=list)
    identified: str = ""
    eliminated: bool | None = None
    eliminated_month: str = ""
    elimination_method: str = ""
    measures: dict[str, list[str]] = field(default_factory=dict)
    development: str = ""
    contact: tuple[str, str] = ("", "")
    land: Decimal | None = Decimal("0")
    forest: Decimal = Decimal("0")
    dangerous_house: bool | None = False
    safe_water: bool | None = True
    toilet: bool | None = True
    road: str = "水泥路"
    housing_area: int | None = None
    phone: str = ""
    income: dict[str, Decimal] = field(default_factory=dict)
    reported_per_capita: Decimal | None = None
    self_pay: Decimal = Decimal("0")
    number: int = 0
    annual_size: int | None = None
    current_size: int | None = None  # a 当前家庭人口数 that differs from the members (a seeded fault)
    previous_factor: Decimal = Decimal("1")  # last year's income = this year's × factor
    seeds: list = field(default_factory=list)  # faults.Seed: what the rules must find here
    cells: dict[str, object] = field(default_factory=dict)  # seeded household cells, every file
    extra_monitoring: list[tuple[Person, dict[str, object]]] = field(default_factory=list)
    roster_rows: list = field(default_factory=list)  # (kind, row, seeds) the rosters must carry
    quiet: bool = False  # no ordinary roster rows (a faulted household keeps its faults apart)
    misfit: bool = False  # the generation could not honour the needs it was given
    expenditure: dict[str, Decimal] | None = None  # a seeded 收支核算 record (accounting.py writes the rest)
    rows: dict[str, int] = field(default_factory=dict)  # file kind → first row number

    @property
    def net(self) -> Decimal:
        return self.income.get("纯收入（元）", Decimal("0"))

    @property
    def per_capita(self) -> Decimal:
        return (self.net / (self.annual_size or len(self.members))).quantize(Decimal("0.01"))

    @property
    def head(self) -> Person:
        return self.members[0]

    def groups(self) -> list[str]:
        return [g for g, items in self.measures.items() if items]

    def items(self) -> list[str]:
        return [i for items in self.measures.values() for i in items]

    @property
    def no_labour(self) -> bool:
        return all(m.labour in NO_LABOUR for m in self.members)


def month_of(day: dt.date, shift: int = 0) -> str:
    total = day.year * 12 + day.month - 1 + shift
    return f"{total // 12}{total % 12 + 1:02d}"


def month_date(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[4:6]), 1)


class CountyGenerator:
    def __init__(
        self,
        people: int,
        seed: int,
        year: int,
        *,
        today: dt.date | None = None,
        import_faults: Collection[str] = (),
        faults: bool = True,
    ) -> None:
        self.target = people
        self.rng = random.Random(seed)
        self.year = year
        # the day the exports are screened: ages, months and roster dates are all counted to it
        self.today = today or dt.date(year + 1, 3, 1)
        self.parameters = rule_parameters()
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()
        self.villages = self._villages()
        self.import_faults = set(import_faults)
        self.with_faults = faults
        self.recent_plain: list[Family] = []  # households without a fault, for faults that need two
        self.planner = None

    # -- regions --
    def _villages(self) -> list[tuple[str, str, str]]:
        """(township name, village name, 12-digit code): ~20 villages per township."""
        rng = random.Random(self.rng.random())
        villages = []
        for code, township in TOWNSHIPS:
            names: set[str] = set()
            count = rng.randint(17, 23)
            while len(names) < count:
                head = rng.choice(VILLAGE_HEADS) if rng.random() < 0.5 else rng.choice(SURNAMES)
                names.add(f"{head}{rng.choice(VILLAGE_TAILS)}村".replace("村村", "村"))
            for i, name in enumerate(sorted(names), start=1):
                villages.append((township, name, f"{COUNTY_CODE}{code}{200 + i:03d}"))
        return villages

    def region_rows(self) -> list[tuple[str, str]]:
        rows = [PROVINCE, CITY, COUNTY]
        rows += [(f"{COUNTY_CODE}{code}000", name) for code, name in TOWNSHIPS]
        rows += [(code, name) for _, name, code in self.villages]
        return rows

    # -- identifiers --
    def id_for(self, birth: dt.date, gender: str) -> str:
        while True:
            seq = self.rng.randrange(0, 1000)
            if (seq % 2 == 1) != (gender == "男"):
                seq = (seq + 1) % 1000
            value = make_id(COUNTY_CODE, birth, seq)
            if value[:17] not in self.used_ids:
                self.used_ids.add(value[:17])
                return value

    def twin_id(self, sibling: str, gender: str) -> str | None:
        """A twin's number: same birth date and the same first 15 digits as the sibling's."""
        base = int(sibling[14:17])
        for seq in range(base - base % 100, base - base % 100 + 100):
            if seq != base and (seq % 2 == 1) == (gender == "男"):
                value = make_id(COUNTY_CODE, dt.date.fromisoformat(
                    f"{sibling[6:10]}-{sibling[10:12]}-{sibling[12:14]}"), seq)  # fmt: skip
                if value[:17] not in self.used_ids:
                    self.used_ids.add(value[:17])
                    return value
        return None

    def phone(self, prefixes: str = "3456789") -> str:
        while True:
            value = f"1{self.rng.choice(prefixes)}{self.rng.randrange(10**8, 10**9)}"
            if value not in self.used_phones:
                self.used_phones.add(value)
                return value

    def given_name(self, gender: str) -> str:
        pool = MALE if gender == "男" else FEMALE
        return self.rng.choice(pool) + (self.rng.choice(pool) if self.rng.random() < 0.7 else "")

    # -- people --
    def person(self, relation: str, gender: str, age: int, surname: str) -> Person:
        rng = self.rng
        birth = self.today - dt.timedelta(days=age * 365 + age // 4 + rng.randrange(0, 365))
        person = Person(
            f"{surname}{self.given_name(gender)}", self.id_for(birth, gender), relation, gender, birth
        )
        self.attributes(person)
        if person.health == "残疾":
            if rng.random() < 0.25:  # the export says 身份证; the card is on file at 残联 (its roster)
                person.roster_card = rng.choice("1234567") + rng.choice("1234")
                if person.labour in ABLE:
                    person.labour = (
                        "丧失劳动力" if person.roster_card in ("41", "42") else "弱劳动力或半劳动力"
                    )
            else:
                self.give_card(person)
        return person

    def give_card(self, p: Person, category: str = "", grade: str = "") -> None:
        """A disabled person's 证件 is the 20-character 残疾人证号; 一、二级肢体 cannot work as 普通/技能劳动力."""
        category = category or self.rng.choice("1234567")
        grade = grade or self.rng.choice("1234")
        p.id_number = p.id_number[:18] + category + grade
        p.id_type = "残疾人证"
        if p.labour in ABLE:
            p.labour = "丧失劳动力" if category == "4" and grade in "12" else "弱劳动力或半劳动力"

    def school_age(self, p: Person) -> int:
        """Age at the start of the school year (1 September): what the compulsory-schooling rules count."""
        start = int(self.parameters.get("school_year_start_month", 9))
        year = self.today.year if self.today.month >= start else self.today.year - 1
        return year - p.birth.year - (1 if p.birth.month >= start else 0)

    def school_for(self, p: Person) -> None:
        """在校生状况 and 文化程度 by school age: every child of compulsory age is in school, at its stage."""
        rng, age, grade = self.rng, p.age(self.today), self.school_age(p) - 5
        p.school = p.education = p.dropout = ""
        if grade < -2:
            p.school = "学龄前儿童"
        elif grade < 1:
            p.school = "学前教育"
        elif grade <= 6:
            p.school = f"小学{GRADES[grade - 1]}年级"
        elif grade <= 9:
            p.school = ["七年级", "八年级", "九年级"][grade - 7]
        elif grade == 10:
            p.school = "九年级" if rng.random() < 0.3 else f"{'高中' if rng.random() < 0.6 else '中职'}一年级"
        elif grade <= 12 and rng.random() < 0.9:
            p.school = f"{'高中' if rng.random() < 0.6 else '中职'}{THREE[grade - 10]}年级"
        elif 13 <= grade <= 16 and age >= 18 and rng.random() < 0.45:
            p.school = "本科" if rng.random() < 0.5 else f"高职高专{THREE[min(grade - 13, 2)]}年级"
        if p.school:
            return
        if age <= 22:
            p.education = rng.choices(["初中", "高中", "大专", "本科及以上"], [50, 30, 12 if age >= 20 else 0,
                                                                               8 if age >= 21 else 0])[0]  # fmt: skip
        else:
            weights = (
                [0, 1, 45, 30, 12, 12]
                if age < 30
                else [5, 25, 40, 18, 6, 6]
                if age < 60
                else [30, 45, 20, 5, 0, 0]
            )
            p.education = rng.choices(
                ["文盲或半文盲", "小学", "初中", "高中", "大专", "本科及以上"], weights
            )[0]

    def attributes(self, p: Person) -> None:
        rng, age = self.rng, p.age(self.today)
        roll = rng.random()
        if roll < 0.03:
            p.health = "残疾"
        elif roll < 0.04:
            p.health = "患有大病"
        elif roll < 0.04 + max(0.0, (age - 40) / 200):
            p.health = "长期慢性病"
        self.school_for(p)
        if age < 16 or p.school:
            p.labour = "无劳动力"
        elif p.health in ("残疾", "患有大病"):
            p.labour = rng.choice(["丧失劳动力", "弱劳动力或半劳动力"])
        elif age > 70:
            p.labour = "丧失劳动力" if rng.random() < 0.6 else "无劳动力"
        elif age > 60:
            p.labour = "弱劳动力或半劳动力"
        else:
            p.labour = "技能劳动力" if rng.random() < 0.2 else "普通劳动力"
        # a 技能劳动力 or a graduate of working age is at work (else: why not? DQ_SKILLED_NOT_WORKING)
        if p.labour in ABLE and (
            p.labour == "技能劳动力" or p.education in ("大专", "本科及以上") or rng.random() < 0.55
        ):
            p.work_months = rng.randint(3, 12)
            p.work_place = rng.choice(WORK_PLACES)
        if 18 <= age <= 72 and rng.random() < 0.85:
            p.phone = self.phone()
        p.employee_medical = p.work_place in ("太原市", "北京市", "江苏省苏州市") and rng.random() < 0.3
        p.resident_medical = not p.employee_medical
        p.critical_illness = p.resident_medical
        p.pension = age >= 60 or (age >= 16 and not p.school and rng.random() < 0.85)
        p.post_none = age >= 16 and rng.random() < 0.3

    def make_worker(self, p: Person, away: bool = True) -> None:
        p.work_months = p.work_months or self.rng.randint(6, 12)
        if away or not p.work_place:
            p.work_place = self.rng.choice(AWAY)

    # -- households --
    def members_of(self, number: int) -> Family:
        """Phase 1: where the household lives and who belongs to it."""
        rng = self.rng
        township, village, code = self.villages[rng.randrange(len(self.villages))]
        if number <= DEMO_VILLAGE_FAMILIES:  # the demo logins' village: enough households for the whole loop
            township, village, code = self.villages[0]
        household_type = "脱贫户" if rng.random() < 0.11 else "一般农户"
        family = Family(f"{code}{number:06d}", township, village, code, household_type, number=number)
        size = rng.choices([1, 2, 3, 4, 5, 6], [12, 25, 22, 22, 13, 6])[0]
        surname = rng.choice(SURNAMES)
        head_gender = "男" if rng.random() < 0.88 else "女"
        head_age = rng.randint(28, 82) if size > 1 else rng.randint(45, 88)
        if number <= DEMO_READY:
            head_age = rng.randint(30, 55)
        family.members.append(self.person("户主", head_gender, head_age, surname))
        if size >= 2 and rng.random() < 0.85:
            spouse_gender = "女" if head_gender == "男" else "男"
            age = max(20, head_age + rng.randint(-5, 3))
            family.members.append(self.person("配偶", spouse_gender, age, rng.choice(SURNAMES)))
        while len(family.members) < size:
            if head_age > 58 and rng.random() < 0.4:
                relation, gender = rng.choice([("之孙子", "男"), ("之孙女", "女")])
                age = rng.randint(0, max(0, head_age - 45))
            elif head_age < 45 and rng.random() < 0.2:
                relation, gender = rng.choice([("之父", "男"), ("之母", "女")])
                age = head_age + rng.randint(22, 32)
            else:
                relation, gender = rng.choice([("之子", "男"), ("之女", "女")])
                age = max(0, head_age - rng.randint(22, 36))
            family.members.append(self.person(relation, gender, age, surname))
        for i, member in enumerate(family.members, start=1):
            member.person_no = f"{family.household_no}{i:02d}"
        if number <= DEMO_READY:  # healthy, working: an employment measure that worked
            for member in family.members:
                if member.health == "残疾":
                    member.health, member.id_number, member.id_type = (
                        "长期慢性病",
                        member.id_number[:18],
                        "身份证",
                    )
            head = family.head
            head.health, head.labour = "健康", "普通劳动力"
            self.make_worker(head)
        family.land = Decimal(rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 10, 12]) + rng.choice([0, 0.5]))
        family.forest = Decimal(rng.choice([0, 0, 0, 1, 2, 5]))
        family.toilet = rng.random() < 0.82
        family.housing_area = 60 + 20 * size + rng.choice([0, 0, 10, 20, -10])
        family.phone = family.head.phone or self.phone("3589")
        return family

    def complete(self, f: Family, needs: Needs | None) -> None:
        """Phase 2: monitoring (category, risks with their facts, measures) and income."""
        needs = needs or Needs()
        if needs.household_type:
            f.household_type = needs.household_type
        self.monitoring(f, needs)
        if not f.category:
            band = "normal"
        elif f.eliminated or 0 < f.number <= DEMO_READY:
            band = "above"
        else:
            band = "low"
        self.set_income(f, self.income(f, band))
        if f.category:
            # last year's income, from last year's export: about the same
            f.previous_factor = Decimal(self.rng.randint(85, 115)) / 100

    def monitoring(self, f: Family, needs: Needs) -> None:
        rng = self.rng
        demo_ready = 0 < f.number <= DEMO_READY
        roll = rng.random()
        if needs.monitored is True or 0 < f.number <= DEMO_MONITORED:
            f.category = "脱贫不稳定户" if f.household_type == "脱贫户" else "边缘易致贫户"
            if needs.monitored and f.number > DEMO_MONITORED and roll > 0.9:
                f.category = "突发严重困难户"
        elif needs.monitored is False:
            return
        elif f.household_type == "脱贫户" and roll < 0.045:
            f.category = "脱贫不稳定户"
        elif f.household_type == "一般农户" and roll < 0.012:
            f.category = "边缘易致贫户"
        elif roll > 0.997:
            f.category = "突发严重困难户"
        if not f.category:
            return
        # identification: a month at least before the day of the screening
        low, high = dt.date(2021, 3, 1), self.today - dt.timedelta(days=45)
        if needs.identified_after:
            low = max(low, month_date(needs.identified_after))
        if needs.identified_before:
            high = min(
                high, month_date(month_of(month_date(needs.identified_before), 1)) - dt.timedelta(days=1)
            )
        eliminated = needs.eliminated if needs.eliminated is not None else rng.random() < 0.4
        if eliminated:  # helped for at least eight months before elimination
            high = min(high, self.today - dt.timedelta(days=300))
        start = low + dt.timedelta(days=rng.randrange(0, max(1, (high - low).days)))
        if demo_ready:
            start, eliminated = month_date(month_of(self.today, -12)), False
        f.identified = f"{start:%Y%m}"
        # risks, and the facts each one rests on (policy §3.4)
        if needs.risks:
            risks = list(needs.risks)
        else:
            names, weights = zip(*RISKS, strict=True)
            risks = list(dict.fromkeys(rng.choices(names, weights, k=rng.choice([1, 1, 1, 2]))))
        if demo_ready:
            risks = ["因务工就业不稳"]
        self.facts_for_risks(f, risks)
        feasible = [r for r in risks if self.risk_feasible(f, r)]
        if needs.risks and feasible != list(needs.risks):
            f.misfit = True
        f.risks = feasible or ["其他"]
        if "因务工就业不稳" in f.risks:
            worker = next((m for m in f.members if m.labour in ABLE and m.work_months), None) or next(
                m for m in f.members if m.labour in ABLE and 16 <= m.age(self.today) <= 60
            )
            self.make_worker(worker)
        if eliminated and f.no_labour:  # a household wholly without labour is not eliminated (§8.2)
            eliminated = False
        months = (self.today.year - start.year) * 12 + self.today.month - start.month
        if eliminated and months < 8:  # helped for at least eight months before elimination
            eliminated = False
        if needs.eliminated is not None and eliminated != needs.eliminated:
            f.misfit = True
        f.eliminated = eliminated
        if eliminated:
            end = month_date(f.identified)
            end = month_date(month_of(end, rng.randint(7, max(7, months - 1))))
            f.eliminated_month = f"{end:%Y%m}"
            f.elimination_method = needs.method or ("帮扶消除" if rng.random() < 0.9 else "自然消除")
        else:  # the unsafe house or water a risk names is still unsafe while the risk lasts
            f.dangerous_house = "因安全住房" in f.risks
            f.safe_water = "因安全饮水" not in f.risks
        if rng.random() < 0.3 and not demo_ready:
            post = next((m for m in f.members if m.labour in (*ABLE, "弱劳动力或半劳动力")
                         and 18 <= m.age(self.today) <= 64 and not m.school), None)  # fmt: skip
            if post:
                post.welfare_post, post.welfare_months = rng.choice(WELFARE_POSTS), 12
        for m in f.members:
            m.dibao = "缺劳动力" in f.risks
        self.measures_for(f)
        if "因病" in f.risks:
            f.self_pay = Decimal(rng.randint(3000, 30000))
        f.contact = (rng.choice(SURNAMES) + rng.choice(MALE) + rng.choice(MALE), self.phone("3"))

    def facts_for_risks(self, f: Family, risks: list[str]) -> None:
        """A household identified for illness has a patient; for disability, a disabled member with a card."""
        rng = self.rng
        adults = [m for m in f.members if m.age(self.today) >= 16] or f.members
        healthy = [m for m in adults if m.health == "健康"]
        if "因病" in risks and healthy and not any(m.health in ("患有大病", "长期慢性病") for m in f.members):
            patient = rng.choice(healthy)  # not a disabled member: their 残疾 stays registered
            patient.health = rng.choice(["患有大病", "长期慢性病"])
            if patient.health == "患有大病" and patient.labour in ABLE:
                patient.labour = "弱劳动力或半劳动力"
        if "因残" in risks and not any(m.health == "残疾" for m in f.members):
            disabled = rng.choice(adults)
            disabled.health = "残疾"
            self.give_card(disabled)

    def risk_feasible(self, f: Family, risk: str) -> bool:
        able = sum(m.labour in ABLE for m in f.members)
        if risk == "因学":
            return any(m.student for m in f.members)
        if risk == "缺劳动力":
            return able * 2 <= len(f.members)
        if risk == "因务工就业不稳":
            return any(m.labour in ABLE and 16 <= m.age(self.today) <= 60 for m in f.members)
        if risk == "因病":
            return any(m.health in ("患有大病", "长期慢性病") for m in f.members)
        if risk == "因残":
            return any(m.health == "残疾" for m in f.members)
        return True

    def measures_for(self, f: Family) -> None:
        rng = self.rng
        f.measures = {}
        for risk in f.risks:
            group, item = RISK_MEASURES[risk]
            if risk == "因学" and any(m.school.startswith(("中职", "高职")) for m in f.members):
                item = "雨露计划"
            f.measures.setdefault(group, [])
            if item not in f.measures[group]:
                f.measures[group].append(item)
        if any(m.labour in ABLE for m in f.members):  # development first for a household that can work (§7.1)
            f.measures.setdefault("产业帮扶", []).append(rng.choice(INDUSTRY_ITEMS))
            if not f.land:
                f.land = Decimal(rng.randint(1, 3))
            if rng.random() < 0.15:
                f.measures.setdefault("金融帮扶", []).append("脱贫人口（监测对象）小额信贷")
        if any(m.welfare_post for m in f.members):
            f.measures.setdefault("公益岗位帮扶", []).append("乡村公益性岗位")
        f.development = "已实施" if {"产业帮扶", "就业帮扶"} & set(f.groups()) else ""

    # -- income --
    def income(
        self,
        f: Family,
        band: str,
        *,
        divisor: int | None = None,
        no_wage: bool = False,
        no_transfer: bool = False,
        no_business: bool = False,
    ) -> dict[str, Decimal]:
        """The income columns: fixed items (pensions, 低保, dividends, posts) from the facts, the rest —
        wages, farming — scaled so that the per-capita net income falls into the band."""
        rng, today = self.rng, self.today
        n = divisor or len(f.members)
        lo, hi = BANDS[band]
        target = Decimal(int(rng.triangular(lo, hi, lo + (hi - lo) * 0.25))) * n
        zero = Decimal(0)
        items = f.items()
        welfare = zero if no_wage else Decimal(6000 * sum(1 for m in f.members if m.welfare_post))
        pension = dibao = eco = disability = zero
        if not no_transfer:
            pension = Decimal(
                sum(2400 + (1200 if m.age(today) >= 75 else 0) for m in f.members if m.age(today) >= 60)
            )
            dibao = Decimal(4800 * sum(1 for m in f.members if m.dibao))
            eco = Decimal(int(f.forest * 120))
            if "残疾人补贴" in items:
                disability = Decimal(1200 * sum(1 for m in f.members if m.health == "残疾"))
        dividend = Decimal(rng.choice([300, 500, 800])) if f.household_type == "脱贫户" else zero
        fixed = welfare + pension + dibao + eco + disability + dividend
        wages: list[Decimal] = []
        if not no_wage:
            wages = [Decimal(m.work_months * rng.randint(2500, 5500)) for m in f.members if m.work_months]
            # able adults who do not migrate still earn locally (day labour, seasonal work)
            wages += [Decimal(rng.randint(6000, 15000)) for m in f.members if not m.work_months and not m.school
                      and m.labour in (*ABLE, "弱劳动力或半劳动力") and 16 <= m.age(today) <= 64]  # fmt: skip
        share = Decimal(rng.randint(30, 45)) / 100
        revenue = zero
        if not no_business:
            revenue = Decimal((f.land or zero) * rng.randint(1500, 2600))
            if not revenue and "产业帮扶" in f.measures:
                revenue = Decimal(rng.randint(1500, 4000))  # livestock, a courtyard economy
        natural = sum(wages, zero) + revenue * (1 - share)
        need = target - fixed
        scale = (
            min(max(need / natural, Decimal("0.25")), Decimal(4))
            if natural > 0 and need > 0
            else Decimal("0.25")
        )
        wage = sum((w * scale).quantize(Decimal(1)) for w in wages) if wages else zero
        revenue = (revenue * scale).quantize(Decimal(1))
        rest = need - wage - revenue * (1 - share)
        other = zero
        if rest > 0:
            if no_transfer:
                revenue += (rest / (1 - share)).quantize(Decimal(1))
            else:  # children's support, remittances: counted by custom as other transfers
                other = rest.quantize(Decimal(1))
        if no_business:
            revenue = zero
        expense = (revenue * share).quantize(Decimal(1))
        transfer = pension + dibao + eco + disability + other
        income = {
            "工资性收入": wage + welfare, "公益性岗位收入": welfare, "其他工资性收入": wage,
            "生产经营性收入": revenue, "财产性收入": dividend, "资产收益扶贫分红收入": dividend,
            "转移性收入": transfer, "养老金或离退休金": pension, "最低生活保障金": dibao, "生态补偿金": eco,
            "其他转移性收入": disability + other, "生产经营性支出": expense,
        }  # fmt: skip
        return totals(income)

    def set_income(self, f: Family, income: dict[str, Decimal]) -> None:
        f.income = income
        f.reported_per_capita = f.per_capita

    # -- the county --
    def families(self) -> Iterator[Family]:
        from .faults import Planner

        planner = self.planner = Planner(self) if self.with_faults else None
        people, number = 0, 0
        extra = 0
        while people < self.target or (planner and planner.pending and extra < planner.patience):
            number += 1
            if people >= self.target:
                extra += 1
            family = self.members_of(number)
            spec = planner.choose(family) if planner else None
            self.complete(family, spec.needs if spec else None)
            if planner:
                planner.seed(family, spec)
            people += len(family.members)
            yield family
            if not family.seeds and not family.category and len(family.members) >= 2:
                self.recent_plain = [*self.recent_plain[-20:], family]
        if planner:
            planner.finish()


def totals(income: dict[str, Decimal]) -> dict[str, Decimal]:
    """年收入 and 纯收入 from the items, as the national system adds them up."""
    income = dict(income)
    gross = income["工资性收入"] + income["生产经营性收入"] + income["财产性收入"] + income["转移性收入"]
    income["年收入（元）"] = gross
    income["纯收入（元）"] = gross - income["生产经营性支出"]
    return income


def _yes(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def person_row(f: Family, p: Person, monitoring: bool, *, income: dict[str, Decimal] | None = None,
               seeded: bool = True) -> dict[str, object]:  # fmt: skip
    """One row of a national layout; `seeded` False writes the values without the seeded cells."""
    size = len(f.members)
    row: dict[str, object] = {
        "县": COUNTY[1], "乡": f.township, "村": f.village, "户编号": f.household_no, "人口编号": p.person_no,
        "姓名": p.name, "证件号码": p.id_number, "证件类型": p.id_type, "与户主关系": p.relation, "性别": p.gender,
        "出生日期": (p.birth_written or p.birth).isoformat(), "民族": "汉族", "文化程度": p.education,
        "在校生状况": p.school, "义务教育阶段未上学原因": p.dropout, "健康状况": p.health, "劳动技能": p.labour,
        "务工时间（月）": p.work_months or None, "务工所在地": p.work_place,
        "是否参加城乡居民基本医疗保险": _yes(p.resident_medical), "是否参加城镇职工基本医疗保险": _yes(p.employee_medical),
        "是否参加大病保险": _yes(p.critical_illness), "是否参加城乡居民基本养老保险": _yes(p.pension),
        "是否享受农村居民最低生活保障": _yes(p.dibao), "是否特困供养人员": _yes(p.tekun),
        "公益性岗位": p.welfare_post or ("否" if p.post_none else ""), "公益性岗位(月数)": p.welfare_months,
        "家庭成员联系电话": p.phone, "户类型": f.household_type, "监测对象类别": f.category,
        "户联系电话": f.phone, "当前家庭人口数": f.current_size or size, "年度家庭人口数": f.annual_size or size,
        "人均纯收入（元）": f.reported_per_capita, "耕地面积（亩）": f.land, "林地面积（亩）": f.forest,
        "是否危房户": _yes(f.dangerous_house), "住房面积": f.housing_area,
        "是否解决安全饮用水": _yes(f.safe_water), "是否有卫生厕所": _yes(f.toilet), "入户路类型": f.road,
        "与村主干路距离": "0.5公里", "是否通生活用电": "是",
    }  # fmt: skip
    row.update(income if income is not None else f.income)
    if income is not None:
        row["人均纯收入（元）"] = (income["纯收入（元）"] / (f.annual_size or size)).quantize(Decimal("0.01"))
    if monitoring:
        row.update({
            "识别监测时间": f.identified, "风险是否已消除": _yes(f.eliminated), "消除监测时间": f.eliminated_month,
            "风险消除方式": f.elimination_method, "实施开发式帮扶措施情况": f.development,
            "整户无劳动能力兜底保障户": _yes(f.no_labour),
            "监测联系人": f.contact[0], "监测联系人电话": f.contact[1], "合规自付支出": f.self_pay,
            "信息采集人": f.contact[0] or "村委会", "信息采集人联系电话": f.contact[1],
        })  # fmt: skip
        for i, risk in enumerate(f.risks[:5], start=1):
            row[f"致贫/返贫风险{i}"] = risk
        for group, items in f.measures.items():
            if items:
                row[group] = "、".join(items)
    if seeded:
        row.update(f.cells)
        row.update(p.cells)
        if monitoring:
            row.update(p.monitoring_cells)
    return row


class LayoutWriter:
    """Writes one national layout as .xlsx with the title rows the national export has."""

    def __init__(self, path: Path, layout: str, year: int, exported: dt.date) -> None:
        self.path = path
        self.columns = MEMBER_LAYOUT if layout == "member" else MONITORING_LAYOUT
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.sheet = self.workbook.add_worksheet("Sheet1")
        self.sheet.write_string(0, 0, f"{LAYOUT_TITLES[layout]}（{year}年度）")
        self.sheet.write_string(1, 0, f"导出时间：{exported:%Y-%m-%d} 09:00:00")
        for col, column in enumerate(self.columns):
            self.sheet.write_string(2, col, column.label)
        self.labels = [c.label for c in self.columns]
        self.row = 3
        self.count = 0

    def write(self, values: dict[str, object]) -> int:
        """Writes the row; returns its number as Excel shows it (1-based)."""
        write_string, write_number, row = self.sheet.write_string, self.sheet.write_number, self.row
        for col, label in enumerate(self.labels):
            value = values.get(label)
            if value is None or value == "":
                continue
            if isinstance(value, str):
                write_string(row, col, value)
            else:
                write_number(row, col, float(value))
        self.row += 1
        self.count += 1
        return row + 1

    def close(self) -> None:
        self.workbook.close()


@dataclass
class DemoFiles:
    regions: Path
    members: Path
    monitoring: Path
    people: int
    households: int
    rosters: list = field(default_factory=list)
    previous: Path | None = None  # last year's 监测对象信息: imported first
    truth: Path | None = None
    expenditures: Path | None = None  # 收支核算 (rigid expenditure) of the income year, accounting.py
    seeded: int = 0  # expected findings in the truth file
    rows: int = 0  # data rows of every file (the exports and the accepted rosters)

    @property
    def register_files(self) -> list[Path]:
        """The national exports in the order they are imported."""
        return [p for p in (self.previous, self.members, self.monitoring) if p is not None]


def write_demo_files(
    out_dir: Path,
    *,
    people: int,
    seed: int,
    year: int,
    today: dt.date | None = None,
    import_faults: Collection[str] = (),
    faults: bool = True,
) -> DemoFiles:
    """The county's files and truth.csv. `today` is the day they will be screened (default: 1 March of
    the next year); `import_faults` the import-side fault rules to seed (faults.IMPORT_FAULT_RULES)."""
    from .accounting import ExpenditureWriter, file_name
    from .faults import write_truth
    from .rosters import RosterSampler, write_rosters

    out_dir.mkdir(parents=True, exist_ok=True)
    generator = CountyGenerator(people, seed, year, today=today, import_faults=import_faults, faults=faults)
    today = generator.today
    regions = out_dir / "行政区划.csv"
    with open(regions, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(["区划代码", "名称"])
        writer.writerows(generator.region_rows())
    previous_path = out_dir / f"监测对象信息_{COUNTY[1]}_{year - 1}.xlsx"
    members_path = out_dir / f"户成员信息_{COUNTY[1]}_{year}.xlsx"
    monitoring_path = out_dir / f"监测对象信息_{COUNTY[1]}_{year}.xlsx"
    previous = LayoutWriter(previous_path, "monitoring", year - 1, dt.date(year, 3, 1))
    members = LayoutWriter(members_path, "member", year, today)
    monitoring = LayoutWriter(monitoring_path, "monitoring", year, today)
    sampler = RosterSampler(random.Random(seed + 1), today, generator.parameters)
    expenditures = ExpenditureWriter(out_dir / file_name(year), generator, seed + 2)
    total_people = households = 0
    last_year = f"{year - 1}12"
    for family in generator.families():
        households += 1
        sampler.see(family)
        expenditures.see(family)
        if family.category and family.identified and family.identified <= last_year:
            scaled = {k: (v * family.previous_factor).quantize(Decimal(1)) for k, v in family.income.items()}
            for person in family.members:
                number = previous.write(person_row(family, person, True, income=totals(scaled), seeded=False))
                person.rows["previous"] = number
                family.rows.setdefault("previous", number)
        for person in family.members:
            person.rows["member"] = members.write(person_row(family, person, monitoring=False))
            family.rows.setdefault("member", person.rows["member"])
            if family.category and person.in_monitoring:
                person.rows["monitoring"] = monitoring.write(person_row(family, person, monitoring=True))
                family.rows.setdefault("monitoring", person.rows["monitoring"])
            total_people += 1
        for person, cells in family.extra_monitoring:
            row = person_row(family, person, monitoring=True, seeded=False)
            row.update({"与户主关系": "其他", **cells})
            person.rows["monitoring"] = monitoring.write(row)
    members.close()
    monitoring.close()
    previous.close()
    expenditures.close()
    rosters, roster_rows = write_rosters(sampler, out_dir, f"{today:%Y%m}")
    paths = {"member": members_path, "monitoring": monitoring_path, "previous": previous_path,
             "expenditure": expenditures.path}  # fmt: skip
    truth = out_dir / "truth.csv"
    seeded = write_truth(truth, generator.planner.seeds if generator.planner else [], paths, roster_rows)
    rows = members.count + monitoring.count + previous.count + sum(len(r) for r in sampler.rows.values())
    rows += expenditures.count
    return DemoFiles(regions, members_path, monitoring_path, total_people, households, rosters,
                     previous_path if previous.count else None, truth, expenditures.path, seeded, rows)  # fmt: skip
