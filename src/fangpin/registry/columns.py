"""The national layouts (formats §2 户成员信息 and §3 监测对象信息): columns, synonyms, kinds, targets.

The values an enumerated column may hold are in `vocabularies` (one table for every column).

One definition serves the importer (header matching, cell parsing) and the exporter (column order).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from . import choices

# (digits, decimal places) of the database field each numeric kind is written to (registry.models:
# MONEY, AREA, the month counts); an `int` column is a PositiveSmallIntegerField. A larger value is
# refused by row and column: written as it is, it fails the whole import with a database error.
NUMBER_FIELDS = {"money": (14, 2), "money_signed": (14, 2), "area": (10, 2), "decimal": (4, 1)}
SMALL_INTEGER_MAX = 32767


@dataclass(frozen=True)
class Column:
    label: str
    target: str  # "<entity>.<field>", entity ∈ region, household, member, income, monitoring
    kind: str = "text"  # text enum yesno money money_signed area int decimal date month id phone list
    synonyms: tuple[str, ...] = ()
    required: bool = False
    max_length: int = 64

    @property
    def largest(self) -> Decimal | None:
        """The largest value the column's database field holds; None for a column that is no number."""
        if self.kind == "int":
            return Decimal(SMALL_INTEGER_MAX)
        if shape := NUMBER_FIELDS.get(self.kind):
            digits, places = shape
            return Decimal(10) ** (digits - places) - Decimal(10) ** -places
        return None

    @property
    def entity(self) -> str:
        return self.target.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.target.split(".", 1)[1]


def header_key(label: str) -> str:
    """Compare headers after NFKC (（）→()), without spaces: how clerks' files differ from each other."""
    return "".join(unicodedata.normalize("NFKC", label).split())


C = Column
PERSON_COLUMNS: tuple[Column, ...] = (
    C("县", "region.county", synonyms=("县(市、区、旗)", "县(市、区)")),
    C("乡", "region.township", synonyms=("乡(镇)", "镇", "乡镇"), required=True),
    C("村", "region.village", synonyms=("行政村",), required=True),
    C("户编号", "household.household_no", required=True, max_length=40),
    C("人口编号", "member.person_no", max_length=40),
    C("姓名", "member.name", required=True),
    C("证件号码", "member.id_number", "id", synonyms=("身份证号", "身份证号码", "公民身份号码"), required=True),
    C("证件类型", "member.id_type", "enum"),
    C("与户主关系", "member.relation", "enum", required=True),
    C("性别", "member.gender", "enum"),
    C("出生日期", "member.birth_date", "date"),
    C("民族", "member.ethnicity", max_length=16),
    C("政治面貌", "member.political_status", max_length=16),
    C("文化程度", "member.education"),
    C("在校生状况", "member.school_status"),
    C("义务教育阶段未上学原因", "member.dropout_reason", synonyms=("失学或辍学原因",)),
    C("健康状况", "member.health", "enum"),
    C("劳动技能", "member.labour_skill", "enum"),
    C("务工时间（月）", "member.work_months", "decimal"),
    C("务工所在地", "member.work_place", max_length=128),
    C("务工企业名称", "member.work_employer", max_length=128),
    C("是否参加城乡居民基本医疗保险", "member.resident_medical_insurance", "yesno"),
    C("是否参加城镇职工基本医疗保险", "member.employee_medical_insurance", "yesno"),
    C("是否参加大病保险", "member.critical_illness_insurance", "yesno"),
    C("是否参加城乡居民基本养老保险", "member.resident_pension", "yesno"),
    C("是否参加城镇职工基本养老保险", "member.employee_pension", "yesno"),
    C("是否享受农村居民最低生活保障", "member.dibao", "yesno", synonyms=("享受低保政策情况",)),
    C("是否特困供养人员", "member.tekun", "yesno", synonyms=("享受特困供养政策情况",)),
    C("公益性岗位", "member.public_welfare_post"),
    C("公益性岗位(月数)", "member.public_welfare_post_months", "decimal"),
    C("家庭成员联系电话", "member.phone", "phone", synonyms=("联系电话",)),
    C("户类型", "household.household_type", "enum"),
    C("监测对象类别", "household.monitoring_category", "enum"),
    C("户联系电话", "household.phone", "phone"),
    C("当前家庭人口数", "household.current_size", "int"),
    C("年度家庭人口数", "household.annual_size", "int"),
)  # fmt: skip

INCOME_COLUMNS: tuple[Column, ...] = (
    C("工资性收入", "income.wage", "money"),
    C("公益性岗位收入", "income.wage_public_welfare", "money"),
    C("其他工资性收入", "income.wage_other", "money"),
    C("生产经营性收入", "income.business", "money_signed"),
    C("财产性收入", "income.property", "money"),
    C("资产收益扶贫分红收入", "income.property_dividend", "money"),
    C("其他财产性收入", "income.property_other", "money"),
    C("转移性收入", "income.transfer", "money"),
    C("养老金或离退休金", "income.pension", "money"),
    C("计划生育金", "income.family_planning", "money"),
    C("生态补偿金", "income.eco_compensation", "money"),
    C("最低生活保障金", "income.dibao_allowance", "money"),
    C("特困人员救助供养金", "income.tekun_allowance", "money"),
    C("其他转移性收入", "income.transfer_other", "money"),
    C("生产经营性支出", "income.business_expense", "money", synonyms=("生产经营性支出（合计）",)),
    C("产业奖励", "income.industry_award", "money"),
    C("就业奖励", "income.employment_award", "money"),
    C("专项用于减少生产经营性支出的补贴", "income.special_subsidy", "money"),
    C("年收入（元）", "income.reported_gross", "money_signed", synonyms=("年收入",)),
    C("纯收入（元）", "income.reported_net", "money_signed", synonyms=("纯收入", "家庭纯收入")),
    C("人均纯收入（元）", "income.reported_per_capita", "money_signed",
      synonyms=("人均纯收入", "家庭人均纯收入")),
)  # fmt: skip

CONDITION_COLUMNS: tuple[Column, ...] = (
    C("耕地面积（亩）", "household.cultivated_area", "area", synonyms=("耕地面积",)),
    C("林地面积（亩）", "household.forest_area", "area", synonyms=("林地面积",)),
    C("退耕还林面积（亩）", "household.returned_farmland_area", "area", synonyms=("退耕还林面积",)),
    C("林果面积（亩）", "household.orchard_area", "area", synonyms=("林果面积",)),
    C("牧草地面积", "household.pasture_area", "area", synonyms=("牧草地面积（亩）",)),
    C("水面面积", "household.water_area", "area", synonyms=("水面面积（亩）",)),
    C("是否危房户", "household.dangerous_house", "yesno"),
    C("住房面积", "household.housing_area", "area", synonyms=("住房面积（平方米）",)),
    C("是否解决安全饮用水", "household.safe_drinking_water", "yesno"),
    C("是否有卫生厕所", "household.sanitary_toilet", "yesno"),
    C("入户路类型", "household.road_type", max_length=32),
    C("与村主干路距离", "household.distance_to_road", max_length=32),
    C("是否通生活用电", "household.has_electricity", "yesno"),
)  # fmt: skip

MONITORING_COLUMNS: tuple[Column, ...] = (
    C("识别监测时间", "household.identified_month", "month"),
    C("风险是否已消除", "household.risk_eliminated", "yesno"),
    C("消除监测时间", "household.eliminated_month", "month"),
    C("风险消除方式", "household.elimination_method", "enum"),
    *(C(f"致贫/返贫风险{i}", f"household.risk_{i}", "enum", synonyms=(f"返贫致贫风险{i}", f"风险类型{i}"))
      for i in range(1, 6)),
    *(C(group, f"measure.{group}", "list") for group in choices.MEASURE_GROUPS),
    C("实施开发式帮扶措施情况", "household.development_measure_status"),
    C("整户无劳动能力兜底保障户", "household.no_labour_household", "yesno"),
    C("理赔收入", "household.claims_income", "money"),
    C("合规自付支出", "household.compliant_self_pay", "money"),
    C("监测联系人", "household.monitoring_contact", synonyms=("帮扶责任人",)),
    C("监测联系人电话", "household.monitoring_contact_phone", "phone", synonyms=("帮扶责任人电话",)),
    C("信息采集人", "household.info_collector"),
    C("信息采集人联系电话", "household.info_collector_phone", "phone"),
)  # fmt: skip

HEAD_ID_COLUMN = C("户主证件号码", "household.head_id", "id", synonyms=("户主身份证号", "户主身份证号码"))
REGION_CODE_COLUMN = C("行政区划代码", "region.code", synonyms=("区划代码", "村代码"), max_length=12)

# --- the population layouts (issue 11 point 4): every rural household, not only the national export's
# 脱贫户 and 监测户. They hold people, their 户 and their village; no income, no 户类型, no category.
# Columns the national layouts already know (姓名, 证件号码 = 公民身份号码/身份证号, 与户主关系, 性别,
# 民族, 出生日期, 联系电话) are read through the national definitions, so every check is the same. The
# `household.*` targets below are no register fields: the importer takes them off the row (the 户号
# becomes the household's key, the address and the 村民小组 are kept as the member's other columns).
POPULATION_FIELDS = {"register_no", "listed_head", "address", "group", "register_category", "cancelled",
                     "serial", "remark"}  # fmt: skip

HUJI_COLUMNS: tuple[Column, ...] = (
    C("户号", "household.register_no", synonyms=("户口号", "户籍户号"), max_length=26),  # HJ + 12 + 26 = 40
    C("所属乡镇/街道", "region.township",
      synonyms=("所属乡镇(街道)", "乡镇(街道)", "乡镇/街道", "乡镇街道", "所属乡镇", "所属街道(乡镇)")),
    C("所属村(居)委会", "region.village",
      synonyms=("村(居)委会", "所属村居委会", "村居委会", "村(居)民委员会", "所属村委会", "村委会", "所属村(社区)")),
    C("户籍地址", "household.address", synonyms=("住址", "户籍地详址", "户籍详细地址", "户籍地址详址"),
      max_length=128),
    C("户籍类别", "household.register_category",
      synonyms=("户口性质", "户口类别", "户籍性质", "户别", "户口类型"), max_length=16),
    C("注销状态", "household.cancelled", synonyms=("注销标志", "是否注销", "人员状态", "户籍状态"), max_length=16),
)  # fmt: skip

ROSTER_COLUMNS: tuple[Column, ...] = (
    C("序号", "household.serial", synonyms=("编号",), max_length=16),
    C("组别", "household.group", synonyms=("村民小组", "所在组", "组", "小组", "社"), max_length=32),
    C("户主姓名", "household.listed_head", synonyms=("户主",)),
    C("家庭人口", "household.current_size", "int", synonyms=("家庭人口数", "家庭人口（人）", "人口数")),
    C("备注", "household.remark", synonyms=("说明",), max_length=200),
)  # fmt: skip

# 户籍类别 of people who are no rural household: a 户籍 export of the county also lists the towns'
# 非农业 and 集体户 residents, who are left out (counted), never refused. Since the 2014 reform many
# provinces write only 家庭户/居民户口, which says nothing either way: those rows are taken.
URBAN_CATEGORIES = frozenset({"非农业", "非农业户口", "非农业家庭户口", "非农业家庭户", "城镇", "城镇户口",
                              "集体户", "集体户口", "非农业集体户口", "农业集体户口", "集体"})  # fmt: skip
# the 注销状态 of a person who is no longer registered: 公安 exports mark them instead of dropping them
CANCELLED_WORDS = ("注销", "死亡", "迁出", "销户")
# a 居委会/社区 a file names that the region table lacks: an urban neighbourhood, left out (counted)
URBAN_VILLAGE_SUFFIXES = ("居委会", "居民委员会", "社区")

MEMBER_LAYOUT = PERSON_COLUMNS + INCOME_COLUMNS + CONDITION_COLUMNS
MONITORING_LAYOUT = PERSON_COLUMNS + INCOME_COLUMNS + CONDITION_COLUMNS + MONITORING_COLUMNS
ALL_COLUMNS = (*MONITORING_LAYOUT, HEAD_ID_COLUMN, REGION_CODE_COLUMN, *HUJI_COLUMNS, *ROSTER_COLUMNS)

LAYOUT_TITLES = {"member": "（自定义）户成员信息", "monitoring": "（自定义）监测对象信息"}
LAYOUTS = {"member": MEMBER_LAYOUT, "monitoring": MONITORING_LAYOUT}
# what the import page and the job's result call each layout a file was read as
LAYOUT_NAMES = {"member": "户成员信息", "monitoring": "监测对象信息", "huji": "户籍人口信息",
                "roster": "村级花名册"}  # fmt: skip
POPULATION_LAYOUTS = {"huji", "roster"}
# prefixes of the 户编号 the population layouts give a household the national export does not hold:
# visible (an official tells such a 一般农户 from a national household at a glance) and never a national
# number (those are digits)
HUJI_PREFIX, ROSTER_PREFIX = "HJ", "HMC"


def _build_lookup() -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for column in ALL_COLUMNS:
        for name in (column.label, *column.synonyms):
            key = header_key(name)
            assert key not in lookup, f"duplicate header {name}"
            lookup[key] = column
    return lookup


HEADER_LOOKUP = _build_lookup()
