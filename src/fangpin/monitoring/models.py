"""Identification cases (识别程序): one per household at a time, walking the configured steps."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.audit.signals import audited
from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.regions.models import ScopedQuerySet


class Source(models.TextChoices):
    WARNING = "warning", "部门预警/收入监测"
    SELF = "self", "农户自主申报"
    CADRE = "cadre", "干部排查"
    HOTLINE = "hotline", "热线/社会监督"


@audited(exclude=("updated_at",))
class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "办理中"
        DONE = "done", "已纳入监测"
        CLOSED = "closed", "已终止"

    household = models.ForeignKey(
        "registry.Household", models.PROTECT, related_name="cases", verbose_name="户"
    )
    region_code = models.CharField(max_length=12)
    source = models.CharField("线索来源", max_length=16, choices=Source.choices)
    finding = models.ForeignKey(
        "rules.Finding", models.SET_NULL, null=True, blank=True, verbose_name="预警线索"
    )
    proposed_category = models.CharField("拟认定类别", max_length=16)
    risk_types = models.CharField("风险类型", max_length=200, help_text="以“、”分隔")
    green_channel = models.BooleanField("绿色通道（先帮扶后补程序）", default=False)
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

    def __str__(self) -> str:
        return f"{self.household}识别程序"

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
