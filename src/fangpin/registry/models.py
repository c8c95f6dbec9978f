"""The household register: households, members, yearly income, and the income formula's parameters."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from fangpin.audit.signals import audited
from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.regions.models import ScopedQuerySet

from . import choices


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


def value_faults_field() -> models.JSONField:
    """The faults an import kept on a member or household (registry.faults): column → {kind, shown}."""
    return models.JSONField(
        "数据疑点（导入时发现）",
        default=dict,
        blank=True,
        encoder=UnicodeJSONEncoder,
        help_text="列名 → {kind, shown}：国家系统原样保存、导入时保留的问题值",
    )


MONEY = {"max_digits": 14, "decimal_places": 2, "null": True, "blank": True}
AREA = {"max_digits": 10, "decimal_places": 2, "null": True, "blank": True}


@audited(exclude=("updated_at",))
class Household(models.Model):
    """A household (户) of the national register, keyed by its 户编号."""

    household_no = models.CharField("户编号", max_length=40, unique=True)
    region = models.ForeignKey("regions.Region", models.PROTECT, related_name="households", verbose_name="村")
    region_code = models.CharField("区划代码", max_length=12)
    head_name = models.CharField("户主姓名", max_length=64, blank=True)
    household_type = models.CharField(
        "户类型", max_length=16, blank=True, choices=_choices(choices.HOUSEHOLD_TYPES)
    )
    monitoring_category = models.CharField(
        "监测对象类别", max_length=16, blank=True, choices=_choices(choices.MONITORING_CATEGORIES)
    )
    phone_enc = models.TextField("户联系电话（密文）", blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField("户联系电话", max_length=20, blank=True)
    current_size = models.PositiveSmallIntegerField("当前家庭人口数", null=True, blank=True)
    annual_size = models.PositiveSmallIntegerField("年度家庭人口数", null=True, blank=True)
    # land and household conditions
    cultivated_area = models.DecimalField("耕地面积（亩）", **AREA)
    forest_area = models.DecimalField("林地面积（亩）", **AREA)
    returned_farmland_area = models.DecimalField("退耕还林面积（亩）", **AREA)
    orchard_area = models.DecimalField("林果面积（亩）", **AREA)
    pasture_area = models.DecimalField("牧草地面积（亩）", **AREA)
    water_area = models.DecimalField("水面面积（亩）", **AREA)
    dangerous_house = models.BooleanField("是否危房户", null=True, blank=True)
    housing_area = models.DecimalField("住房面积", **AREA)
    safe_drinking_water = models.BooleanField("是否解决安全饮用水", null=True, blank=True)
    sanitary_toilet = models.BooleanField("是否有卫生厕所", null=True, blank=True)
    road_type = models.CharField("入户路类型", max_length=32, blank=True)
    distance_to_road = models.CharField("与村主干路距离", max_length=32, blank=True)
    has_electricity = models.BooleanField("是否通生活用电", null=True, blank=True)
    # monitoring attributes as imported (the case workflow comes later)
    identified_month = models.CharField("识别监测时间", max_length=6, blank=True)
    risk_eliminated = models.BooleanField("风险是否已消除", null=True, blank=True)
    eliminated_month = models.CharField("消除监测时间", max_length=6, blank=True)
    elimination_method = models.CharField(
        "风险消除方式", max_length=8, blank=True, choices=_choices(choices.ELIMINATION_METHODS)
    )
    risk_types = models.CharField(
        "致贫/返贫风险", max_length=200, blank=True, help_text="以“、”分隔，最多5项"
    )
    measures = models.JSONField("帮扶措施", default=dict, blank=True, encoder=UnicodeJSONEncoder)
    development_measure_status = models.CharField("实施开发式帮扶措施情况", max_length=64, blank=True)
    no_labour_household = models.BooleanField("整户无劳动能力兜底保障户", null=True, blank=True)
    claims_income = models.DecimalField("理赔收入", **MONEY)
    compliant_self_pay = models.DecimalField("合规自付支出", **MONEY)
    monitoring_contact = models.CharField("监测联系人", max_length=64, blank=True)
    monitoring_contact_phone_enc = models.TextField(blank=True)
    monitoring_contact_phone_hash = models.CharField(max_length=64, blank=True)
    monitoring_contact_phone_masked = models.CharField("监测联系人电话", max_length=20, blank=True)
    info_collector = models.CharField("信息采集人", max_length=64, blank=True)
    info_collector_phone_enc = models.TextField(blank=True)
    info_collector_phone_hash = models.CharField(max_length=64, blank=True)
    info_collector_phone_masked = models.CharField("信息采集人联系电话", max_length=20, blank=True)
    # latest computed income, for lists and the income-band filter
    income_year = models.PositiveSmallIntegerField("收入年度", null=True, blank=True)
    per_capita_income = models.DecimalField("人均纯收入（fangpin计算）", **MONEY)
    extra = models.JSONField("其他列", default=dict, blank=True, encoder=UnicodeJSONEncoder)
    value_faults = value_faults_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["region_code", "household_no"]
        verbose_name = verbose_name_plural = "农户"
        indexes = [
            # household list: keyset pagination WHERE region_code BETWEEN … ORDER BY region_code, household_no
            models.Index(fields=["region_code", "household_no"], name="household_region_no"),
            models.Index(fields=["head_name"], name="household_head_name"),
            models.Index(fields=["monitoring_category", "region_code"], name="household_category"),
            # the monitored list (帮扶对象) in register order: a few thousand of a county's 80,000 households
            models.Index(
                fields=["region_code", "household_no"],
                condition=~models.Q(monitoring_category=""),
                name="household_monitored",
            ),
            models.Index(fields=["household_type", "region_code"], name="household_type"),
        ]

    def __str__(self) -> str:
        return f"{self.head_name or '（无户主）'}户（{self.household_no}）"

    def audit_household_id(self) -> int:
        return self.pk

    def audit_region_code(self) -> str:
        return self.region_code

    @property
    def risk_type_list(self) -> list[str]:
        return [r for r in self.risk_types.split("、") if r]


@audited(exclude=("updated_at",))
class Member(models.Model):
    """A person of a household, keyed by the keyed hash of the 证件号码."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="members", verbose_name="户")
    region_code = models.CharField("区划代码", max_length=12)
    person_no = models.CharField("人口编号", max_length=40, blank=True, db_index=True)
    name = models.CharField("姓名", max_length=64)
    id_type = models.CharField("证件类型", max_length=16, default="身份证")
    id_number_enc = models.TextField("证件号码（密文）")
    id_number_hash = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField("证件号码", max_length=24)
    # the kind of fault an import kept the ID with (registry.faults), "" when sound: the
    # 证件号码待修正 list reads it through this index, not through the JSON of value_faults
    id_fault = models.CharField("证件号码问题", max_length=24, blank=True, db_index=True)
    relation = models.CharField("与户主关系", max_length=16, choices=_choices(choices.RELATIONS))
    gender = models.CharField("性别", max_length=2, blank=True, choices=_choices(choices.GENDERS))
    birth_date = models.DateField("出生日期", null=True, blank=True)
    ethnicity = models.CharField("民族", max_length=16, blank=True)
    political_status = models.CharField("政治面貌", max_length=16, blank=True)
    education = models.CharField("文化程度", max_length=16, blank=True)
    school_status = models.CharField("在校生状况", max_length=32, blank=True)
    dropout_reason = models.CharField("义务教育阶段未上学原因", max_length=64, blank=True)
    health = models.CharField("健康状况", max_length=16, blank=True, choices=_choices(choices.HEALTH))
    labour_skill = models.CharField(
        "劳动技能", max_length=16, blank=True, choices=_choices(choices.LABOUR_SKILLS)
    )
    work_months = models.DecimalField("务工时间（月）", max_digits=4, decimal_places=1, null=True, blank=True)
    work_place = models.CharField("务工所在地", max_length=128, blank=True)
    work_employer = models.CharField("务工企业名称", max_length=128, blank=True)
    resident_medical_insurance = models.BooleanField("是否参加城乡居民基本医疗保险", null=True, blank=True)
    employee_medical_insurance = models.BooleanField("是否参加城镇职工基本医疗保险", null=True, blank=True)
    critical_illness_insurance = models.BooleanField("是否参加大病保险", null=True, blank=True)
    resident_pension = models.BooleanField("是否参加城乡居民基本养老保险", null=True, blank=True)
    employee_pension = models.BooleanField("是否参加城镇职工基本养老保险", null=True, blank=True)
    dibao = models.BooleanField("是否享受农村居民最低生活保障", null=True, blank=True)
    tekun = models.BooleanField("是否特困供养人员", null=True, blank=True)
    public_welfare_post = models.CharField("公益性岗位", max_length=64, blank=True)
    public_welfare_post_months = models.DecimalField(
        "公益性岗位(月数)", max_digits=4, decimal_places=1, null=True, blank=True
    )
    phone_enc = models.TextField("家庭成员联系电话（密文）", blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField("家庭成员联系电话", max_length=20, blank=True)
    extra = models.JSONField("其他列", default=dict, blank=True, encoder=UnicodeJSONEncoder)
    value_faults = value_faults_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["household_id", "id"]
        verbose_name = verbose_name_plural = "家庭成员"
        indexes = [
            models.Index(fields=["name"], name="member_name"),
            models.Index(fields=["region_code"], name="member_region"),
        ]
        constraints = [
            # the import decides who keeps the title (registry.importer: EXTRA_HEAD, HEAD_REPLACED)
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(relation="户主"),
                name="member_one_head_per_household",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_number_masked}）"

    def audit_household_id(self) -> int:
        return self.household_id

    def audit_region_code(self) -> str:
        return self.region_code


class IncomePolicy(models.Model):
    """Per-province, per-year parameters of the income formula (policy §4) and the monitoring line
    (§2). The open points of the formula are switches here, never literals in code."""

    class Treatment(models.TextChoices):
        INCOME = "income", "计入收入"
        OFFSET_EXPENSE = "offset_expense", "冲减生产经营性支出"
        EXCLUDE = "exclude", "不计入"

    class Divisor(models.TextChoices):
        ANNUAL = "annual", "年度家庭人口数"
        CURRENT = "current", "当前家庭人口数"

    province_code = models.CharField("省份代码", max_length=2)
    year = models.PositiveSmallIntegerField("年度")
    monitoring_line = models.DecimalField("防止返贫监测范围（元/人·年）", max_digits=10, decimal_places=2)
    line_confirmed = models.BooleanField("监测范围已核实", default=False)
    line_source = models.CharField("依据", max_length=300, blank=True)
    awards_treatment = models.CharField(
        "产业奖励、就业奖励", max_length=16, choices=Treatment.choices, default=Treatment.INCOME
    )
    special_subsidy_treatment = models.CharField(
        "专项用于减少生产经营性支出的补贴",
        max_length=16,
        choices=Treatment.choices,
        default=Treatment.OFFSET_EXPENSE,
    )
    claims_counted = models.BooleanField("理赔收入计入转移性收入", default=False)
    divisor = models.CharField("人均的分母", max_length=8, choices=Divisor.choices, default=Divisor.ANNUAL)
    tolerance = models.DecimalField(
        "与导入值的容差（元/人）", max_digits=8, decimal_places=2, default=Decimal("1.00")
    )

    class Meta:
        ordering = ["province_code", "year"]
        verbose_name = verbose_name_plural = "收入口径参数"
        constraints = [
            models.UniqueConstraint(fields=["province_code", "year"], name="income_policy_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.province_code} {self.year}年 监测范围 {self.monitoring_line} 元"


INCOME_COMPONENTS = (
    "wage", "wage_public_welfare", "wage_other", "business", "property", "property_dividend", "property_other",
    "transfer", "pension", "family_planning", "eco_compensation", "dibao_allowance", "tekun_allowance",
    "transfer_other", "business_expense", "industry_award", "employment_award", "special_subsidy",
)  # fmt: skip


@audited()
class IncomeRecord(models.Model):
    """A household's income for one year, as imported, with fangpin's own computation beside it."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="incomes", verbose_name="户")
    region_code = models.CharField("区划代码", max_length=12)
    year = models.PositiveSmallIntegerField("年度")
    wage = models.DecimalField("工资性收入", **MONEY)
    wage_public_welfare = models.DecimalField("公益性岗位收入", **MONEY)
    wage_other = models.DecimalField("其他工资性收入", **MONEY)
    business = models.DecimalField("生产经营性收入", **MONEY)
    property = models.DecimalField("财产性收入", **MONEY)
    property_dividend = models.DecimalField("资产收益扶贫分红收入", **MONEY)
    property_other = models.DecimalField("其他财产性收入", **MONEY)
    transfer = models.DecimalField("转移性收入", **MONEY)
    pension = models.DecimalField("养老金或离退休金", **MONEY)
    family_planning = models.DecimalField("计划生育金", **MONEY)
    eco_compensation = models.DecimalField("生态补偿金", **MONEY)
    dibao_allowance = models.DecimalField("最低生活保障金", **MONEY)
    tekun_allowance = models.DecimalField("特困人员救助供养金", **MONEY)
    transfer_other = models.DecimalField("其他转移性收入", **MONEY)
    business_expense = models.DecimalField("生产经营性支出", **MONEY)
    industry_award = models.DecimalField("产业奖励", **MONEY)
    employment_award = models.DecimalField("就业奖励", **MONEY)
    special_subsidy = models.DecimalField("专项用于减少生产经营性支出的补贴", **MONEY)
    reported_gross = models.DecimalField("年收入（元）（导入）", **MONEY)
    reported_net = models.DecimalField("纯收入（元）（导入）", **MONEY)
    reported_per_capita = models.DecimalField("人均纯收入（元）（导入）", **MONEY)
    computed_net = models.DecimalField("家庭纯收入（fangpin）", **MONEY)
    computed_per_capita = models.DecimalField("人均纯收入（fangpin）", **MONEY)
    divisor_size = models.PositiveSmallIntegerField("人口数（分母）", null=True, blank=True)
    discrepancy = models.DecimalField("与导入人均纯收入之差", **MONEY)
    policy = models.ForeignKey(IncomePolicy, models.PROTECT, null=True, blank=True, verbose_name="口径")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["household_id", "-year"]
        verbose_name = verbose_name_plural = "年度收入"
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="income_one_per_household_year")
        ]
        indexes = [models.Index(fields=["region_code", "year"], name="income_region_year")]

    def __str__(self) -> str:
        return f"{self.year}年收入（户{self.household_id}）"

    def audit_household_id(self) -> int:
        return self.household_id

    def audit_region_code(self) -> str:
        return self.region_code


RIGID_COMPONENTS = ("medical", "education", "disability_care")


@audited()
class ExpenditureRecord(models.Model):
    """A household's rigid expenditure (刚性支出) of one year, beside its IncomeRecord: the other half of the
    unified income-and-expenditure accounting (收支核算, fangpin.regimes accounting) both the 防止返贫致贫
    monitoring and 民政's social assistance read since 2026. Amounts are what the household paid itself,
    after insurance and assistance; empty is unknown, not zero."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="expenditures", verbose_name="户")
    region_code = models.CharField("区划代码", max_length=12)
    year = models.PositiveSmallIntegerField("年度")
    medical = models.DecimalField("医疗支出（个人负担）", **MONEY)
    education = models.DecimalField("教育支出", **MONEY)
    disability_care = models.DecimalField("残疾康复护理支出", **MONEY)
    source = models.CharField("来源", max_length=32, blank=True)  # 入户核查 / 手机采集 / 部门数据 / 导入
    # the regime's accounting version (Accounting.version) the record was taken under
    accounting_version = models.CharField("核算口径版本", max_length=16, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["household_id", "-year"]
        verbose_name = verbose_name_plural = "年度刚性支出"
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="expenditure_one_per_household_year")
        ]
        indexes = [models.Index(fields=["region_code", "year"], name="expenditure_region_year")]

    def __str__(self) -> str:
        return f"{self.year}年刚性支出（户{self.household_id}）"

    @property
    def total(self) -> Decimal | None:
        """The sum of the known items; None when every item is unknown."""
        known = [getattr(self, name) for name in RIGID_COMPONENTS if getattr(self, name) is not None]
        return sum(known, Decimal(0)) if known else None

    def audit_household_id(self) -> int:
        return self.household_id

    def audit_region_code(self) -> str:
        return self.region_code
