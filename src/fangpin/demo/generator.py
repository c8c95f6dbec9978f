"""A synthetic but realistic county: 绛县 (140826), deterministic by seed.

It writes what a county really receives — a region table and the national system's two exports
(户成员信息, 监测对象信息) as .xlsx with title rows — so the demo goes through the same import path
a user does. Names, ages, household structures, incomes and the 三保障 facts follow plausible
distributions; the numbers are made up, the layouts are not.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from fangpin.common.idnumber import make_id
from fangpin.registry.columns import LAYOUT_TITLES, MEMBER_LAYOUT, MONITORING_LAYOUT

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
RISKS = [("因病", 40), ("因残", 20), ("因学", 10), ("缺劳动力", 10), ("因务工就业不稳", 8), ("因意外事故", 4),
         ("因自然灾害", 4), ("因安全住房", 2), ("其他", 2)]  # fmt: skip
RISK_MEASURES = {
    "因病": ("健康帮扶", "城乡居民基本医疗保险个人缴费补贴"), "因残": ("综合保障", "残疾人补贴"),
    "因学": ("教育帮扶", "雨露计划"), "缺劳动力": ("综合保障", "低保"), "因务工就业不稳": ("就业帮扶", "外出务工补贴"),
    "因意外事故": ("社会帮扶", "临时救助"), "因自然灾害": ("社会帮扶", "受灾救助"),
    "因安全住房": ("住房安全保障", "危房改造"), "其他": ("社会帮扶", "社会捐助"),
}  # fmt: skip
# The first families all live in the demo logins' village, so that even a small demo shows the whole
# monitoring loop there: some monitored, a few of them ready for risk elimination, the rest to identify.
DEMO_VILLAGE_FAMILIES, DEMO_MONITORED, DEMO_READY = 40, 14, 6
GRADES = ["一", "二", "三", "四", "五", "六"]
WORK_PLACES = ["本县", "本县", "运城市", "太原市", "西安市", "北京市", "江苏省苏州市"]


@dataclass
class Person:
    name: str
    id_number: str
    relation: str
    gender: str
    birth: dt.date
    health: str = "健康"
    labour: str = "普通劳动力"
    education: str = ""
    school: str = ""
    dropout: str = ""
    work_months: int = 0
    work_place: str = ""
    phone: str = ""
    resident_medical: bool = True
    employee_medical: bool = False
    pension: bool = False
    dibao: bool = False
    tekun: bool = False
    welfare_post: str = ""
    id_type: str = "身份证"

    def age(self, today: dt.date) -> int:
        return today.year - self.birth.year - ((today.month, today.day) < (self.birth.month, self.birth.day))


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
    contact: tuple[str, str] = ("", "")
    land: Decimal = Decimal("0")
    forest: Decimal = Decimal("0")
    dangerous_house: bool = False
    safe_water: bool = True
    toilet: bool = True
    phone: str = ""
    income: dict[str, Decimal] = field(default_factory=dict)
    reported_per_capita: Decimal | None = None
    self_pay: Decimal = Decimal("0")
    number: int = 0


class CountyGenerator:
    def __init__(self, people: int, seed: int, year: int) -> None:
        self.target = people
        self.rng = random.Random(seed)
        self.year = year
        self.today = dt.date(year + 1, 3, 1)
        self.used_ids: set[str] = set()
        self.villages = self._villages()

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

    # -- people --
    def _id(self, birth: dt.date, gender: str) -> str:
        while True:
            seq = self.rng.randrange(0, 1000)
            if (seq % 2 == 1) != (gender == "男"):
                seq = (seq + 1) % 1000
            value = make_id(COUNTY_CODE, birth, seq)
            if value[:17] not in self.used_ids:
                self.used_ids.add(value[:17])
                return value

    def _person(self, relation: str, gender: str, age: int, surname: str) -> Person:
        rng = self.rng
        birth = self.today - dt.timedelta(days=age * 365 + rng.randrange(0, 365))
        pool = MALE if gender == "男" else FEMALE
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
        person = Person(f"{surname}{given}", self._id(birth, gender), relation, gender, birth)
        self._attributes(person)
        if person.health == "残疾" and rng.random() < 0.95:
            category, grade = rng.choice("1234567"), rng.choice("1234")
            person.id_number += category + grade
            person.id_type = "残疾人证"
            if category == "4" and grade in "12":
                person.labour = "丧失劳动力"
        return person

    def _attributes(self, p: Person) -> None:
        rng, age = self.rng, p.age(self.today)
        roll = rng.random()
        if roll < 0.03:
            p.health = "残疾"
        elif roll < 0.04:
            p.health = "患有大病"
        elif roll < 0.04 + max(0.0, (age - 40) / 200):
            p.health = "长期慢性病"
        if age < 6:
            p.school = "学龄前儿童" if age < 3 else "学前教育"
        elif age <= 11:
            p.school = f"小学{GRADES[min(age - 6, 5)]}年级"
        elif age <= 14:
            p.school = ["七年级", "八年级", "九年级"][age - 12]
        elif age <= 17 and rng.random() < 0.9:
            p.school = f"{'高中' if rng.random() < 0.6 else '中职'}{['一', '二', '三'][age - 15]}年级"
        elif age <= 21 and rng.random() < 0.45:
            p.school = "本科" if rng.random() < 0.5 else "高职高专一年级"
        if 6 <= age <= 15 and rng.random() < 0.002:
            p.school, p.dropout = "", "因病"
        if not p.school:
            if age < 16:
                p.education = "小学" if age >= 12 else ""
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
        if p.labour in ("普通劳动力", "技能劳动力") and rng.random() < (
            0.97 if p.labour == "技能劳动力" or p.education in ("大专", "本科及以上") else 0.55
        ):
            p.work_months = rng.randint(3, 12)
            p.work_place = rng.choice(WORK_PLACES)
        if 18 <= age <= 72 and rng.random() < 0.85:
            p.phone = f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}"
        p.employee_medical = p.work_place in ("太原市", "北京市", "江苏省苏州市") and rng.random() < 0.3
        p.resident_medical = not p.employee_medical and rng.random() > 0.004
        p.pension = age >= 16 and not p.school and rng.random() < 0.85

    def _family(self, number: int) -> Family:
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
        family.members.append(self._person("户主", head_gender, head_age, surname))
        if size >= 2 and rng.random() < 0.85:
            spouse_gender = "女" if head_gender == "男" else "男"
            age = max(20, head_age + rng.randint(-5, 3))
            family.members.append(self._person("配偶", spouse_gender, age, rng.choice(SURNAMES)))
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
            family.members.append(self._person(relation, gender, age, surname))
        family.land = Decimal(rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 10, 12]) + rng.choice([0, 0.5]))
        family.forest = Decimal(rng.choice([0, 0, 0, 1, 2, 5]))
        family.dangerous_house = rng.random() < 0.003
        family.safe_water = rng.random() > 0.004
        family.toilet = rng.random() < 0.82
        family.phone = family.members[0].phone or f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}"
        self._monitoring(family)
        self._income(family)
        return family

    def _monitoring(self, f: Family) -> None:
        rng = self.rng
        roll = rng.random()
        if f.household_type == "脱贫户" and roll < 0.045:
            f.category = "脱贫不稳定户"
        elif f.household_type == "一般农户" and roll < 0.012:
            f.category = "边缘易致贫户"
        elif roll > 0.997:
            f.category = "突发严重困难户"
        if 0 < f.number <= DEMO_MONITORED:
            f.category = "脱贫不稳定户" if f.household_type == "脱贫户" else "边缘易致贫户"
        if not f.category:
            return
        names, weights = zip(*RISKS, strict=True)
        f.risks = list(dict.fromkeys(rng.choices(names, weights, k=rng.choice([1, 1, 1, 2]))))
        start = dt.date(2021, 3, 1) + dt.timedelta(days=rng.randrange(0, 1500))
        f.identified = f"{start:%Y%m}"
        months_since = (self.today.year - start.year) * 12 + self.today.month - start.month
        f.eliminated = months_since > 8 and rng.random() < 0.45
        if 0 < f.number <= DEMO_READY:
            # helped for a year by an employment measure that worked: ready for risk elimination in the demo
            f.risks, f.eliminated, f.identified = (
                ["因务工就业不稳"],
                False,
                f"{self.today.year - 1}{self.today.month:02d}",
            )
        if f.eliminated:
            end = start + dt.timedelta(days=rng.randint(200, max(201, months_since * 30 - 30)))
            f.eliminated_month = f"{end:%Y%m}"
            f.elimination_method = "帮扶消除" if rng.random() < 0.9 else "自然消除"
        self._facts_for_risks(f)
        for risk in f.risks:
            group, item = RISK_MEASURES[risk]
            f.measures.setdefault(group, []).append(item)
        if any(m.labour in ("普通劳动力", "技能劳动力") for m in f.members):
            f.measures.setdefault("产业帮扶", []).append(rng.choice(["种植业奖补", "养殖业奖补", "小额信贷"]))
        contact_surname = rng.choice(SURNAMES)
        f.contact = (
            contact_surname + rng.choice(MALE) + rng.choice(MALE),
            f"13{rng.randrange(10**8, 10**9)}",
        )
        if rng.random() < 0.3:
            worker = next((m for m in f.members if m.labour != "无劳动力" and m.age(self.today) < 65), None)
            if worker:
                worker.welfare_post = "保洁员"
        for m in f.members:
            m.dibao = "缺劳动力" in f.risks or (m.health == "残疾" and rng.random() < 0.4)

    def _facts_for_risks(self, f: Family) -> None:
        """A household identified for illness has a patient and medical bills; for disability, a disabled member."""
        rng = self.rng
        adults = [m for m in f.members if m.age(self.today) >= 16] or f.members
        if "因病" in f.risks and not any(m.health in ("患有大病", "长期慢性病") for m in f.members):
            patient = rng.choice(adults)
            patient.health = rng.choice(["患有大病", "长期慢性病"])
        if "因病" in f.risks:
            f.self_pay = Decimal(rng.randint(3000, 30000))
        if "因残" in f.risks and not any(m.health == "残疾" for m in f.members):
            disabled = rng.choice(adults)
            disabled.health = "残疾"
            disabled.labour = "弱劳动力或半劳动力" if disabled.labour != "无劳动力" else disabled.labour

    def _income(self, f: Family) -> None:
        rng = self.rng
        low = bool(f.category) and not f.eliminated and not 0 < f.number <= DEMO_READY
        wage = sum(
            Decimal(m.work_months * rng.randint(1800 if low else 3000, 3200 if low else 6000))
            for m in f.members
        )
        # able adults who do not migrate still earn locally (day labour, seasonal work)
        wage += sum(
            Decimal(rng.randint(3000, 6000) if low else rng.randint(8000, 18000))
            for m in f.members
            if m.labour in ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力") and not m.work_months
        )
        welfare = Decimal(6000 if any(m.welfare_post for m in f.members) else 0)
        business = (f.land * rng.randint(1500, 2600)).quantize(Decimal("1"))
        expense = (business * Decimal(rng.randint(30, 45)) / 100).quantize(Decimal("1"))
        dividend = Decimal(rng.choice([300, 500, 800])) if f.household_type == "脱贫户" else Decimal(0)
        # basic pension plus the county's top-up, and children's support counted by custom as other transfers
        pension = Decimal(
            sum(2400 + (1200 if m.age(self.today) >= 75 else 0) for m in f.members if m.age(self.today) >= 60)
        )
        if len(f.members) <= 2 and all(m.age(self.today) >= 60 for m in f.members) and not low:
            pension += Decimal(rng.randint(4000, 9000))
        dibao = Decimal(sum(4800 for m in f.members if m.dibao))
        eco = Decimal(int(f.forest * 120))
        transfer = pension + dibao + eco
        property_income = dividend
        income = {
            "工资性收入": wage + welfare, "公益性岗位收入": welfare, "其他工资性收入": wage,
            "生产经营性收入": business, "财产性收入": property_income, "资产收益扶贫分红收入": dividend,
            "转移性收入": transfer, "养老金或离退休金": pension, "最低生活保障金": dibao, "生态补偿金": eco,
            "生产经营性支出": expense,
        }  # fmt: skip
        gross = wage + welfare + business + property_income + transfer
        net = gross - expense
        income["年收入（元）"], income["纯收入（元）"] = gross, net
        f.income = income
        per_capita = (net / len(f.members)).quantize(Decimal("0.01"))
        # About one household in 200 carries a 人均纯收入 the national system computed otherwise.
        f.reported_per_capita = (
            per_capita + Decimal(rng.choice([-600, 350, 1200])) if rng.random() < 0.005 else per_capita
        )

    def families(self) -> Iterator[Family]:
        people, number = 0, 0
        while people < self.target:
            number += 1
            family = self._family(number)
            people += len(family.members)
            yield family


def _yes(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def _row(f: Family, p: Person, monitoring: bool) -> dict[str, object]:
    row: dict[str, object] = {
        "县": COUNTY[1], "乡": f.township, "村": f.village, "户编号": f.household_no, "姓名": p.name,
        "证件号码": p.id_number, "证件类型": p.id_type, "与户主关系": p.relation, "性别": p.gender,
        "出生日期": p.birth.isoformat(), "民族": "汉族", "文化程度": p.education, "在校生状况": p.school,
        "义务教育阶段未上学原因": p.dropout, "健康状况": p.health, "劳动技能": p.labour,
        "务工时间（月）": p.work_months or None, "务工所在地": p.work_place,
        "是否参加城乡居民基本医疗保险": _yes(p.resident_medical), "是否参加城镇职工基本医疗保险": _yes(p.employee_medical),
        "是否参加大病保险": _yes(p.resident_medical), "是否参加城乡居民基本养老保险": _yes(p.pension),
        "是否享受农村居民最低生活保障": _yes(p.dibao), "是否特困供养人员": _yes(p.tekun),
        "公益性岗位": p.welfare_post, "公益性岗位(月数)": 12 if p.welfare_post else None,
        "家庭成员联系电话": p.phone, "户类型": f.household_type, "监测对象类别": f.category,
        "户联系电话": f.phone, "当前家庭人口数": len(f.members), "年度家庭人口数": len(f.members),
        "人均纯收入（元）": f.reported_per_capita, "耕地面积（亩）": f.land, "林地面积（亩）": f.forest,
        "是否危房户": _yes(f.dangerous_house), "住房面积": 60 + 20 * len(f.members),
        "是否解决安全饮用水": _yes(f.safe_water), "是否有卫生厕所": _yes(f.toilet), "入户路类型": "水泥路",
        "与村主干路距离": "0.5公里", "是否通生活用电": "是",
    }  # fmt: skip
    row.update(f.income)
    if monitoring:
        row.update({
            "识别监测时间": f.identified, "风险是否已消除": _yes(f.eliminated), "消除监测时间": f.eliminated_month,
            "风险消除方式": f.elimination_method, "实施开发式帮扶措施情况": "已实施" if "产业帮扶" in f.measures else "",
            "整户无劳动能力兜底保障户": _yes(all(m.labour in ("无劳动力", "丧失劳动力") for m in f.members)),
            "监测联系人": f.contact[0], "监测联系人电话": f.contact[1], "合规自付支出": f.self_pay,
            "信息采集人": f.contact[0], "信息采集人联系电话": f.contact[1],
        })  # fmt: skip
        for i, risk in enumerate(f.risks, start=1):
            row[f"致贫/返贫风险{i}"] = risk
        for group, items in f.measures.items():
            row[group] = "、".join(items)
    return row


class LayoutWriter:
    """Writes one national layout as .xlsx with the title rows the national export has."""

    def __init__(self, path: Path, layout: str, year: int) -> None:
        self.columns = MEMBER_LAYOUT if layout == "member" else MONITORING_LAYOUT
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.sheet = self.workbook.add_worksheet("Sheet1")
        self.sheet.write_string(0, 0, f"{LAYOUT_TITLES[layout]}（{year}年度）")
        self.sheet.write_string(1, 0, f"导出时间：{year + 1}-03-01 09:00:00")
        for col, column in enumerate(self.columns):
            self.sheet.write_string(2, col, column.label)
        self.labels = [c.label for c in self.columns]
        self.row = 3

    def write(self, values: dict[str, object]) -> None:
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


def write_demo_files(out_dir: Path, *, people: int, seed: int, year: int) -> DemoFiles:
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = CountyGenerator(people, seed, year)
    regions = out_dir / "行政区划.csv"
    with open(regions, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(["区划代码", "名称"])
        writer.writerows(generator.region_rows())
    members_path = out_dir / f"户成员信息_{COUNTY[1]}_{year}.xlsx"
    monitoring_path = out_dir / f"监测对象信息_{COUNTY[1]}_{year}.xlsx"
    members = LayoutWriter(members_path, "member", year)
    monitoring = LayoutWriter(monitoring_path, "monitoring", year)
    from .rosters import RosterSampler, write_rosters

    sampler = RosterSampler(random.Random(seed + 1), year + 1)
    total_people = households = 0
    for family in generator.families():
        households += 1
        sampler.see(family, generator.today)
        for person in family.members:
            members.write(_row(family, person, monitoring=False))
            if family.category:
                monitoring.write(_row(family, person, monitoring=True))
            total_people += 1
    members.close()
    monitoring.close()
    rosters = write_rosters(sampler, out_dir, f"{year + 1}10")
    return DemoFiles(regions, members_path, monitoring_path, total_people, households, rosters)
