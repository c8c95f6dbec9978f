"""The faults the demo county carries on purpose, and the truth file that records them.

Every rule of the catalogue gets a few households (one per rule below 10,000 people, two below
100,000, three above) on which it must fire; every other record is clean, so that a screening of the
demo county finds exactly what was seeded — a precision and recall test of the whole catalogue
(tests/test_demo_precision.py) and a county that looks like a county, not like a broken tool.

Each fault is a spec: the rule, a short Chinese description, what its household must be generated as
(`Needs`, e.g. a monitored household with risk 因病, not eliminated), an optional check on the members
before that, and `apply`, which changes the household so that this rule — and, where one fact always
breaks two rules, the second one too — fires, and returns the findings expected (`Seed`). A spec whose
household does not fit waits for the next one. Faults are spread evenly over the county and
deterministic by seed. truth.csv names rule, household (户编号), person (人口编号, masked ID), file and
row of each expected finding; a full ID number never appears in it.

Import-side faults (IDs with a wrong check digit, IDs Excel damaged — twins sharing one damaged number,
told apart by 人口编号 —, 15-digit IDs, invalid phones, unknown vocabulary, a person registered in a
second household, household rows that disagree) are seeded only when asked for (`import_faults`, by
rule id; `fangpin demo` asks for all of IMPORT_FAULT_RULES): the importer keeps them as value faults
and catalogue/15_import_faults.toml lists them.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from fangpin.common.idnumber import CHECK_CHARS, check_char, mask_id

from .generator import (
    ABLE,
    BELOW_LINE_MAX,
    DEMO_VILLAGE_FAMILIES,
    Family,
    Needs,
    Person,
    month_date,
    month_of,
)

if TYPE_CHECKING:
    from .generator import CountyGenerator

IMPORT_FAULT_RULES = (
    "DQ_ID_CHECKSUM", "DQ_ID_EXCEL_DAMAGED", "DQ_ID_OLD15", "DQ_PHONE_INVALID", "DQ_VALUE_UNKNOWN",
    "DQ_DUPLICATE_PERSON", "DQ_ID_INVALID", "DQ_HOUSEHOLD_PHONE_INVALID", "DQ_HOUSEHOLD_VALUE_UNKNOWN",
    "DQ_HOUSEHOLD_INCONSISTENT",
)  # fmt: skip
TRUTH_COLUMNS = (
    "fault",
    "rule_id",
    "family",
    "kind",
    "file",
    "row",
    "household_no",
    "person_no",
    "id_masked",
)
GRADUATE = ("大专", "本科及以上")


# the 2026 rules of catalogue/65_joint_monitoring.toml carry no family prefix in their ids
JOINT_RULES = ("RIGID_EXPENDITURE_DIFFICULTY", "GENERAL_BELOW_DIBAO_EDGE")


def rule_family(rule: str) -> str:
    if rule.startswith("INC_") or rule in JOINT_RULES:
        return "收入监测"
    return "部门预警" if rule.startswith("DEPT_") else "数据质量"


@dataclass
class Seed:
    """One finding the screening must make."""

    rule: str
    household: Family
    person: Person | None = None  # the person of a person-level rule
    file: str = "member"  # member | monitoring | previous | roster
    at: Person | None = None  # whose row shows the fault (default: the person, else the head)
    kind: str = ""
    roster: tuple[str, int] | None = None  # (roster kind, index of its row)
    written_id: str = ""  # the ID as written, when the fault is in it
    fault: int = 0


Apply = Callable[["CountyGenerator", Family], list[Seed] | None]


@dataclass(frozen=True)
class Spec:
    rule: str
    kind: str
    apply: Apply
    needs: Needs = field(default_factory=lambda: Needs(monitored=False))
    members_ok: Callable[[CountyGenerator, Family], bool] | None = None
    window: tuple[int, int] | None = None  # household numbers it must land in (the demo village)


# --- helpers -------------------------------------------------------------------------------------


def age(g: CountyGenerator, p: Person) -> int:
    return p.age(g.today)


def pick(g: CountyGenerator, f: Family, test: Callable[[Person], bool]) -> Person | None:
    options = [m for m in f.members if test(m)]
    return g.rng.choice(options) if options else None


def plain_id(p: Person) -> bool:
    """An 18-digit 身份证 holder without a 残联 card on file."""
    return len(p.id_number) == 18 and p.id_type == "身份证" and not p.roster_card


def recent(g: CountyGenerator, low: int = 15, high: int = 320) -> dt.date:
    """A day within the last twelve months before the screening."""
    return g.today - dt.timedelta(days=g.rng.randint(low, high))


def one(rule: str, f: Family, p: Person | None = None, **kw) -> list[Seed]:  # type: ignore[no-untyped-def]
    return [Seed(rule, f, p, **kw)]


def on_person(rule: str, test: Callable[[CountyGenerator, Person], bool],
              change: Callable[[CountyGenerator, Person], None]) -> Apply:  # fmt: skip
    """A person-level fault: one member who passes the test gets the change."""

    def apply(g: CountyGenerator, f: Family) -> list[Seed] | None:
        p = pick(g, f, lambda m: test(g, m))
        if p is None:
            return None
        change(g, p)
        return one(rule, f, p)

    return apply


def on_household(
    rule: str, change: Callable[[CountyGenerator, Family], bool | None], file: str = "member"
) -> Apply:
    def apply(g: CountyGenerator, f: Family) -> list[Seed] | None:
        if change(g, f) is False:
            return None
        return one(rule, f, file=file)

    return apply


def setter(**values: object) -> Callable[[CountyGenerator, Person], None]:
    def change(g: CountyGenerator, p: Person) -> None:
        for name, value in values.items():
            setattr(p, name, value)

    return change


def adult(g: CountyGenerator, p: Person) -> bool:
    return 23 <= age(g, p) <= 60 and not p.school


def monitored(*risks: str, eliminated: bool | None = False, **kw) -> Needs:  # type: ignore[no-untyped-def]
    return Needs(monitored=True, eliminated=eliminated, risks=risks, **kw)


# --- 10 身份与家庭关系 ------------------------------------------------------------------------------


def gender_id(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if any(m.relation == "配偶" for m in f.members) or not plain_id(f.head):
        return None
    f.head.gender = "女" if f.head.gender == "男" else "男"
    return one("DQ_GENDER_ID", f, f.head, kind=f"户主性别登记为{f.head.gender}，证件号码显示为另一性别")


def birth_id(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: age(g, m) >= 16 and plain_id(m))
    if p is None:
        return None
    for days in (*range(3, 28), *range(-3, -28, -1)):
        other = p.birth + dt.timedelta(days=days)
        if other.year == p.birth.year and Person("", "", "", "", other).age(g.today) == age(g, p):
            p.birth_written = other
            return one("DQ_BIRTH_ID", f, p, kind=f"出生日期登记为{other}，证件号码中为{p.birth}")
    return None


def disabled_no_card(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: m.card != "")
    if p is None:
        p = pick(g, f, lambda m: adult(g, m) and m.health == "健康" and not m.welfare_post)
        if p is None:
            return None
        p.health = "残疾"
        if p.labour in ABLE:
            p.labour = "弱劳动力或半劳动力"
    p.id_number, p.id_type = p.id_number[:18], "身份证"
    return one("DQ_DISABLED_NO_CARD", f, p, kind="健康状况为残疾，证件类型为身份证")


def limb_able(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(
        g, f, lambda m: adult(g, m) and plain_id(m) and m.education not in GRADUATE and not m.welfare_post
    )
    if p is None:
        return None
    grade = g.rng.choice("12")
    p.health, p.id_number, p.id_type, p.labour = (
        "残疾",
        p.id_number[:18] + "4" + grade,
        "残疾人证",
        "普通劳动力",
    )
    return one("DQ_LIMB_DISABLED_ABLE", f, p, kind=f"{grade}级肢体残疾登记为普通劳动力")


def head_count(g: CountyGenerator, f: Family) -> list[Seed] | None:
    spouse = next((m for m in f.members if m.relation == "配偶"), None)
    if spouse is None:
        return None
    spouse.monitoring_cells["与户主关系"] = "户主"
    f.head.in_monitoring = False
    return one("DQ_HEAD_COUNT", f, file="monitoring", at=spouse,
               kind="监测对象信息中配偶登记为户主、原户主未列出：两名户主")  # fmt: skip


def spouse_same_sex(g: CountyGenerator, f: Family) -> list[Seed] | None:
    spouse = next((m for m in f.members if m.relation == "配偶"), None)
    if spouse is None:
        return None
    spouse.gender = f.head.gender
    spouse.id_number = g.id_for(spouse.birth, spouse.gender) + spouse.card
    spouse.name = spouse.name[0] + g.given_name(spouse.gender)
    return one("DQ_HEAD_SPOUSE_SAME_SEX", f, kind=f"户主与配偶性别均为{f.head.gender}")


def relation_sex(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: m.relation in ("之子", "之女"))
    if p is None:
        return None
    p.relation = "之女" if p.relation == "之子" else "之子"
    return one("DQ_RELATION_SEX", f, p, kind=f"性别为{p.gender}，与户主关系登记为{p.relation}")


def multiple_spouses(g: CountyGenerator, f: Family) -> list[Seed] | None:
    has_spouse = any(m.relation == "配偶" for m in f.members)
    p = pick(g, f, lambda m: m.relation in ("之子", "之女") and m.gender != f.head.gender and age(g, m) >= 18)
    if not has_spouse or p is None:
        return None
    p.relation = "配偶"
    return one("DQ_MULTIPLE_SPOUSES", f, kind=f"{p.name}（子女）登记为配偶：两名配偶")


def spouse_as(rule: str, relations: tuple[str, str], kind: str) -> Apply:
    def apply(g: CountyGenerator, f: Family) -> list[Seed] | None:
        spouse = next((m for m in f.members if m.relation == "配偶"), None)
        if spouse is None or spouse.gender == f.head.gender:
            return None
        spouse.relation = relations[0] if spouse.gender == "男" else relations[1]
        return one(rule, f, spouse, kind=kind.format(relation=spouse.relation))

    return apply


def size_mismatch(g: CountyGenerator, f: Family) -> list[Seed] | None:
    n = len(f.members)
    f.current_size = n + 1
    return one("DQ_SIZE_MISMATCH", f, kind=f"当前家庭人口数{n + 1}，成员{n}人")


def shared_phone(g: CountyGenerator, f: Family) -> list[Seed] | None:
    other = next((o for o in reversed(g.recent_plain) if o.phone), None)
    if other is None:
        return None
    g.recent_plain.remove(other)
    f.phone = other.phone
    return [Seed("DQ_SHARED_PHONE", f, kind=f"户联系电话与户编号{other.household_no}相同"),
            Seed("DQ_SHARED_PHONE", other, kind=f"户联系电话与户编号{f.household_no}相同")]  # fmt: skip


# --- 20 年龄、劳动能力与在校 -------------------------------------------------------------------------


def school_child(g: CountyGenerator, p: Person) -> bool:
    """A child in school well inside the compulsory school ages (counted to the school year)."""
    return 7 <= g.school_age(p) <= 14 and p.student and not p.dropout


def preschool_too_old(g: CountyGenerator, f: Family) -> list[Seed] | None:
    """A pupil registered as 学前教育: too old for it, and so also out of compulsory school."""
    p = pick(g, f, lambda m: 7 <= age(g, m) <= 9 and m.health == "健康" and m.school.startswith("小学"))
    if p is None:
        return None
    p.school = "学前教育"
    return [Seed("DQ_PRESCHOOL_TOO_OLD", f, p, kind=f"{age(g, p)}岁小学生登记为学前教育"),
            Seed("DQ_COMPULSORY_NOT_IN_SCHOOL", f, p, kind="学前教育：义务教育阶段未入学")]  # fmt: skip


def minor_work(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: 6 <= age(g, m) <= 15)
    if p is None or f.income.get("工资性收入", 0) <= 0:
        return None
    p.work_months, p.work_place = 3, "本县"
    return one("DQ_MINOR_WORK", f, p, kind="16岁以下登记务工3个月")


def no_work(g: CountyGenerator, p: Person) -> None:
    p.work_months, p.work_place = 0, ""


def not_working(g: CountyGenerator, p: Person) -> None:
    """务工时间 written as 0: the export says the person did not work."""
    no_work(g, p)
    p.cells["务工时间（月）"] = 0


def dropout(g: CountyGenerator, p: Person) -> None:
    p.school, p.dropout = "", g.rng.choice(["因病", "厌学", "家庭困难"])
    p.education = "小学" if age(g, p) >= 12 else ""


def no_phone(g: CountyGenerator, f: Family) -> bool:
    f.phone = ""
    for m in f.members:
        m.phone = ""
    return True


# --- 40 监测逻辑 ------------------------------------------------------------------------------------


def drop_group(*groups: str) -> Callable[[CountyGenerator, Family], bool]:
    def change(g: CountyGenerator, f: Family) -> bool:
        if not all(group in f.measures for group in groups):
            return False
        for group in groups:
            del f.measures[group]
        return True

    return change


def risk_disability_without_disabled(g: CountyGenerator, f: Family) -> list[Seed] | None:
    disabled = [m for m in f.members if m.health == "残疾"]
    if not disabled:
        return None
    for m in disabled:
        m.health, m.id_number, m.id_type, m.roster_card = "长期慢性病", m.id_number[:18], "身份证", ""
    items = [i for i in f.measures.get("综合保障", []) if i != "残疾人补贴"]
    if items:
        f.measures["综合保障"] = items
    else:
        f.measures.pop("综合保障", None)
    f.measures.setdefault("社会帮扶", []).append("社会捐赠")
    return one("DQ_RISK_DISABILITY_WITHOUT_DISABLED", f, file="monitoring", kind="风险为因残，成员中无残疾人")


def risk_illness_without_patient(g: CountyGenerator, f: Family) -> list[Seed] | None:
    patients = [m for m in f.members if m.health in ("患有大病", "长期慢性病")]
    if not patients or not all(
        age(g, m) > 60 or age(g, m) < 16 or m.school or m.labour in ABLE for m in patients
    ):
        return None
    for m in patients:
        m.health = "健康"
    return one(
        "DQ_RISK_ILLNESS_WITHOUT_PATIENT", f, file="monitoring", kind="风险为因病，成员中无大病或慢性病患者"
    )


def able(f: Family) -> int:
    return sum(m.labour in ABLE for m in f.members)


def risk_work_without_labour(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if any(m.labour in (*ABLE, "弱劳动力或半劳动力") for m in f.members) or len(f.risks) >= 5:
        return None
    f.risks.append("因务工就业不稳")
    return one(
        "DQ_RISK_WORK_WITHOUT_LABOUR", f, file="monitoring", kind="风险为因务工就业不稳，成员均无劳动能力"
    )


def labour_shortage_but_able(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if able(f) * 2 <= len(f.members):
        return None
    f.risks.append("缺劳动力")
    return one("DQ_RISK_LABOUR_SHORTAGE_BUT_ABLE", f, file="monitoring",
               kind=f"风险为缺劳动力，{len(f.members)}人中{able(f)}人有劳动能力")  # fmt: skip


def uninsured_without_risk(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: m.resident_medical is True)
    if p is None:
        return None
    p.resident_medical = p.critical_illness = False
    return [Seed("DQ_UNINSURED_WITHOUT_RISK", f, at=p, kind="监测户成员未参加基本医疗保险，风险无因病"),
            Seed("DQ_MEDICAL_NONE", f, p, kind="未参加基本医疗保险（监测户）")]  # fmt: skip


def dropout_without_measure(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: school_child(g, m))
    if p is None:
        return None
    dropout(g, p)
    return [Seed("DQ_DROPOUT_WITHOUT_MEASURE", f, p, kind="监测户适龄儿童辍学，无义务教育保障措施"),
            Seed("DQ_COMPULSORY_NOT_IN_SCHOOL", f, p, kind="义务教育阶段辍学（监测户）")]  # fmt: skip


def only_social_security(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if not able(f) or able(f) * 2 > len(f.members) or "综合保障" not in f.measures:
        return None
    f.measures = {"综合保障": f.measures["综合保障"]}
    f.development = "已实施"
    return one("DQ_ONLY_SOCIAL_SECURITY", f, file="monitoring", kind="有劳动能力，帮扶措施只有综合保障")


def no_development(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if not able(f) or "产业帮扶" not in f.measures or {"就业帮扶", "公益岗位帮扶"} & set(f.measures):
        return None
    del f.measures["产业帮扶"]
    f.development = "尚未实施"
    return one(
        "DQ_NO_DEVELOPMENT_MEASURE", f, file="monitoring", kind="有劳动能力，识别后未实施产业或就业帮扶"
    )


def subsidy_without_disabled(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if any(m.health == "残疾" for m in f.members):
        return None
    f.measures.setdefault("综合保障", []).append("残疾人补贴")
    return one(
        "DQ_DISABILITY_SUBSIDY_WITHOUT_DISABLED",
        f,
        file="monitoring",
        kind="有残疾人补贴措施，成员中无残疾人",
    )


def employment_without_worker(g: CountyGenerator, f: Family) -> list[Seed] | None:
    workers = [m for m in f.members if m.work_months]
    if not workers or any(m.welfare_post for m in f.members):
        return None
    if any(m.labour != "普通劳动力" or m.education in GRADUATE for m in workers):
        return None
    for m in workers:
        no_work(g, m)
    return one("DQ_EMPLOYMENT_MEASURE_WITHOUT_WORKER", f, file="monitoring", at=workers[0],
               kind="有就业帮扶措施，无人务工")  # fmt: skip


def yulu_without_student(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if any(m.school.startswith(("中职", "高职")) for m in f.members):
        return None
    f.measures.setdefault("教育帮扶", []).append("雨露计划")
    return one(
        "DQ_YULU_WITHOUT_VOCATIONAL_STUDENT", f, file="monitoring", kind="有雨露计划措施，无中职高职学生"
    )


# --- 50 风险消除与收入 ------------------------------------------------------------------------------


def eliminated_too_early(g: CountyGenerator, f: Family) -> list[Seed] | None:
    f.eliminated_month = month_of(month_date(f.identified), 3)
    return one(
        "DQ_ELIMINATED_TOO_EARLY", f, file="monitoring", kind=f"{f.identified}识别、{f.eliminated_month}消除"
    )


def with_income(rule: str, band: str, kind: str, test: Callable[[Decimal], bool], file: str = "member",
                **options: bool) -> Apply:  # fmt: skip
    """The household's income recomputed into another band (checked: fixed items may keep it out)."""

    def apply(g: CountyGenerator, f: Family) -> list[Seed] | None:
        income = g.income(f, band, **options)
        per_capita = income["纯收入（元）"] / len(f.members)
        if not test(per_capita):
            return None
        g.set_income(f, income)
        return one(rule, f, file=file, kind=kind.format(per_capita=f"{per_capita:,.0f}"))

    return apply


def below(value: Decimal) -> bool:
    return Decimal(0) < value < BELOW_LINE_MAX


def net_negative(g: CountyGenerator, f: Family) -> list[Seed] | None:
    income = dict(f.income)
    loss = Decimal(g.rng.randint(1000, 5000))
    income["生产经营性支出"] = income["年收入（元）"] + loss
    g.set_income(f, totals(income))
    return one("DQ_INCOME_NET_NEGATIVE", f, kind=f"生产经营性支出超过全部收入，纯收入-{loss}元")


def worker_without_wage(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if not any(m.work_months for m in f.members) or any(m.welfare_post for m in f.members):
        return None
    income = dict(f.income)
    income["工资性收入"] = income["其他工资性收入"] = income["公益性岗位收入"] = Decimal(0)
    g.set_income(f, totals(income))
    return one("DQ_WORKER_WITHOUT_WAGE", f, kind="成员登记务工，工资性收入为0")


def eliminated_post_without_wage(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if any(m.work_months or m.welfare_post for m in f.members):
        return None
    p = pick(
        g, f, lambda m: 18 <= age(g, m) <= 64 and not m.school and m.labour in (*ABLE, "弱劳动力或半劳动力")
    )
    if p is None:
        return None
    income = g.income(f, "above", no_wage=True)
    if income["纯收入（元）"] / len(f.members) < Decimal("9500"):
        return None
    p.welfare_post, p.welfare_months = "保洁员", 12
    f.measures.setdefault("公益岗位帮扶", []).append("乡村公益性岗位")
    g.set_income(f, income)
    return one("DQ_ELIMINATED_EMPLOYMENT_WITHOUT_WAGE", f, kind="已消除户有公益岗位，工资性收入为0")


def industry_without_business(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if "产业帮扶" not in f.measures:
        return None
    g.set_income(f, g.income(f, "low", no_business=True))
    return one("DQ_INDUSTRY_MEASURE_WITHOUT_BUSINESS", f, kind="有产业帮扶措施，生产经营性收入为0")


def reported_differs(g: CountyGenerator, f: Family) -> list[Seed] | None:
    delta = Decimal(g.rng.choice([-600, 350, 1200]))
    f.reported_per_capita = f.per_capita + delta
    return one("DQ_INCOME_REPORTED_DIFFERS", f, kind=f"导入的人均纯收入比按口径计算的多{delta}元")


def implausible(g: CountyGenerator, f: Family) -> list[Seed] | None:
    if f.category == "突发严重困难户":
        return None
    return with_income("DQ_MONITORED_INCOME_IMPLAUSIBLE", "high", "2023年以来识别，人均纯收入{per_capita}元",
                       lambda v: v > Decimal("20500"))(g, f)  # fmt: skip


def sharp_drop(g: CountyGenerator, f: Family) -> list[Seed] | None:
    f.previous_factor = Decimal(g.rng.randint(170, 230)) / 100
    return one(
        "INC_MONITORED_SHARP_DROP", f, file="previous", kind=f"上年人均纯收入为今年的{f.previous_factor}倍"
    )


# --- 65 统筹监测（2026年起） ----------------------------------------------------------------------------


def rigid_hardship(g: CountyGenerator, f: Family) -> list[Seed] | None:
    """A household outside active monitoring whose 收支核算 shows 刚性支出困难 (accounting.py)."""
    from .accounting import describe, hardship_record

    record = hardship_record(g.rng, f, g.parameters)
    if record is None:
        return None
    f.expenditure = record
    return one("RIGID_EXPENDITURE_DIFFICULTY", f, file="expenditure", kind=describe(record, f))


def hardship_facts(*kinds: str) -> Callable[[CountyGenerator, Family], bool]:
    """The household has a member whose illness, schooling or disability can carry the expenditure."""
    from .accounting import school_kind, severe

    def ok(g: CountyGenerator, f: Family) -> bool:
        facts = {m.health for m in f.members} | {school_kind(m) for m in f.members}
        facts |= {"severe"} if any(severe(m) for m in f.members) else set()
        return bool(facts & set(kinds))

    return ok


def edge_band(value: Decimal) -> bool:
    return Decimal("8600") < value < Decimal("9600")


# --- 70 部门名册 ------------------------------------------------------------------------------------


def medical(rule: str, *, poverty: bool, window: str, low: int, high: int) -> Apply:
    """Claims in the medical roster: this year (`ytd`), last year within twelve months (`last`), or either
    (`any`, the share-of-income rule). The rules they must raise are computed as the catalogue does."""
    from .rosters import claim_row, medical_rules

    def apply(g: CountyGenerator, f: Family) -> list[Seed] | None:
        rng, today = g.rng, g.today
        year_start, start = dt.date(today.year, 1, 1), today - dt.timedelta(days=355)
        first, last = {"ytd": (max(year_start, start), today), "last": (start, year_start - dt.timedelta(days=1)),
                       "any": (start, today)}[window]  # fmt: skip
        if first > last:  # late December: no day of last year is within twelve months and not this year
            first, last = max(year_start, start), today
        lo, hi = low, high
        if rule == "DEPT_MEDICAL_SHARE_OF_INCOME":
            lo, hi = int(f.net * Decimal("0.5")) + 300, 19_800
        if lo >= hi:
            return None
        total = rng.randint(lo, hi)
        parts = rng.randint(1, 3)
        shares = [total // parts] * (parts - 1)
        shares.append(total - sum(shares))
        patient = pick(g, f, lambda m: m.health != "健康") or rng.choice(f.members)
        claims = [(first + dt.timedelta(days=rng.randint(0, (last - first).days)), s) for s in shares]
        rules = medical_rules(poverty, claims, f.net, today, g.parameters)
        if rule not in rules:
            return None
        seeds = [
            Seed(r, f, file="roster", kind=f"近12个月医保个人自付{total:,}元（{len(claims)}笔）")
            for r in sorted(rules)
        ]
        for i, (day, self_pay) in enumerate(claims):
            f.roster_rows.append(("medical", claim_row(patient, day, self_pay, rng), seeds if i == 0 else []))
        return seeds

    return apply


def roster_person(rule: str, kind: str, test: Callable[[CountyGenerator, Person], bool],
                  row: Callable[[CountyGenerator, Person], list[object]], text: str) -> Apply:  # fmt: skip
    def apply(g: CountyGenerator, f: Family) -> list[Seed] | None:
        p = pick(g, f, lambda m: test(g, m))
        if p is None:
            return None
        seeds = one(rule, f, p, file="roster", kind=text)
        f.roster_rows.append((kind, row(g, p), seeds))
        return seeds

    return apply


def roster_household(rule: str, kind: str, row: Callable[[CountyGenerator, Family], list[object]],
                     text: str) -> Apply:  # fmt: skip
    def apply(g: CountyGenerator, f: Family) -> list[Seed] | None:
        seeds = one(rule, f, file="roster", kind=text)
        f.roster_rows.append((kind, row(g, f), seeds))
        return seeds

    return apply


def since_identified(g: CountyGenerator, p: Person) -> dt.date:
    """A recent day, after the household's identification (what a comparison in monitoring finds)."""
    return g.today - dt.timedelta(days=g.rng.randint(10, 40))


def day(value: dt.date) -> str:
    return f"{value:%Y-%m-%d}"


# --- import-side faults --------------------------------------------------------------------------


def wrong_check_digit(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, plain_id)
    if p is None:
        return None
    right = p.id_number[17]
    written = p.id_number[:17] + g.rng.choice([c for c in CHECK_CHARS if c != right and c != "X"])
    p.cells["证件号码"] = written
    return one("DQ_ID_CHECKSUM", f, p, written_id=written, kind="证件号码校验位错误")


def excel_damaged(g: CountyGenerator, f: Family) -> list[Seed] | None:
    """Twins whose numbers Excel stored as one number (the same 15 significant digits), and a parent's
    number that came back as text ending in 000."""
    children = [m for m in f.members if m.relation in ("之子", "之女") and plain_id(m)]
    # a number ending in 000 whose check digit happens to fit names somebody else: not what Excel is seen to do
    parent = next((m for m in f.members if m.relation in ("户主", "配偶") and plain_id(m)
                   and check_char(m.id_number[:15] + "00") != "0"), None)  # fmt: skip
    if len(children) < 2 or parent is None:
        return None
    first, twin = children[0], children[1]
    number = g.twin_id(first.id_number, twin.gender)
    if number is None:
        return None
    twin.birth, twin.id_number, twin.id_type, twin.roster_card = first.birth, number, "身份证", ""
    for name in ("health", "school", "education", "dropout", "labour", "work_months", "work_place",
                 "resident_medical", "employee_medical", "critical_illness", "pension"):  # fmt: skip
        setattr(twin, name, getattr(first, name))
    twin.welfare_post, twin.welfare_months = "", None
    damaged = first.id_number[:15] + "000"
    seeds = []
    for p in (first, twin):
        p.cells["证件号码"] = float(int(damaged))  # a number cell: Excel shows 1.40826E+17
        seeds += one(
            "DQ_ID_EXCEL_DAMAGED", f, p, written_id=damaged, kind="证件号码存成了数字（双胞胎，同一损坏号码）"
        )
    text = parent.id_number[:15] + "000"
    parent.cells["证件号码"] = text
    seeds += one("DQ_ID_EXCEL_DAMAGED", f, parent, written_id=text, kind="证件号码末三位变成000")
    return seeds


def old_id(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: plain_id(m) and m.birth.year < 2000)
    if p is None:
        return None
    written = p.id_number[:6] + p.id_number[8:17]
    p.cells["证件号码"] = written
    return one("DQ_ID_OLD15", f, p, written_id=written, kind="15位旧证件号码")


def invalid_phone(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: bool(m.phone))
    if p is None:
        return None
    p.cells["家庭成员联系电话"] = p.phone[:10]
    return one("DQ_PHONE_INVALID", f, p, kind="家庭成员联系电话只有10位")


def unknown_value(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, lambda m: m.relation != "户主")
    if p is None:
        return None
    p.cells["性别"] = "9"  # GB/T 2261.1 未说明的性别: a code, not the export's vocabulary
    return one("DQ_VALUE_UNKNOWN", f, p, kind="性别填写为代码9")


def duplicate_person(g: CountyGenerator, f: Family) -> list[Seed] | None:
    other = next((o for o in reversed(g.recent_plain) if any(m.relation != "户主" and plain_id(m)
                                                              and age(g, m) >= 18 for m in o.members)), None)  # fmt: skip
    if other is None:
        return None
    g.recent_plain.remove(other)
    p = next(m for m in other.members if m.relation != "户主" and plain_id(m) and age(g, m) >= 18)
    f.extra_monitoring.append((p, {}))
    return one("DQ_DUPLICATE_PERSON", other, p, file="monitoring",
               kind=f"已在户编号{other.household_no}登记的人又出现在户编号{f.household_no}")  # fmt: skip


def short_id(g: CountyGenerator, f: Family) -> list[Seed] | None:
    p = pick(g, f, plain_id)
    if p is None:
        return None
    cut = g.rng.randrange(6, 17)
    written = p.id_number[:cut] + p.id_number[cut + 1 :]
    p.cells["证件号码"] = written
    return one("DQ_ID_INVALID", f, p, written_id=written, kind="证件号码只有17位")


def household_inconsistent(g: CountyGenerator, f: Family) -> list[Seed] | None:
    """The second member's row gives another 住房面积 than the first: imported by the first row."""
    if len(f.members) < 2 or not f.housing_area:
        return None
    other = f.members[1]
    other.cells["住房面积"] = f.housing_area + 20
    return one("DQ_HOUSEHOLD_INCONSISTENT", f, at=other, kind="第二名成员一行的住房面积与第一行不同")


def totals(income: dict[str, Decimal]) -> dict[str, Decimal]:
    from .generator import totals as add_up

    return add_up(income)


# --- the catalogue of faults ---------------------------------------------------------------------


def _specs() -> list[Spec]:
    S = Spec
    child = lambda lo, hi, more=None: lambda g, p: lo <= age(g, p) <= hi and (more is None or more(p))  # noqa: E731
    worker = lambda g, p: p.work_months > 0  # noqa: E731
    clean_out = lambda g, p: adult(g, p) and p.education and p.health == "健康"  # noqa: E731
    # fmt: off
    return [
        # 10 身份与家庭关系
        S("DQ_GENDER_ID", "性别与证件号码不符", gender_id),
        S("DQ_BIRTH_ID", "出生日期与证件号码不符", birth_id),
        S("DQ_DISABLED_NO_CARD", "残疾无残疾人证", disabled_no_card),
        S("DQ_LIMB_DISABLED_ABLE", "一二级肢体残疾登记为普通劳动力", limb_able),
        S("DQ_HEAD_COUNT", "两名户主", head_count, monitored(eliminated=None)),
        S("DQ_HEAD_SPOUSE_SAME_SEX", "户主与配偶同性别", spouse_same_sex),
        S("DQ_RELATION_SEX", "与户主关系和性别不符", relation_sex),
        S("DQ_MULTIPLE_SPOUSES", "两名配偶", multiple_spouses),
        S("DQ_CHILD_NOT_YOUNGER", "配偶登记为子女", spouse_as("DQ_CHILD_NOT_YOUNGER", ("之子", "之女"),
                                                            "配偶登记为{relation}：子女年龄不小于户主")),
        S("DQ_PARENT_NOT_OLDER", "配偶登记为父母", spouse_as("DQ_PARENT_NOT_OLDER", ("之父", "之母"),
                                                           "配偶登记为{relation}：父母年龄不大于户主")),
        S("DQ_SIZE_MISMATCH", "年度家庭人口数与成员数不符", size_mismatch),
        S("DQ_SHARED_PHONE", "两户同一户联系电话", shared_phone),
        # 20 年龄、劳动能力与在校
        S("DQ_MINOR_LABOUR", "婴幼儿登记为普通劳动力", on_person("DQ_MINOR_LABOUR", child(0, 2, lambda p: p.school == "学龄前儿童"),
                                                               setter(labour="普通劳动力"))),
        S("DQ_MINOR_WELFARE_POST", "未成年人有公益性岗位", on_person("DQ_MINOR_WELFARE_POST", child(0, 15),
                                                                 setter(welfare_post="保洁员", welfare_months=12))),
        S("DQ_MINOR_WORK", "16岁以下务工", minor_work),
        S("DQ_STUDENT_LABOUR", "在校生登记为普通劳动力", on_person("DQ_STUDENT_LABOUR", child(16, 25, lambda p: p.student),
                                                              setter(labour="普通劳动力"))),
        S("DQ_WORKING_AGE_NO_LABOUR", "劳动年龄健康人登记为弱劳动力",
          on_person("DQ_WORKING_AGE_NO_LABOUR", lambda g, p: adult(g, p) and p.health == "健康" and p.labour in ABLE,
                    setter(labour="弱劳动力或半劳动力"))),
        S("DQ_SCHOOL_STAGE_AGE", "初中年龄登记为高中", on_person("DQ_SCHOOL_STAGE_AGE", child(12, 14, lambda p: p.student),
                                                             setter(school="高中一年级"))),
        S("DQ_PRESCHOOL_TOO_OLD", "小学生登记为学前教育",
          preschool_too_old),
        S("DQ_YOUNG_LOW_EDUCATION", "青年不在校、文化程度为小学",
          on_person("DQ_YOUNG_LOW_EDUCATION", child(16, 22, lambda p: not p.school), setter(education="小学"))),
        S("DQ_EDUCATION_AND_SCHOOL", "在校生又填了文化程度",
          on_person("DQ_EDUCATION_AND_SCHOOL", child(7, 15, lambda p: p.student), setter(education="小学"))),
        S("DQ_EDUCATION_EMPTY", "文化程度等均未填写", on_person("DQ_EDUCATION_EMPTY", clean_out, setter(education="")), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_COMPULSORY_NOT_IN_SCHOOL", "义务教育阶段辍学",
          on_person("DQ_COMPULSORY_NOT_IN_SCHOOL", school_child, dropout)),
        S("DQ_HEALTH_EMPTY", "健康状况未填写",
          on_person("DQ_HEALTH_EMPTY", lambda g, p: age(g, p) >= 16 and p.health == "健康" and plain_id(p),
                    setter(health="")), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_LABOUR_EMPTY", "劳动技能未填写", on_person("DQ_LABOUR_EMPTY", adult, setter(labour="")), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_WORK_MONTHS_RANGE", "务工时间超过12个月",
          on_person("DQ_WORK_MONTHS_RANGE", worker, lambda g, p: setattr(p, "work_months", g.rng.randint(13, 16)))),
        S("DQ_WORK_PLACE_MISSING", "有务工时间无务工地点", on_person("DQ_WORK_PLACE_MISSING", worker, setter(work_place=""))),
        S("DQ_SKILLED_NOT_WORKING", "技能劳动力未务工",
          on_person("DQ_SKILLED_NOT_WORKING", lambda g, p: p.labour == "技能劳动力" and p.work_months > 0
                    and not p.welfare_post and 16 <= age(g, p) <= 60, not_working)),
        S("DQ_WELFARE_POST_AGE", "70岁以上有公益性岗位",
          on_person("DQ_WELFARE_POST_AGE", lambda g, p: age(g, p) >= 71, setter(welfare_post="护林员", welfare_months=12))),
        S("DQ_WELFARE_MONTHS_RANGE", "公益性岗位无月数",
          on_person("DQ_WELFARE_MONTHS_RANGE", lambda g, p: adult(g, p) and p.labour in ABLE and not p.welfare_post,
                    setter(welfare_post="保洁员", welfare_months=None))),
        # 30 参保与完整性
        S("DQ_MEDICAL_BOTH", "同时参加两种基本医保",
          on_person("DQ_MEDICAL_BOTH", lambda g, p: p.resident_medical is True, setter(employee_medical=True))),
        S("DQ_MEDICAL_NONE", "未参加基本医保",
          on_person("DQ_MEDICAL_NONE", lambda g, p: p.resident_medical is True,
                    setter(resident_medical=False, critical_illness=False))),
        S("DQ_MEDICAL_EMPTY", "基本医保未填写",
          on_person("DQ_MEDICAL_EMPTY", lambda g, p: True,
                    setter(resident_medical=None, employee_medical=None, critical_illness=None)), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_CRITICAL_EMPTY", "大病保险未填写",
          on_person("DQ_CRITICAL_EMPTY", lambda g, p: p.resident_medical is True, setter(critical_illness=None)), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_PENSION_EMPTY", "养老保险未填写",
          on_person("DQ_PENSION_EMPTY", lambda g, p: age(g, p) >= 16 and not p.school, setter(pension=None)), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_HOUSING_FLAG_EMPTY", "是否危房户未填写",
          on_household("DQ_HOUSING_FLAG_EMPTY", lambda g, f: setattr(f, "dangerous_house", None)), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_WATER_FLAG_EMPTY", "是否解决安全饮用水未填写",
          on_household("DQ_WATER_FLAG_EMPTY", lambda g, f: setattr(f, "safe_water", None)), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_TOILET_EMPTY", "是否有卫生厕所未填写", on_household("DQ_TOILET_EMPTY", lambda g, f: setattr(f, "toilet", None)), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_ROAD_EMPTY", "入户路类型未填写", on_household("DQ_ROAD_EMPTY", lambda g, f: setattr(f, "road", "")), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_HOUSING_AREA_EMPTY", "住房面积未填写",
          on_household("DQ_HOUSING_AREA_EMPTY", lambda g, f: setattr(f, "housing_area", None)), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_LAND_EMPTY", "耕地面积未填写", on_household("DQ_LAND_EMPTY", lambda g, f: setattr(f, "land", None)), Needs(monitored=False, household_type="脱贫户")),
        S("DQ_LAND_RANGE", "耕地面积超出合理范围",
          on_household("DQ_LAND_RANGE", lambda g, f: setattr(f, "land", Decimal(g.rng.randint(120, 180))))),
        S("DQ_FOREST_RANGE", "林地面积超出合理范围",
          on_household("DQ_FOREST_RANGE", lambda g, f: setattr(f, "forest", Decimal(g.rng.randint(220, 400))))),
        S("DQ_NO_PHONE", "户及成员均无联系电话", on_household("DQ_NO_PHONE", no_phone), Needs(monitored=False, household_type="脱贫户")),
        # 40 监测逻辑
        S("DQ_RISK_DISABILITY_WITHOUT_DISABLED", "因残而无残疾人", risk_disability_without_disabled, monitored("因残")),
        S("DQ_RISK_ILLNESS_WITHOUT_PATIENT", "因病而无患者", risk_illness_without_patient, monitored("因病")),
        S("DQ_RISK_ILLNESS_NO_SELF_PAY", "因病而合规自付为0",
          on_household("DQ_RISK_ILLNESS_NO_SELF_PAY", lambda g, f: setattr(f, "self_pay", Decimal(0)), "monitoring"),
          monitored("因病")),
        S("DQ_RISK_WORK_WITHOUT_LABOUR", "因务工就业不稳而无劳动力", risk_work_without_labour, monitored("缺劳动力"),
          lambda g, f: all(m.labour in ("无劳动力", "丧失劳动力") for m in f.members)),
        S("DQ_RISK_LABOUR_SHORTAGE_BUT_ABLE", "缺劳动力而多数有劳动能力", labour_shortage_but_able, monitored("因病"),
          lambda g, f: able(f) * 2 > len(f.members) + 1),
        S("DQ_UNSAFE_WATER_WITHOUT_RISK", "饮水不安全而无因安全饮水风险",
          on_household("DQ_UNSAFE_WATER_WITHOUT_RISK", lambda g, f: setattr(f, "safe_water", False)), monitored("因病")),
        S("DQ_UNSAFE_HOUSE_WITHOUT_RISK", "危房而无因安全住房风险",
          on_household("DQ_UNSAFE_HOUSE_WITHOUT_RISK", lambda g, f: setattr(f, "dangerous_house", True)),
          monitored("因病")),
        S("DQ_UNINSURED_WITHOUT_RISK", "监测户成员未参保", uninsured_without_risk, monitored("因意外事故")),
        S("DQ_MEASURE_FOR_ILLNESS", "因病无健康帮扶",
          on_household("DQ_MEASURE_FOR_ILLNESS", drop_group("健康帮扶"), "monitoring"), monitored("因病")),
        S("DQ_MEASURE_FOR_SCHOOLING", "因学无教育帮扶",
          on_household("DQ_MEASURE_FOR_SCHOOLING", drop_group("教育帮扶"), "monitoring"), monitored("因学")),
        S("DQ_MEASURE_FOR_DISABILITY", "因残无综合保障",
          on_household("DQ_MEASURE_FOR_DISABILITY", drop_group("综合保障"), "monitoring"), monitored("因残")),
        S("DQ_MEASURE_FOR_HOUSING", "因安全住房无住房保障",
          on_household("DQ_MEASURE_FOR_HOUSING", drop_group("住房安全保障"), "monitoring"), monitored("因安全住房")),
        S("DQ_MEASURE_FOR_WATER", "因安全饮水无饮水保障",
          on_household("DQ_MEASURE_FOR_WATER", drop_group("饮水安全保障"), "monitoring"), monitored("因安全饮水")),
        S("DQ_DROPOUT_WITHOUT_MEASURE", "监测户儿童辍学无义务教育保障", dropout_without_measure, monitored("因病"),
          lambda g, f: any(school_child(g, m) for m in f.members)),
        S("DQ_ONLY_SOCIAL_SECURITY", "只有综合保障", only_social_security, monitored("缺劳动力"),
          lambda g, f: able(f) > 0 and able(f) * 2 <= len(f.members)),
        S("DQ_NO_DEVELOPMENT_MEASURE", "未实施开发式帮扶", no_development, monitored("因病"),
          lambda g, f: able(f) >= 2),
        S("DQ_DISABILITY_SUBSIDY_WITHOUT_DISABLED", "残疾人补贴而无残疾人", subsidy_without_disabled, monitored("因病")),
        S("DQ_EMPLOYMENT_MEASURE_WITHOUT_WORKER", "就业帮扶而无人务工", employment_without_worker,
          monitored("因务工就业不稳")),
        S("DQ_YULU_WITHOUT_VOCATIONAL_STUDENT", "雨露计划而无中高职学生", yulu_without_student, monitored("因病")),
        # 50 风险消除与收入
        S("DQ_ELIMINATED_TOO_EARLY", "识别3个月即消除", eliminated_too_early,
          monitored(eliminated=True, method="帮扶消除", identified_after="202201")),
        S("DQ_ELIMINATED_WITHOUT_LABOUR", "整户无劳动能力标注已消除",
          on_household("DQ_ELIMINATED_WITHOUT_LABOUR", lambda g, f: f.cells.update({"整户无劳动能力兜底保障户": "是"}),
                       "monitoring"), monitored(eliminated=True)),
        S("DQ_ELIMINATED_BELOW_LINE", "帮扶消除而收入低于监测范围",
          with_income("DQ_ELIMINATED_BELOW_LINE", "below", "已帮扶消除，人均纯收入{per_capita}元", below),
          monitored(eliminated=True, method="帮扶消除")),
        S("DQ_ELIMINATED_WITHOUT_CONTACT", "已消除无监测联系人",
          on_household("DQ_ELIMINATED_WITHOUT_CONTACT", lambda g, f: setattr(f, "contact", ("", "")), "monitoring"),
          monitored(eliminated=True)),
        S("DQ_ELIMINATED_UNSAFE", "已消除而饮水不安全",
          on_household("DQ_ELIMINATED_UNSAFE", lambda g, f: setattr(f, "safe_water", False)), monitored(eliminated=True)),
        S("DQ_MONITORED_WITHOUT_RISK", "监测户无风险类型",
          on_household("DQ_MONITORED_WITHOUT_RISK", lambda g, f: setattr(f, "risks", []), "monitoring"),
          monitored("因病")),
        S("DQ_MONITORED_WITHOUT_MONTH", "监测户无识别监测时间",
          on_household("DQ_MONITORED_WITHOUT_MONTH", lambda g, f: setattr(f, "identified", ""), "monitoring"),
          monitored()),
        S("DQ_ELIMINATED_WITHOUT_MONTH", "已消除无消除监测时间",
          on_household("DQ_ELIMINATED_WITHOUT_MONTH", lambda g, f: setattr(f, "eliminated_month", ""), "monitoring"),
          monitored(eliminated=True)),
        S("DQ_POVERTY_HOUSEHOLD_IN_DANGEROUS_HOUSE", "脱贫户住危房未纳入监测",
          on_household("DQ_POVERTY_HOUSEHOLD_IN_DANGEROUS_HOUSE", lambda g, f: setattr(f, "dangerous_house", True)),
          Needs(monitored=False, household_type="脱贫户")),
        S("DQ_MONITORED_INCOME_IMPLAUSIBLE", "监测户识别前一年收入过高", implausible, None),
        S("DQ_INCOME_REPORTED_DIFFERS", "导入的人均纯收入与计算不符", reported_differs),
        S("DQ_INCOME_NET_NEGATIVE", "纯收入为负", net_negative, monitored()),
        S("DQ_WORKER_WITHOUT_WAGE", "务工而无工资性收入", worker_without_wage, monitored()),
        S("DQ_ELIMINATED_EMPLOYMENT_WITHOUT_WAGE", "已消除户公益岗位无工资", eliminated_post_without_wage, None),
        S("DQ_ELIMINATED_ASSISTANCE_WITHOUT_TRANSFER", "已消除户残疾人补贴无转移性收入",
          with_income("DQ_ELIMINATED_ASSISTANCE_WITHOUT_TRANSFER", "above", "已消除户有残疾人补贴，转移性收入为0",
                      lambda v: v >= Decimal("9500"), no_transfer=True),
          None),
        S("DQ_INDUSTRY_MEASURE_WITHOUT_BUSINESS", "产业帮扶而无经营收入", industry_without_business, None),
        # 60 收入监测
        S("INC_POVERTY_BELOW_LINE", "脱贫户收入低于监测范围未纳入监测",
          with_income("INC_POVERTY_BELOW_LINE", "below", "脱贫户人均纯收入{per_capita}元，未纳入监测", below),
          Needs(monitored=False, household_type="脱贫户")),
        S("INC_GENERAL_BELOW_LINE", "一般农户收入低于监测范围未纳入监测",
          with_income("INC_GENERAL_BELOW_LINE", "below", "人均纯收入{per_capita}元，未纳入监测", below),
          Needs(monitored=False, household_type="一般农户")),
        S("INC_MONITORED_SHARP_DROP", "监测户收入较上年大幅下降", sharp_drop, None),  # needs: set in SPECS
        # 65 统筹监测（2026年起）: three kinds of 刚性支出困难 (the first one also in the demo village)
        S("RIGID_EXPENDITURE_DIFFICULTY", "一般农户大病、上学支出超过收入规定比例，未纳入监测", rigid_hardship,
          Needs(monitored=False, household_type="一般农户"),
          hardship_facts("患有大病", "长期慢性病", "university", "高中", "severe")),
        S("RIGID_EXPENDITURE_DIFFICULTY", "脱贫户医疗、教育支出超过收入规定比例，未纳入监测", rigid_hardship,
          Needs(monitored=False, household_type="脱贫户"), hardship_facts("患有大病", "university")),
        S("RIGID_EXPENDITURE_DIFFICULTY", "已消除风险户重度残疾护理、医疗支出超过收入规定比例", rigid_hardship,
          monitored(eliminated=True), hardship_facts("severe", "患有大病")),
        S("GENERAL_BELOW_DIBAO_EDGE", "一般农户人均收入低于低保边缘标准未纳入监测",
          with_income("GENERAL_BELOW_DIBAO_EDGE", "edge", "人均纯收入{per_capita}元，低于低保边缘标准", edge_band),
          Needs(monitored=False, household_type="一般农户")),
        # 70 部门预警
        S("DEPT_MEDICAL_SELF_PAY_POVERTY", "脱贫户今年医疗自付超预警线",
          medical("DEPT_MEDICAL_SELF_PAY_POVERTY", poverty=True, window="ytd", low=5_500, high=9_000),
          Needs(household_type="脱贫户", monitored=False)),
        S("DEPT_MEDICAL_SELF_PAY_OTHER", "一般农户今年医疗自付超预警线",
          medical("DEPT_MEDICAL_SELF_PAY_OTHER", poverty=False, window="ytd", low=21_000, high=36_000),
          Needs(household_type="一般农户", monitored=False)),
        S("DEPT_MEDICAL_12M_POVERTY", "脱贫户近12个月医疗自付超预警线",
          medical("DEPT_MEDICAL_12M_POVERTY", poverty=True, window="last", low=5_500, high=9_000),
          Needs(household_type="脱贫户", monitored=False)),
        S("DEPT_MEDICAL_12M_OTHER", "一般农户近12个月医疗自付超预警线",
          medical("DEPT_MEDICAL_12M_OTHER", poverty=False, window="last", low=21_000, high=36_000),
          Needs(household_type="一般农户", monitored=False)),
        S("DEPT_MEDICAL_SHARE_OF_INCOME", "医疗自付超过家庭纯收入一半",
          medical("DEPT_MEDICAL_SHARE_OF_INCOME", poverty=False, window="any", low=0, high=0),
          Needs(household_type="一般农户", monitored=False)),
        S("DEPT_DISABILITY_NEW_OR_UPGRADED", "残联新办残疾人证",
          roster_person("DEPT_DISABILITY_NEW_OR_UPGRADED", "disability",
                        lambda g, p: age(g, p) >= 16 and p.health != "残疾" and plain_id(p),
                        lambda g, p: (lambda c, r: [p.id_number + c + r, p.name, c, r, day(recent(g))])(
                            g.rng.choice("1234567"), g.rng.choice("34")),
                        "残联近期新办残疾人证，台账未登记残疾")),
        S("DEPT_DEREGISTERED_STILL_MEMBER", "公安已注销户籍仍在户",
          roster_person("DEPT_DEREGISTERED_STILL_MEMBER", "deregistration", lambda g, p: age(g, p) >= 60,
                        lambda g, p: [p.id_number[:18], p.name, "死亡", f"{recent(g):%Y/%m/%d}"],
                        "公安已注销户籍（死亡），仍在家庭成员中")),
        S("DEPT_SCHOOL_AGE_OUT_OF_SCHOOL", "学籍显示辍学",
          roster_person("DEPT_SCHOOL_AGE_OUT_OF_SCHOOL", "schooling", school_child,
                        lambda g, p: [p.id_number[:18], p.name, "县第一中学" if age(g, p) > 11 else "中心小学",
                                      "初中" if age(g, p) > 11 else "小学", p.school, g.rng.choice(["辍学", "休学"]),
                                      f"{recent(g):%Y%m%d}"],
                        "学籍状态为辍学或休学")),
        S("DEPT_NEW_SOCIAL_ASSISTANCE", "民政新纳入救助未纳入监测",
          roster_household("DEPT_NEW_SOCIAL_ASSISTANCE", "assistance",
                           lambda g, f: [f.head.id_number[:18], f.head.name, g.rng.choice(["临时救助", "低保边缘"]),
                                         day(recent(g)), "", g.rng.choice([1500, 2000, 3000])],
                           "民政近期新纳入救助，未纳入监测")),
        S("DEPT_ASSISTANCE_ENDED", "监测户低保停发",
          roster_household("DEPT_ASSISTANCE_ENDED", "assistance",
                           lambda g, f: [f.head.id_number[:18], f.head.name, "低保", f"{g.today.year - 3}-01-01",
                                         day(recent(g)), 4800],
                           "监测户的低保近期停发"), monitored()),
        S("DEPT_HOUSING_GRADE_C_D", "住建鉴定为C/D级",
          roster_household("DEPT_HOUSING_GRADE_C_D", "housing",
                           lambda g, f: [f.head.id_number[:18], f.head.name, g.rng.choice("CD"), day(recent(g))],
                           "住房安全鉴定为C级或D级")),
        S("DEPT_DISASTER_LOSS", "受灾损失超预警线",
          roster_household("DEPT_DISASTER_LOSS", "disaster",
                           lambda g, f: [f.head.id_number[:18], f.head.name, g.rng.choice(["洪涝", "冰雹", "干旱"]),
                                         g.rng.randint(6000, 40000), day(recent(g))],
                           "近期受灾，直接经济损失超过预警线")),
        S("DEPT_EARNER_UNEMPLOYED", "劳动力登记失业",
          roster_person("DEPT_EARNER_UNEMPLOYED", "employment", lambda g, p: p.labour in ABLE,
                        lambda g, p: [p.id_number[:18], p.name, "失业登记", day(recent(g)), ""], "人社近期登记失业")),
        S("DEPT_ASSET_HIT", "监测户成员有车辆",
          roster_person("DEPT_ASSET_HIT", "assets", lambda g, p: age(g, p) >= 18,
                        lambda g, p: [p.id_number[:18], p.name, "车辆", "小型轿车", day(since_identified(g, p))],
                        "资产比对发现车辆（监测户）"), monitored()),
        # import-side faults (seeded only when asked for)
        S("DQ_ID_CHECKSUM", "证件号码校验位错误", wrong_check_digit),
        S("DQ_ID_EXCEL_DAMAGED", "证件号码被Excel损坏", excel_damaged),
        S("DQ_ID_OLD15", "15位旧证件号码", old_id),
        S("DQ_PHONE_INVALID", "联系电话无效", invalid_phone),
        S("DQ_VALUE_UNKNOWN", "枚举列填了未知值", unknown_value),
        S("DQ_DUPLICATE_PERSON", "同一人登记在两户", duplicate_person, monitored(eliminated=None)),
        S("DQ_ID_INVALID", "证件号码少了一位", short_id),
        S("DQ_HOUSEHOLD_PHONE_INVALID", "户联系电话无效",
          on_household("DQ_HOUSEHOLD_PHONE_INVALID", lambda g, f: f.cells.update({"户联系电话": f.phone[:7]}))),
        S("DQ_HOUSEHOLD_VALUE_UNKNOWN", "户级是否列填了未知值",
          on_household("DQ_HOUSEHOLD_VALUE_UNKNOWN", lambda g, f: f.cells.update({"是否有卫生厕所": "不清楚"})),
          Needs(monitored=False, household_type="一般农户")),
        S("DQ_HOUSEHOLD_INCONSISTENT", "同一户各行户级信息不一致", household_inconsistent),
    ]
    # fmt: on


def specs(year: int, today: dt.date) -> list[Spec]:
    """Every fault, once, with the needs that depend on the year."""
    dated = {
        # last year's export holds the households identified by the end of last year
        "INC_MONITORED_SHARP_DROP": monitored(eliminated=None, identified_before=f"{year - 1}12"),
        # the income of the year before identification is this year's: identified in the screening's year
        "DQ_MONITORED_INCOME_IMPLAUSIBLE": monitored(eliminated=None, identified_after=f"{year + 1}01"),
        # measures of a household identified by the end of the income year must show in that income
        "DQ_ELIMINATED_EMPLOYMENT_WITHOUT_WAGE": monitored(eliminated=True, identified_before=f"{year}12"),
        "DQ_ELIMINATED_ASSISTANCE_WITHOUT_TRANSFER": monitored(
            "因残", eliminated=True, identified_before=f"{year}12"
        ),
        "DQ_INDUSTRY_MEASURE_WITHOUT_BUSINESS": monitored(identified_before=f"{year}12"),
    }
    result = []
    for spec in _specs():
        if (
            spec.rule == "DQ_MONITORED_INCOME_IMPLAUSIBLE"
            and (today - dt.timedelta(days=45)).year < today.year
        ):
            continue  # early in the year nobody is identified this year yet: no income of the year before
        if spec.rule in dated:
            spec = Spec(spec.rule, spec.kind, spec.apply, dated[spec.rule], spec.members_ok)
        result.append(spec)
    return result


# Warnings and a doubt in the demo logins' village, so that its inbox is never empty.
def village_specs(all_specs: list[Spec]) -> list[Spec]:
    by_rule: dict[str, Spec] = {}
    for spec in all_specs:  # a rule seeded in several ways: its first way
        by_rule.setdefault(spec.rule, spec)
    window = (DEMO_VILLAGE_FAMILIES - 25, DEMO_VILLAGE_FAMILIES)
    return [Spec(r, by_rule[r].kind, by_rule[r].apply, by_rule[r].needs, by_rule[r].members_ok, window)
            for r in ("INC_GENERAL_BELOW_LINE", "DEPT_NEW_SOCIAL_ASSISTANCE", "DQ_EDUCATION_EMPTY",
                      "RIGID_EXPENDITURE_DIFFICULTY")]  # fmt: skip


def per_rule(people: int) -> int:
    return 1 if people < 10_000 else 2 if people < 100_000 else 3


def matches(f: Family, needs: Needs) -> bool:
    if f.misfit:
        return False
    if needs.monitored is not None and bool(f.category) != needs.monitored:
        return False
    if needs.eliminated is not None and bool(f.eliminated) != needs.eliminated:
        return False
    if needs.risks and tuple(f.risks) != needs.risks:
        return False
    if needs.household_type and f.household_type != needs.household_type:
        return False
    if needs.method and f.elimination_method != needs.method:
        return False
    if needs.identified_after and not (f.identified and f.identified >= needs.identified_after):
        return False
    return not (needs.identified_before and not (f.identified and f.identified <= needs.identified_before))


class Planner:
    """Spreads the faults over the county: each waits for its slot, then for the first household it fits."""

    def __init__(self, g: CountyGenerator) -> None:
        self.g = g
        rng = random.Random(g.rng.random())
        catalogue = [
            s for s in specs(g.year, g.today) if s.rule not in IMPORT_FAULT_RULES or s.rule in g.import_faults
        ]
        plan = [s for s in catalogue for _ in range(per_rule(g.target))]
        rng.shuffle(plan)
        first = DEMO_VILLAGE_FAMILIES + 1
        last = max(first + len(plan), int(g.target / 3.2 * 0.85))
        step = (last - first) / max(len(plan), 1)
        self.pending: list[tuple[int, Spec]] = [
            (w.window[0], w) for w in village_specs(catalogue) if w.window
        ]
        self.pending += [(first + int(i * step), spec) for i, spec in enumerate(plan)]
        self.patience = 300 + 10 * len(plan)  # households beyond the target, for faults still waiting
        self.seeds: list[Seed] = []
        self.faults = 0

    def choose(self, f: Family) -> Spec | None:
        """The fault this household is generated for (its members fit), if one is due."""
        number = f.number
        self.pending = [(slot, s) for slot, s in self.pending if not (s.window and number > s.window[1])]
        for slot, spec in self.pending:
            if slot > number:
                break
            if (spec.window is None) == (number <= DEMO_VILLAGE_FAMILIES):
                continue
            if spec.members_ok is None or spec.members_ok(self.g, f):
                return spec
        return None

    def seed(self, f: Family, spec: Spec | None) -> None:
        if spec is None or not matches(f, spec.needs):
            return
        seeds = spec.apply(self.g, f)
        if not seeds:
            return
        self.faults += 1
        for s in seeds:
            s.fault, s.kind = self.faults, s.kind or spec.kind
            if s.household is not f:
                s.household.seeds.append(s)
        f.seeds.extend(seeds)
        f.quiet = True
        self.seeds.extend(seeds)
        index = next(i for i, (_, s) in enumerate(self.pending) if s is spec)
        del self.pending[index]

    def finish(self) -> None:
        waiting = [s.rule for _, s in self.pending]
        if waiting:
            print(
                f"示范数据：{len(waiting)}处预设问题未找到合适的户：{'、'.join(waiting[:10])}",
                file=sys.stderr,
            )


def write_truth(
    path: Path, seeds: list[Seed], paths: dict[str, Path], roster_rows: dict[str, tuple[str, int]]
) -> int:
    """truth.csv: one line per finding the screening must make. No full ID number: masked only."""
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(TRUTH_COLUMNS)
        for s in sorted(seeds, key=lambda s: (s.fault, s.rule)):
            if s.file == "roster":
                kind, index = s.roster or ("", 0)
                name, first = roster_rows[kind]
                row = first + index
            else:
                name = paths[s.file].name
                at = s.at or s.person or s.household.head
                row = at.rows.get(s.file) or s.household.rows.get(s.file, 0)
            person = s.person
            writer.writerow([
                s.fault, s.rule, rule_family(s.rule), s.kind, name, row, s.household.household_no,
                person.person_no if person else "", mask_id(s.written_id or person.id_number) if person else "",
            ])  # fmt: skip
    return len(seeds)
