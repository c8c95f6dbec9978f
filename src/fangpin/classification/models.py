"""The classification of 原建档立卡脱贫人口 (2026 No.1 document (八)): one assessment per 脱贫户 walking the
regime's steps (village → township → county), the facts it was assessed on with their sources, the
system's suggested class, the proposed and the final class, the measures carried over, its events and
its evidence files."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.audit.signals import audited
from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.monitoring.models import HouseholdScoped

# an assessment still being worked on (a returned one waits at an earlier step): one per household
OPEN_STATUSES = ("open", "returned")


@audited(exclude=("updated_at",))
class Assessment(HouseholdScoped):
    class Status(models.TextChoices):
        OPEN = "open", "办理中"
        APPROVED = "approved", "已审定"
        RETURNED = "returned", "已退回"
        CLOSED = "closed", "已终止"

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="assessments", verbose_name="户"
    )
    # the regime (政策口径) the assessment was started under: its classes and steps hold for the whole
    # assessment, whatever the province configures later
    regime = models.CharField("办理口径", max_length=16)
    # the facts assessed, each with where it was read (registry, income parameters, monitoring):
    # [{"group", "label", "value", "source"}], taken at the start and again when the village completes
    # its assessment, so the decision shows what the village saw
    facts = models.JSONField("评估情况", default=list, encoder=UnicodeJSONEncoder)
    signals = models.JSONField("评估要点", default=dict, encoder=UnicodeJSONEncoder)
    facts_at = models.DateTimeField("评估情况取数时间")
    suggested_class = models.CharField("系统建议类别", max_length=32, blank=True)
    suggestion_reason = models.TextField("建议理由", blank=True)
    proposed_class = models.CharField("拟定类别", max_length=32)
    reason = models.TextField("分类理由", blank=True)
    # Measure ids (monitoring.Measure) running at approval: kept, and ended by the county's decision
    carried_measures = models.JSONField("延续的帮扶措施", default=list, encoder=UnicodeJSONEncoder)
    ended_measures = models.JSONField("退出时结束的帮扶措施", default=list, encoder=UnicodeJSONEncoder)
    step = models.CharField("当前环节", max_length=32)
    step_started_at = models.DateTimeField("本环节开始")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    final_class = models.CharField("审定类别", max_length=32, blank=True)
    # the label as the regime named it at the decision: a later regime file may rename or drop the class
    final_class_label = models.CharField("审定类别名称", max_length=32, blank=True)
    final_exits = models.BooleanField("退出帮扶政策", default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="审定人")  # fmt: skip
    decided_at = models.DateTimeField("审定时间", null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="发起人"
    )
    started_at = models.DateTimeField("发起时间")
    finished_at = models.DateTimeField("办结时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region_code", "household_id", "-started_at"]
        verbose_name = verbose_name_plural = "脱贫人口分类评估"
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="one_open_assessment_per_household",
            ),
        ]
        indexes = [
            models.Index(fields=["region_code", "status"], name="assessment_scope_status"),
            models.Index(fields=["status", "step", "step_started_at"], name="assessment_step_clock"),
        ]

    def __str__(self) -> str:
        return f"{self.household}分类评估"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AssessmentEvent(models.Model):
    """One step done or returned, with who, when, the checklist ticked, the class named and the note."""

    class Action(models.TextChoices):
        OPENED = "opened", "发起"
        DONE = "done", "完成"
        RETURNED = "returned", "退回"
        APPROVED = "approved", "审定"
        CLOSED = "closed", "终止"

    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="events")
    step = models.CharField("环节", max_length=32)
    step_label = models.CharField("环节名称", max_length=32)
    action = models.CharField("动作", max_length=16, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, verbose_name="办理人")
    at = models.DateTimeField("时间")
    class_label = models.CharField("类别", max_length=32, blank=True)
    note = models.TextField("说明", blank=True)
    checklist = models.JSONField("佐证清单", default=list, encoder=UnicodeJSONEncoder)

    class Meta:
        ordering = ["assessment_id", "at", "id"]
        verbose_name = verbose_name_plural = "分类评估记录"

    def __str__(self) -> str:
        return f"{self.assessment} {self.step_label} {self.get_action_display()}"


@audited()
class AssessmentAttachment(HouseholdScoped):
    """The assessment form, photos and other evidence, stored under MEDIA_ROOT and served only through
    the scoped view (every download in the audit log)."""

    class Kind(models.TextChoices):
        FORM = "form", "分类评估表"
        EVIDENCE = "evidence", "佐证材料"
        PHOTO = "photo", "入户照片"
        OTHER = "other", "其他材料"

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="assessment_attachments", verbose_name="户"
    )
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="attachments")
    kind = models.CharField("材料类型", max_length=16, choices=Kind.choices)
    name = models.CharField("文件名", max_length=255)
    path = models.CharField(max_length=500)
    size = models.PositiveIntegerField("大小（字节）")
    step = models.CharField("上传环节", max_length=32)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="上传人"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        ordering = ["assessment_id", "uploaded_at", "id"]
        verbose_name = verbose_name_plural = "分类评估材料"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.name}"
