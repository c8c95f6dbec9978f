"""The monitoring work: the inbox of clues and their home verification, identification and elimination
cases walking the configured steps (with their notice objections), paired cadres, measures, visits,
reversions of elimination, and the files attached to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.audit.signals import audited
from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.regions.models import ScopedQuerySet
from fangpin.rules.models import Finding


class Source(models.TextChoices):
    WARNING = "warning", "部门预警/收入监测"
    SELF = "self", "农户自主申报"
    CADRE = "cadre", "干部排查"
    HOTLINE = "hotline", "热线/社会监督"


# A home verification has the same results as a warning's verification: one list for both.
Outcome = Finding.Outcome


class HouseholdScoped(models.Model):
    """A row about one household: scoped by its region, audited against it."""

    household = models.ForeignKey("registry.Household", models.PROTECT, related_name="+", verbose_name="户")
    region_code = models.CharField(max_length=12)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def audit_household_id(self) -> int:
        return self.household_id

    def audit_region_code(self) -> str:
        return self.region_code


@audited()
class Clue(HouseholdScoped):
    """An entry of the inbox (线索): a warning, a self-application, a cadre's report or a hotline call."""

    class Status(models.TextChoices):
        PENDING = "pending", "待核查"
        VERIFIED = "verified", "已核查"
        CASE = "case", "已发起识别"

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="clues", verbose_name="户"
    )
    source = models.CharField("线索来源", max_length=16, choices=Source.choices)
    finding = models.OneToOneField(
        "rules.Finding", models.SET_NULL, null=True, blank=True, related_name="clue", verbose_name="预警线索"
    )
    summary = models.TextField("线索内容")
    reporter = models.CharField("申报人/反映人", max_length=64, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    reported_at = models.DateTimeField("登记时间")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField("核查结果", max_length=16, choices=Outcome.choices, blank=True)
    verification_note = models.TextField("核查情况", blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="核查人")  # fmt: skip
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    regime = models.CharField("核查口径", max_length=16, blank=True)  # fangpin.regimes code at verification
    # the 收支核算 taken at the verification (registry.accounting.snapshot):
    # one accounting, stored once, read by the identification case and by the referral to 民政 alike
    accounting = models.JSONField("收支核算", default=dict, blank=True, encoder=UnicodeJSONEncoder)
    case = models.ForeignKey("Case", models.SET_NULL, null=True, blank=True, related_name="clues")

    class Meta:
        ordering = ["-reported_at", "id"]
        verbose_name = verbose_name_plural = "监测线索"
        indexes = [models.Index(fields=["region_code", "status"], name="clue_scope_status")]

    def __str__(self) -> str:
        return f"{self.household}{self.get_source_display()}线索"


@audited()
class Referral(HouseholdScoped):
    """转介民政: a household a joint home verification refers to 民政 for 低保, 低保边缘, 特困 or 临时救助
    (the regime's referral kinds), with the reasons the accounting gave, and 民政's decision recorded back."""

    class Status(models.TextChoices):
        PENDING = "pending", "待民政审核"
        INCLUDED = "included", "已纳入"
        NOT_INCLUDED = "not_included", "未纳入"
        WITHDRAWN = "withdrawn", "已撤回"

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="referrals", verbose_name="户"
    )
    clue = models.ForeignKey(Clue, models.PROTECT, null=True, blank=True, related_name="referrals",
                             verbose_name="核查线索")  # fmt: skip
    kinds = models.JSONField("转介事项", default=list, encoder=UnicodeJSONEncoder)
    reasons = models.JSONField("转介理由", default=dict, encoder=UnicodeJSONEncoder, help_text="事项 → 理由")
    suggested = models.JSONField("核算建议事项", default=list, blank=True, encoder=UnicodeJSONEncoder)
    note = models.TextField("转介说明", blank=True)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="转介人"
    )
    referred_at = models.DateTimeField("转介时间")
    regime = models.CharField("转介口径", max_length=16)  # fangpin.regimes code the referral was made under
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    result_kind = models.CharField("纳入事项", max_length=16, blank=True)  # one of `kinds` when 已纳入
    decided_on = models.DateField("民政认定日期", null=True, blank=True)
    outcome_note = models.TextField("民政审核意见", blank=True)
    outcome_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="结果录入人")  # fmt: skip
    outcome_at = models.DateTimeField("结果录入时间", null=True, blank=True)

    class Meta:
        ordering = ["-referred_at", "id"]
        verbose_name = verbose_name_plural = "转介民政"
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(status="pending"),
                name="one_pending_referral_per_household",
            ),
        ]
        # the 转介民政 page: WHERE region_code BETWEEN … AND status = … ORDER BY referred_at
        indexes = [models.Index(fields=["region_code", "status"], name="referral_scope_status")]

    def __str__(self) -> str:
        return f"{self.household}转介民政（{'、'.join(self.kinds)}）"

    @property
    def outcome_label(self) -> str:
        """已纳入低保 / 未纳入 / 待民政审核 / 已撤回, as 民政 and the pages say it."""
        if self.status == self.Status.INCLUDED:
            return f"已纳入{self.result_kind}"
        return self.get_status_display()


@audited(exclude=("updated_at",))
class Case(models.Model):
    class Kind(models.TextChoices):
        IDENTIFICATION = "identification", "识别纳入"
        ELIMINATION = "elimination", "风险消除"

    class Status(models.TextChoices):
        OPEN = "open", "办理中"
        DONE = "done", "已办结"
        CLOSED = "closed", "已终止"

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="cases", verbose_name="户"
    )
    region_code = models.CharField(max_length=12)
    kind = models.CharField("程序", max_length=16, choices=Kind.choices, default=Kind.IDENTIFICATION)
    source = models.CharField("线索来源", max_length=16, choices=Source.choices, blank=True)
    finding = models.ForeignKey(
        "rules.Finding", models.SET_NULL, null=True, blank=True, verbose_name="预警线索"
    )
    proposed_category = models.CharField("拟认定类别", max_length=16, blank=True)
    risk_types = models.CharField("风险类型", max_length=200, blank=True, help_text="以“、”分隔")
    elimination_method = models.CharField("风险消除方式", max_length=8, blank=True)
    green_channel = models.BooleanField("绿色通道（先帮扶后补程序）", default=False)
    # the regime (政策口径, fangpin.regimes) the case was opened under: its procedure and categories hold
    # for the whole case, whatever the county switches to later
    regime = models.CharField("办理口径", max_length=16, blank=True)
    step = models.CharField("当前环节", max_length=32)
    step_started_at = models.DateTimeField("本环节开始")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="发起人"
    )
    opened_at = models.DateTimeField("发起时间")
    finished_at = models.DateTimeField("办结时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["opened_at", "id"]
        verbose_name = verbose_name_plural = "识别程序"
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(status="open"), name="one_open_case_per_household"
            ),
        ]
        indexes = [models.Index(fields=["region_code", "status"], name="case_scope_status")]

    def __str__(self) -> str:
        return f"{self.household}{self.get_kind_display()}程序"

    def audit_household_id(self) -> int:
        return self.household_id

    def audit_region_code(self) -> str:
        return self.region_code


class CaseEvent(models.Model):
    """One step done or returned, with who, when, the checklist ticked and the note."""

    class Action(models.TextChoices):
        OPENED = "opened", "发起"
        DONE = "done", "完成"
        RETURNED = "returned", "退回"
        CLOSED = "closed", "终止"

    case = models.ForeignKey(Case, models.CASCADE, related_name="events")
    step = models.CharField("环节", max_length=32)
    action = models.CharField("动作", max_length=16, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, verbose_name="办理人")
    at = models.DateTimeField("时间")
    note = models.TextField("说明", blank=True)
    checklist = models.JSONField("佐证清单", default=list, encoder=UnicodeJSONEncoder)

    class Meta:
        ordering = ["case_id", "at", "id"]
        verbose_name = verbose_name_plural = "识别程序记录"

    def __str__(self) -> str:
        return f"{self.case} {self.step} {self.get_action_display()}"


@audited()
class Objection(models.Model):
    """An objection received during the notice (公示异议), and the village's answer to it."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="objections")
    received_at = models.DateTimeField("收到时间")
    raised_by = models.CharField("反映人", max_length=64, blank=True, help_text="可匿名")
    content = models.TextField("异议内容")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    answer = models.TextField("调查核实和答复情况", blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="答复人")  # fmt: skip
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)

    class Meta:
        ordering = ["case_id", "received_at", "id"]
        verbose_name = verbose_name_plural = "公示异议"

    def __str__(self) -> str:
        return f"{self.case}公示异议"

    def audit_household_id(self) -> int:
        return self.case.household_id

    def audit_region_code(self) -> str:
        return self.case.region_code


@audited()
class Pairing(HouseholdScoped):
    """The household's paired cadre (帮扶责任人): one at a time; a change ends the old pairing."""

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="pairings", verbose_name="户"
    )
    cadre = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="pairings",
                              verbose_name="帮扶责任人")  # fmt: skip
    since = models.DateField("结对日期")
    until = models.DateField("结束日期", null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="安排人"
    )

    class Meta:
        ordering = ["household_id", "-since", "id"]
        verbose_name = verbose_name_plural = "结对帮扶"
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(until__isnull=True),
                name="one_paired_cadre_per_household",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household}帮扶责任人{self.cadre}"


@audited()
class Measure(HouseholdScoped):
    """An assistance measure from the catalogue (measures.toml), with its dates and funding."""

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="assistance", verbose_name="户"
    )
    group = models.CharField("措施类别", max_length=16)
    item = models.CharField("帮扶措施", max_length=64)
    member = models.ForeignKey("registry.Member", models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name="受益成员")  # fmt: skip
    start = models.DateField("开始日期")
    end = models.DateField("结束日期", null=True, blank=True)
    funding = models.DecimalField("资金（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    funding_source = models.CharField("资金来源", max_length=64, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="录入人"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        ordering = ["household_id", "start", "id"]
        verbose_name = verbose_name_plural = "帮扶措施"

    def __str__(self) -> str:
        return f"{self.group}：{self.item}"

    def running_on(self, day) -> bool:  # type: ignore[no-untyped-def]
        return self.start <= day and (self.end is None or self.end >= day)


@audited()
class Visit(HouseholdScoped):
    """A visit (入户走访) by the paired cadre or the village team."""

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="visits", verbose_name="户"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="走访人"
    )
    visited_on = models.DateField("走访日期")
    changes = models.TextField("家庭情况变化", blank=True)
    notes = models.TextField("走访记录", blank=True)
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        ordering = ["household_id", "-visited_on", "-id"]
        verbose_name = verbose_name_plural = "入户走访"
        indexes = [models.Index(fields=["household", "visited_on"], name="visit_household_day")]

    def __str__(self) -> str:
        return f"{self.household}{self.visited_on:%Y-%m-%d}走访"


@audited()
class Reversion(HouseholdScoped):
    """风险消除回退: an elimination that proved unstable, undone with a reason."""

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="reversions", verbose_name="户"
    )
    case = models.ForeignKey(
        Case, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="消除程序"
    )
    reason = models.TextField("回退原因")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="办理人")
    at = models.DateTimeField("回退时间")

    class Meta:
        ordering = ["household_id", "-at"]
        verbose_name = verbose_name_plural = "风险消除回退"

    def __str__(self) -> str:
        return f"{self.household}风险消除回退"


@audited()
class Attachment(HouseholdScoped):
    """A photo or a scanned form, stored under MEDIA_ROOT and served only through the scoped view."""

    class Kind(models.TextChoices):
        COMMITMENT = "commitment", "承诺授权书"
        FORM = "form", "信息采集表"
        PHOTO = "photo", "现场照片"
        APPRAISAL = "appraisal", "评议记录"
        NOTICE = "notice", "公示照片"
        OTHER = "other", "其他材料"

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="attachments", verbose_name="户"
    )
    kind = models.CharField("材料类型", max_length=16, choices=Kind.choices)
    name = models.CharField("文件名", max_length=255)
    path = models.CharField(max_length=500)
    size = models.PositiveIntegerField("大小（字节）")
    clue = models.ForeignKey(Clue, models.CASCADE, null=True, blank=True, related_name="attachments")
    case = models.ForeignKey(Case, models.CASCADE, null=True, blank=True, related_name="attachments")
    visit = models.ForeignKey(Visit, models.CASCADE, null=True, blank=True, related_name="attachments")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="上传人"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        ordering = ["household_id", "uploaded_at", "id"]
        verbose_name = verbose_name_plural = "附件"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.name}"
