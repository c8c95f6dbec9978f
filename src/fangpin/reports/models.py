"""The summary tables the dashboard and the cross-tab read (never live aggregates over the register).

- `HouseholdFact`: what fangpin knew about each household, one row per validity interval in fangpin's
  own time (transaction time, SCD type 2). A refresh closes a changed household's row at that moment and
  opens a new one; so the facts valid at the end of any past day are what fangpin knew that day.
- `DailyCount`: households and people per village and combination of dimensions, for one as-of day;
  a day is stored once (`CountDay`) and then served as stored, so the same request gives the same numbers.
- `DailyFlow`: events per village and day (warnings raised and verified, cases decided, …), from the
  event times the other apps store; the pipeline of any period is a sum over days.
- `BitCode`: the stable bit of each risk type and measure group in the masks above (never renumbered).
- `RefreshState`: how far the refresh has read the audit log (its change feed).
"""

from __future__ import annotations

from django.db import models

from fangpin.regions.models import ScopedQuerySet


class BitCode(models.Model):
    """One value of a multi-valued dimension (a risk type, a measure group) and its bit in the masks."""

    class Kind(models.TextChoices):
        RISK = "risk", "风险类型"
        MEASURE = "measure", "帮扶措施"

    kind = models.CharField("维度", max_length=8, choices=Kind.choices)
    label = models.CharField("取值", max_length=64)
    bit = models.PositiveSmallIntegerField("位")

    class Meta:
        ordering = ["kind", "bit"]
        verbose_name = verbose_name_plural = "统计维度编码"
        constraints = [
            models.UniqueConstraint(fields=["kind", "label"], name="bitcode_label_once"),
            models.UniqueConstraint(fields=["kind", "bit"], name="bitcode_bit_once"),
            models.CheckConstraint(condition=models.Q(bit__lt=62), name="bitcode_bit_fits"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.label}"


class Status(models.TextChoices):
    NONE = "none", "非监测户"
    UNELIMINATED = "open", "风险未消除"
    ELIMINATED = "eliminated", "风险已消除"


class Dimensions(models.Model):
    """The columns a household is counted by: shared by the facts and the daily counts."""

    region_code = models.CharField("村", max_length=12)
    household_type = models.CharField("户类型", max_length=16, blank=True)
    category = models.CharField("监测对象类别", max_length=16, blank=True)
    status = models.CharField("风险状态", max_length=12, choices=Status.choices, default=Status.NONE)
    elimination_method = models.CharField("风险消除方式", max_length=8, blank=True)
    risk_mask = models.BigIntegerField("风险类型", default=0)
    measure_mask = models.BigIntegerField("在实施的帮扶措施类别", default=0)
    labour = models.BooleanField("有劳动能力", default=False)
    development = models.BooleanField("有开发式帮扶措施", default=False)
    risks_covered = models.BooleanField("每项风险均有对应措施", default=True)
    paired = models.BooleanField("已结对帮扶", default=False)
    case_kind = models.CharField("在办程序", max_length=16, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class HouseholdFact(Dimensions):
    """One household's dimensions over [valid_from, valid_to) in fangpin time (valid_to null: current)."""

    household_id = models.BigIntegerField("户")
    valid_from = models.DateTimeField("起")
    valid_to = models.DateTimeField("止", null=True, blank=True)
    digest = models.CharField(max_length=32)
    people = models.PositiveSmallIntegerField("人口数", default=0)
    # overdue moves with the date: a visit is overdue on day D when visit_due < D
    visit_due = models.DateField("应走访日期", null=True, blank=True)

    class Meta:
        ordering = ["household_id", "valid_from"]
        verbose_name = verbose_name_plural = "农户统计事实"
        constraints = [
            models.UniqueConstraint(
                fields=["household_id"], condition=models.Q(valid_to__isnull=True), name="fact_one_current"
            ),
        ]
        indexes = [
            # facts valid at a moment, in a region: WHERE region_code BETWEEN … AND valid_from <= t …
            models.Index(fields=["region_code", "valid_from"], name="fact_region_from"),
            # the refresh reads the current rows of the changed households
            models.Index(fields=["household_id", "valid_to"], name="fact_household_current"),
        ]

    def __str__(self) -> str:
        return f"户{self.household_id} {self.valid_from:%Y-%m-%d %H:%M}起"


class CountDay(models.Model):
    """A day whose counts are stored in DailyCount, and when they were computed."""

    as_of = models.DateField("统计截止日期", unique=True)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        ordering = ["-as_of"]
        verbose_name = verbose_name_plural = "已统计日期"

    def __str__(self) -> str:
        return f"{self.as_of:%Y-%m-%d}"


class DailyCount(Dimensions):
    """Households and people with one combination of dimensions, in one village, at the end of one day."""

    as_of = models.DateField("统计截止日期")
    overdue = models.BooleanField("走访逾期", default=False)
    households = models.PositiveIntegerField("户数")
    people = models.PositiveIntegerField("人数")

    class Meta:
        ordering = ["as_of", "region_code"]
        verbose_name = verbose_name_plural = "每日统计"
        # every dashboard figure: WHERE as_of = ? AND region_code BETWEEN … GROUP BY …
        indexes = [models.Index(fields=["as_of", "region_code"], name="dailycount_day_region")]

    def __str__(self) -> str:
        return f"{self.as_of} {self.region_code}"


class Metric(models.TextChoices):
    WARNING_RAISED = "warning_raised", "预警推送"
    WARNING_VERIFIED = "warning_verified", "已核实"
    WARNING_TRUE = "warning_true", "核实属实"
    WARNING_CONFIRMED = "warning_confirmed", "确认有风险"
    CASE_OPENED = "case_opened", "发起识别"
    IDENTIFIED = "identified", "识别纳入"
    IDENTIFIED_ON_TIME = "identified_on_time", "按时识别"
    ELIMINATED = "eliminated", "风险消除"
    ELIMINATED_ON_TIME = "eliminated_on_time", "按时消除"


class DailyFlow(models.Model):
    """How many events of one kind happened in one village on one day (`key`: the department for
    warnings, else empty)."""

    day = models.DateField("日期")
    region_code = models.CharField("村", max_length=12)
    metric = models.CharField("事项", max_length=24, choices=Metric.choices)
    key = models.CharField("分组", max_length=32, blank=True)
    n = models.PositiveIntegerField("数量")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["day", "region_code", "metric"]
        verbose_name = verbose_name_plural = "每日事项"
        # the pipeline of a period: WHERE region_code BETWEEN … AND day BETWEEN … GROUP BY metric
        indexes = [models.Index(fields=["region_code", "day"], name="dailyflow_region_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code} {self.metric} {self.n}"


class RefreshState(models.Model):
    """Single row: the last audit entry the refresh has read, and when it ran."""

    audit_seq = models.PositiveBigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    first_refresh_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "统计刷新进度"

    def __str__(self) -> str:
        return f"#{self.audit_seq}"
