"""Field work from a phone (ODK Collect, KoboCollect): a cadre's revocable server token, each submission
received with its provenance, and the submissions kept out of the register because the household had
changed since the phone last synced (conflicts the village resolves)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.audit.signals import audited
from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.monitoring.models import HouseholdScoped


# the sync time and the devices change at every sync of the phone: the issue and the revocation are the
# events worth a line in the audit log, not each formList request
@audited(exclude=("last_sync_at", "devices"))
class FieldToken(models.Model):
    """The secret in a cadre's Collect server URL (/field/<token>/). Only its keyed hash is stored: the
    token is shown once, as a URL and a QR code, when it is issued."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="field_tokens",
                             verbose_name="采集人")  # fmt: skip
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("发放时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="发放人"
    )
    revoked_at = models.DateTimeField("停用时间", null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="停用人")  # fmt: skip
    last_sync_at = models.DateTimeField("最近同步", null=True, blank=True)
    devices = models.JSONField("设备编号", default=list, blank=True, encoder=UnicodeJSONEncoder)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "采集令牌"

    def __str__(self) -> str:
        return f"{self.user}的采集令牌（{self.created_at:%Y-%m-%d}）" if self.created_at else "采集令牌"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def audit_region_code(self) -> str:
        return self.user.region.code if self.user.region_id else ""


@audited()
class FieldSubmission(HouseholdScoped):
    """One form instance received from a phone: applied as a visit, a clue or a clue's verification, or
    kept as a conflict (then applied or not by the village)."""

    class Status(models.TextChoices):
        APPLIED = "applied", "已入库"
        CONFLICT = "conflict", "待处理冲突"
        REJECTED = "rejected", "未采用"

    household = models.ForeignKey("registry.Household", models.PROTECT, related_name="field_submissions",
                                  verbose_name="户")  # fmt: skip
    token = models.ForeignKey(FieldToken, models.PROTECT, related_name="submissions", verbose_name="采集令牌")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="采集人"
    )
    form_id = models.CharField("表单", max_length=64)
    form_version = models.CharField("表单版本", max_length=32, blank=True)
    instance_id = models.CharField("实例编号", max_length=80, unique=True)
    xml_sha256 = models.CharField(max_length=64)
    xml = models.TextField("提交内容")
    device_id = models.CharField("设备编号", max_length=80, blank=True)
    gps = models.CharField("位置", max_length=80, blank=True)
    household_version = models.CharField("提交时依据的户版本", max_length=24, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices)
    visit = models.OneToOneField("monitoring.Visit", models.PROTECT, null=True, blank=True,
                                 related_name="field_submission", verbose_name="走访记录")  # fmt: skip
    clue = models.OneToOneField("monitoring.Clue", models.PROTECT, null=True, blank=True,
                                related_name="field_submission", verbose_name="线索")  # fmt: skip
    # the clue a 入户核查 from the phone is about: a clue reported from a phone (`clue` above) may be
    # verified from a phone too, and a rejected conflict leaves it for another verification
    verified_clue = models.ForeignKey("monitoring.Clue", models.PROTECT, null=True, blank=True,
                                      related_name="field_verifications", verbose_name="核查的线索")  # fmt: skip
    # media of a conflict, kept (0600) until the village resolves it: [{"name": ..., "path": ...}]
    media = models.JSONField("媒体文件", default=list, blank=True, encoder=UnicodeJSONEncoder)
    received_at = models.DateTimeField("接收时间", auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = verbose_name_plural = "移动端提交"
        indexes = [models.Index(fields=["region_code", "status"], name="field_submission_scope")]

    def __str__(self) -> str:
        return f"{self.household}移动端提交"


@audited()
class FieldConflict(HouseholdScoped):
    """A submission made on an older version of the household: never applied over the newer facts."""

    household = models.ForeignKey("registry.Household", models.PROTECT, related_name="field_conflicts",
                                  verbose_name="户")  # fmt: skip
    submission = models.OneToOneField(FieldSubmission, models.PROTECT, related_name="conflict")

    class Decision(models.TextChoices):
        APPLIED = "applied", "采用"
        REJECTED = "rejected", "不采用"

    submitted_version = models.CharField("手机上的户版本", max_length=24, blank=True)
    current_version = models.CharField("平台上的户版本", max_length=24)
    decision = models.CharField("处理结果", max_length=16, choices=Decision.choices, blank=True)
    reason = models.TextField("不采用原因", blank=True)
    # a verification applied: per fact the phone changed, what was kept ([{"label", "phone", "synced",
    # "current", "decision"}], in the register's words), so the audit line says which value won
    fields = models.JSONField("逐项处理", default=list, blank=True, encoder=UnicodeJSONEncoder)
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="处理人")  # fmt: skip
    created_at = models.DateTimeField("发现时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "移动端提交冲突"

    def __str__(self) -> str:
        return f"{self.household}移动端提交冲突"
