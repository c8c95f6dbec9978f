"""Files that hold full ID or phone numbers, each with its owner and the day it is purged.

The rows are the inventory the worker purges from and the page "含敏感信息的文件" lists; the file itself
lives under MEDIA_ROOT (written 0600). Import inputs and raw rosters are not listed here: their age is
their job's or roster's end, and the purge reads it from there (retention.actions).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Kind(models.TextChoices):
    ERROR_WORKBOOK = "error_workbook", "错误说明（含完整证件号码）"
    REGISTER_EXPORT = "register_export", "台账导出（含完整证件号码）"


class SensitiveFileQuerySet(models.QuerySet):
    def for_user(self, user: Any) -> SensitiveFileQuerySet:
        """The owner sees their files; the security administrator sees everybody's (to purge early)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.can("manage_security"):
            return self
        return self.filter(owner=user)

    def live(self) -> SensitiveFileQuerySet:
        return self.filter(purged_at__isnull=True)


class SensitiveFile(models.Model):
    """One file written on request with full numbers in it."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                              verbose_name="所有人")  # fmt: skip
    kind = models.CharField("类型", max_length=32, choices=Kind.choices)
    path = models.CharField("文件", max_length=500)
    name = models.CharField("文件名", max_length=255)
    job = models.ForeignKey("jobs.Job", models.SET_NULL, null=True, blank=True, verbose_name="任务")
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    expires_at = models.DateTimeField("到期时间")
    purged_at = models.DateTimeField("删除时间", null=True, blank=True)

    objects = SensitiveFileQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "含敏感信息的文件"
        # the hourly purge: live files past their expiry
        indexes = [models.Index(fields=["purged_at", "expires_at"], name="sensitive_file_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.name}"
