"""Department rosters: each upload kept with its period, its column mapping, and its matched rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.audit.signals import audited
from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.regions.models import ScopedQuerySet

from .kinds import KINDS

KIND_CHOICES = [(code, f"{kind.department} · {kind.label}") for code, kind in KINDS.items()]


@audited(exclude=("updated_at",))
class MappingProfile(models.Model):
    """How one source names its columns: saved at the first upload, reused every month after."""

    kind = models.CharField("名册类型", max_length=16, choices=KIND_CHOICES)
    source = models.CharField("数据来源", max_length=100)
    mapping = models.JSONField("列对应", default=dict, encoder=UnicodeJSONEncoder)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "source"]
        verbose_name = verbose_name_plural = "列对应方案"
        constraints = [models.UniqueConstraint(fields=["kind", "source"], name="mapping_once_per_source")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.source}）"


class RosterQuerySet(models.QuerySet):
    def for_user(self, user) -> RosterQuerySet:  # type: ignore[no-untyped-def]
        """A department officer sees only their own uploads; county roles see all."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.can("view_all_rosters"):
            return self
        if user.can("upload_rosters"):
            return self.filter(uploaded_by=user)
        return self.none()


@audited(exclude=("updated_at",))
class Roster(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "待确认列对应"
        IMPORTING = "importing", "导入中"
        IMPORTED = "imported", "已导入"
        REJECTED = "rejected", "未通过校验"

    kind = models.CharField("名册类型", max_length=16, choices=KIND_CHOICES)
    source = models.CharField("数据来源", max_length=100)
    period = models.CharField("数据期间", max_length=6, help_text="YYYYMM")
    hashed_ids = models.BooleanField("证件号码已哈希", default=False)
    file_path = models.CharField("文件", max_length=500)
    file_name = models.CharField("原文件名", max_length=255)
    header_row = models.PositiveIntegerField("表头行", default=0)
    headers = models.JSONField("表头", default=list, encoder=UnicodeJSONEncoder)
    mapping = models.JSONField("列对应", default=dict, encoder=UnicodeJSONEncoder)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.UPLOADED)
    rows = models.PositiveIntegerField("行数", default=0)
    matched = models.PositiveIntegerField("匹配到台账", default=0)
    unmatched = models.PositiveIntegerField("未匹配", default=0)
    message = models.CharField("说明", max_length=1000, blank=True)
    # empty for a roster loaded at the command line without --user (the OS account is in the audit log)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    verbose_name="上传人")  # fmt: skip
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RosterQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = verbose_name_plural = "部门名册"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period}（{self.file_name}）"

    @property
    def roster_kind(self):  # type: ignore[no-untyped-def]
        return KINDS[self.kind]


class RosterRecord(models.Model):
    """One row of a roster, matched to a person (and household) of the register by keyed hash."""

    roster = models.ForeignKey(Roster, models.CASCADE, related_name="records")
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    row_number = models.PositiveIntegerField("行号")
    id_hash = models.CharField(max_length=64, db_index=True)
    member = models.ForeignKey(
        "registry.Member", models.SET_NULL, null=True, blank=True, related_name="roster_records"
    )
    household = models.ForeignKey("registry.Household", models.SET_NULL, null=True, blank=True,
                                  related_name="roster_records")  # fmt: skip
    region_code = models.CharField(max_length=12, blank=True)
    date = models.DateField("日期", null=True, blank=True)
    values = models.JSONField("内容", default=dict, encoder=UnicodeJSONEncoder)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["roster_id", "row_number"]
        verbose_name = verbose_name_plural = "名册记录"
        indexes = [models.Index(fields=["kind", "date"], name="roster_record_kind_date")]

    def __str__(self) -> str:
        return f"{self.roster_id}#{self.row_number}"
