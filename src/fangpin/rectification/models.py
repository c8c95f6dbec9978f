"""The rectification ledger (整改台账): inspection findings tracked item by item to 销号 and 清零."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from fangpin.audit.signals import audited
from fangpin.regions.models import ScopedQuerySet, code_range


class LedgerQuerySet(ScopedQuerySet):
    capability = "view_rectification"


class Source(models.TextChoices):
    NATIONAL = "national", "国家后评估"
    PROVINCIAL = "provincial", "省级考核"
    SUPERVISION = "supervision", "督导调研"
    AUDIT = "audit", "审计"
    DISCIPLINE = "discipline", "纪检监察"
    PUBLIC = "public", "媒体/信访"
    SELF = "self", "自查"
    RULES = "rules", "规则筛查"


class Status(models.TextChoices):
    PENDING = "pending", "待整改"
    IN_PROGRESS = "in_progress", "整改中"
    APPLIED = "applied", "申请销号"
    CLOSED = "closed", "已销号"


@audited()
class Batch(models.Model):
    """A list of problems from one source, owned by the level that received it (the one that 销号)."""

    name = models.CharField("批次名称", max_length=200)
    source = models.CharField("问题来源", max_length=16, choices=Source.choices)
    region = models.ForeignKey("regions.Region", models.PROTECT, verbose_name="责任层级（区划）")
    region_code = models.CharField(max_length=12)
    received_on = models.DateField("反馈日期", default=timezone.localdate)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, verbose_name="建立人")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = verbose_name_plural = "问题批次"

    def __str__(self) -> str:
        return self.name

    def audit_region_code(self) -> str:
        return self.region_code


@audited(exclude=("updated_at",))
class Item(models.Model):
    """One problem: what, where, who answers for it, by when, and how far it has come."""

    batch = models.ForeignKey(Batch, models.CASCADE, related_name="items", verbose_name="批次")
    number = models.PositiveIntegerField("序号")
    description = models.TextField("问题描述")
    category = models.CharField("问题类别", max_length=64, blank=True)
    region = models.ForeignKey("regions.Region", models.PROTECT, related_name="+", verbose_name="涉及区域")
    region_code = models.CharField(max_length=12)
    responsible_unit = models.CharField("责任单位", max_length=100)
    responsible_leader = models.CharField("责任领导", max_length=64, blank=True)
    responsible_person = models.CharField("责任人", max_length=64, blank=True)
    deadline = models.DateField("整改时限")
    measures = models.TextField("整改措施", blank=True)
    progress = models.TextField("整改进展", blank=True)
    result = models.TextField("完成情况", blank=True)
    rule_id = models.CharField("关联规则", max_length=64, blank=True)
    households = models.ManyToManyField("registry.Household", blank=True, related_name="rectification_items")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["batch_id", "number"]
        verbose_name = verbose_name_plural = "整改问题"
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="item_number_once_per_batch")]
        indexes = [models.Index(fields=["region_code", "status", "deadline"], name="item_scope_status")]

    def __str__(self) -> str:
        return f"{self.batch} 第{self.number}项"

    def audit_region_code(self) -> str:
        return self.region_code

    @property
    def is_overdue(self) -> bool:
        return self.status != Status.CLOSED and self.deadline < timezone.localdate()


class Event(models.Model):
    """The item's history: every status change, progress update, evidence file and return."""

    class Kind(models.TextChoices):
        CREATED = "created", "建立"
        STARTED = "started", "开始整改"
        PROGRESS = "progress", "报送进展"
        EVIDENCE = "evidence", "上传佐证"
        APPLIED = "applied", "申请销号"
        RETURNED = "returned", "退回"
        CLOSED = "closed", "销号"
        LINKED = "linked", "举一反三关联"

    item = models.ForeignKey(Item, models.CASCADE, related_name="events")
    kind = models.CharField("事项", max_length=16, choices=Kind.choices)
    at = models.DateTimeField("时间", auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, verbose_name="操作人"
    )
    note = models.TextField("说明", blank=True)
    file_path = models.CharField(max_length=500, blank=True)
    file_name = models.CharField("佐证材料", max_length=255, blank=True)

    class Meta:
        ordering = ["item_id", "at", "id"]
        verbose_name = verbose_name_plural = "整改记录"

    def __str__(self) -> str:
        return f"{self.item} {self.get_kind_display()}"


def batches_for(user) -> models.QuerySet[Batch]:  # type: ignore[no-untyped-def]
    """Batches a user sees: those of their level and below, and those with items in their scope."""
    if user.region is None or not user.can("view_rectification"):
        return Batch.objects.none()
    low, high = code_range(user.region.prefix)
    return Batch.objects.filter(
        models.Q(region_code__range=(low, high))
        | models.Q(pk__in=Item.objects.for_user(user).values("batch_id"))
    ).distinct()
