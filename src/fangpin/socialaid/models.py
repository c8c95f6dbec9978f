"""农村社会救助: the 民政 side of the joint work.

`AidList` is one low-income list as 民政 exported it (低收入人口动态监测: 低保, 低保边缘, 特困, 刚性支出困难,
临时救助), with the scope it covers and the time it was in force: a new list of the same scope replaces
the previous one, which is kept (status 已被替换) so that one can tell which list was compared when.
`AidPerson` is one person of a list, stored like the register stores people: by the keyed hash of the
证件号码 and its mask, never the clear number.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.audit.signals import audited
from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.regions.models import ScopedQuerySet


@audited(exclude=("updated_at",))
class AidList(models.Model):
    """One uploaded 民政 low-income list and the scope it covers (the uploader's region)."""

    class Status(models.TextChoices):
        IMPORTING = "importing", "导入中"
        CURRENT = "current", "在用"
        REPLACED = "replaced", "已被替换"
        REJECTED = "rejected", "未通过校验"

    region_code = models.CharField("名单范围", max_length=12)
    source = models.CharField("数据来源", max_length=100)
    as_of = models.DateField("名单日期", help_text="民政导出名单的日期")
    file_name = models.CharField("原文件名", max_length=255)
    job = models.ForeignKey("jobs.Job", models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.IMPORTING)
    rows = models.PositiveIntegerField("行数", default=0)
    persons = models.PositiveIntegerField("人数", default=0)
    households = models.PositiveIntegerField("户数", default=0)
    ended = models.PositiveIntegerField("已退出人数", default=0)
    matched = models.PositiveIntegerField("在本平台台账中的人数", default=0)
    message = models.CharField("说明", max_length=1000, blank=True)
    # the three groups' counts when the list was imported, over its whole scope (the page recomputes
    # them against the register as it is; these say what the comparison found on the day)
    summary = models.JSONField("导入时比对结果", default=dict, blank=True, encoder=UnicodeJSONEncoder)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="上传人"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    imported_at = models.DateTimeField("启用时间", null=True, blank=True)
    replaced_at = models.DateTimeField("被替换时间", null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="替换为"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = verbose_name_plural = "民政低收入人口名单"
        indexes = [models.Index(fields=["region_code", "status"], name="aidlist_region_status")]

    def __str__(self) -> str:
        return f"民政低收入人口名单（{self.as_of:%Y年%m月%d日}，{self.file_name}）"

    def audit_region_code(self) -> str:
        return self.region_code


class AidPerson(models.Model):
    """One person of a 民政 list. `household_key` is the hash of the 户主证件号码 (the person's own hash
    when the list names no head): 民政's household. `region_code` is where the person belongs: the
    register's village when the person is in the register, else the 乡镇/村 the list names, else the
    list's scope."""

    aid_list = models.ForeignKey(AidList, models.CASCADE, related_name="people", verbose_name="名单")
    row_number = models.PositiveIntegerField("行号")
    id_hash = models.CharField(max_length=64)
    id_masked = models.CharField("证件号码", max_length=24)
    name = models.CharField("姓名", max_length=64)
    categories = models.CharField("救助类型", max_length=100, help_text="以“、”分隔")
    household_key = models.CharField(max_length=64)
    head_name = models.CharField("户主姓名", max_length=64, blank=True)
    head_id_masked = models.CharField("户主证件号码", max_length=24, blank=True)
    household_size = models.PositiveSmallIntegerField("保障人数", null=True, blank=True)
    township_name = models.CharField("乡镇（名单）", max_length=64, blank=True)
    village_name = models.CharField("村（名单）", max_length=64, blank=True)
    region_code = models.CharField("区划代码", max_length=12)
    start_date = models.DateField("开始日期", null=True, blank=True)
    end_date = models.DateField("结束日期", null=True, blank=True)
    monthly_amount = models.DecimalField("月保障金额", max_digits=12, decimal_places=2, null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["aid_list_id", "row_number"]
        verbose_name = verbose_name_plural = "名单人员"
        constraints = [
            models.UniqueConstraint(fields=["aid_list", "id_hash"], name="aidperson_once_per_list")
        ]
        indexes = [models.Index(fields=["aid_list", "region_code"], name="aidperson_list_region")]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_masked}）"

    @property
    def category_list(self) -> list[str]:
        return [c for c in self.categories.split("、") if c]
