"""A comparison of the register with a fresh national export (账账相符): the national side as parsed,
one entry per household with its differences, and the 已核对 marks that outlive a comparison.

Nothing here is ever written into the register. Members are compared and stored by the keyed hash of
the ID (with the stored mask for display), never by a clear number.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.regions.models import ScopedQuerySet


class Comparison(models.Model):
    """One uploaded national export and the scope it was compared in (the uploader's region)."""

    class Status(models.TextChoices):
        PENDING = "pending", "比对中"
        READY = "ready", "已完成"
        REFUSED = "refused", "文件未通过校验"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="上传人"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    job = models.ForeignKey("jobs.Job", models.SET_NULL, null=True, blank=True, related_name="+")
    file_name = models.CharField("文件名", max_length=255)
    region_code = models.CharField("比对范围", max_length=12)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    layout = models.CharField("格式", max_length=12, blank=True)  # member / monitoring (registry.columns)
    year = models.PositiveSmallIntegerField("收入年度", null=True, blank=True)
    cutoff = models.DateField("统计截止日期")
    tolerance = models.DecimalField("人均纯收入容差（元/人）", max_digits=8, decimal_places=2)
    compared = models.JSONField(
        "比对项目", default=list, blank=True
    )  # the field keys the file's columns allow
    # the audit log's sequence number up to which the register side is current (reconciliation.compare.sync)
    synced_seq = models.PositiveBigIntegerField(default=0)
    summary = models.JSONField("结果", default=dict, blank=True, encoder=UnicodeJSONEncoder)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "账账比对"

    def __str__(self) -> str:
        return f"{self.file_name}（{self.created_at:%Y-%m-%d}）"


class Entry(models.Model):
    """One household of a comparison: on both sides, only in fangpin, or only in the national export.
    `national` is the national side's compared values (None: not in the file); `fingerprint` is over both
    sides' compared values, and is what a 已核对 mark must match."""

    comparison = models.ForeignKey(Comparison, models.CASCADE, related_name="entries")
    household_no = models.CharField("户编号", max_length=40)
    household = models.ForeignKey(
        "registry.Household", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="户"
    )
    region_code = models.CharField("区划代码", max_length=12)
    head_name = models.CharField("户主", max_length=64, blank=True)
    national = models.JSONField("国家系统", null=True, blank=True, encoder=UnicodeJSONEncoder)
    in_fangpin = models.BooleanField("fangpin中有此户", default=True)
    differences = models.PositiveIntegerField("差异数", default=0)
    fingerprint = models.CharField(max_length=64)
    computed_at = models.DateTimeField("比对时间", auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["comparison_id", "region_code", "household_no"]
        verbose_name = verbose_name_plural = "比对户"
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "household_no"], name="recon_entry_one_per_household"
            )
        ]
        indexes = [
            # the list: WHERE comparison=? AND region_code BETWEEN … AND differences>0 ORDER BY region_code, household_no
            models.Index(fields=["comparison", "region_code", "household_no"], name="recon_entry_region_no"),
        ]

    def __str__(self) -> str:
        return f"{self.head_name or '（无户主）'}户（{self.household_no}）"


class Difference(models.Model):
    """One way a household differs: a field, fangpin's value and the national value, as officials read them."""

    entry = models.ForeignKey(Entry, models.CASCADE, related_name="items")
    comparison = models.ForeignKey(Comparison, models.CASCADE, related_name="+")
    region_code = models.CharField("区划代码", max_length=12)
    field = models.CharField("比对项", max_length=24)  # a key of reconciliation.compare.FIELDS
    label = models.CharField("项目", max_length=32)
    fangpin_value = models.CharField("fangpin", max_length=500, blank=True)
    national_value = models.CharField("国家系统", max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["entry_id", "position"]
        verbose_name = verbose_name_plural = "比对差异"
        indexes = [
            # counts by field and region: WHERE comparison=? AND region_code BETWEEN … GROUP BY field
            models.Index(fields=["comparison", "region_code", "field"], name="recon_diff_region_field"),
        ]

    def __str__(self) -> str:
        return f"{self.label}：{self.fangpin_value or '（空）'} / {self.national_value or '（空）'}"


class CheckMark(models.Model):
    """已核对: a user has checked this household's differences. It holds while both sides' compared values
    keep the fingerprint they had; a comparison or a register change that alters them removes it."""

    household_no = models.CharField("户编号", max_length=40, unique=True)
    region_code = models.CharField("区划代码", max_length=12)
    fingerprint = models.CharField(max_length=64)
    comparison = models.ForeignKey(Comparison, models.SET_NULL, null=True, blank=True, related_name="+")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="核对人"
    )
    checked_at = models.DateTimeField("核对时间", auto_now=True)
    note = models.CharField("核对说明", max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["region_code", "household_no"]
        verbose_name = verbose_name_plural = "已核对标记"

    def __str__(self) -> str:
        return f"户{self.household_no}已核对"
