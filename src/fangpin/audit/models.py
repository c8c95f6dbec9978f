"""The append-only, hash-chained audit log: changes, sensitive reads and security events."""

from __future__ import annotations

from django.db import models

from fangpin.common.jsonenc import UnicodeJSONEncoder


class Action(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    SENSITIVE_READ = "sensitive_read", "查看敏感信息"
    EXPORT = "export", "导出"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOCKOUT = "lockout", "账号锁定"
    UNLOCK = "unlock", "解除锁定"


class Scheme(models.TextChoices):
    """How an entry's hash was made. Entries written before the keyed chain stay plain SHA-256 (the
    triggers forbid rewriting them); every later entry is HMAC-SHA256 with the audit key."""

    SHA256 = "sha256", "SHA-256（旧记录）"
    HMAC = "hmac", "HMAC-SHA256"


class AuditEntry(models.Model):
    """One event. `entry_hash` is an HMAC (audit key outside the database) over every field and the
    previous entry's hash, so editing or deleting any past entry breaks the chain and nobody without
    the key can recompute it (`fangpin audit verify`). Triggers refuse UPDATE and DELETE at the database
    level; the chain and the signed anchors outside the database catch what gets past them."""

    seq = models.PositiveBigIntegerField("序号", unique=True)
    at = models.DateTimeField("时间")
    user_id = models.BigIntegerField("用户ID", null=True, blank=True)
    username = models.CharField("用户名", max_length=150)
    request_id = models.CharField("请求号", max_length=32, blank=True)
    source = models.CharField("来源", max_length=16)
    ip = models.CharField("IP", max_length=64, blank=True)
    action = models.CharField("动作", max_length=16, choices=Action.choices)
    model = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    # The household a register row belongs to: lets a household's history be read in one query.
    household_id = models.BigIntegerField("户ID", null=True, blank=True)
    region_code = models.CharField("区划代码", max_length=12, blank=True)
    before = models.JSONField("修改前", null=True, blank=True, encoder=UnicodeJSONEncoder)
    after = models.JSONField("修改后", null=True, blank=True, encoder=UnicodeJSONEncoder)
    detail = models.CharField("说明", max_length=500, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)
    scheme = models.CharField("哈希方式", max_length=8, choices=Scheme.choices, default=Scheme.HMAC)

    class Meta:
        ordering = ["seq"]
        verbose_name = verbose_name_plural = "审计日志"
        indexes = [
            # household history page and as-of reconstruction: WHERE household_id=? ORDER BY seq
            models.Index(fields=["household_id", "seq"], name="audit_household_seq"),
            models.Index(fields=["model", "object_id", "seq"], name="audit_object_seq"),
            models.Index(fields=["action", "at"], name="audit_action_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.username} {self.get_action_display()} {self.object_repr}"


class ChainHead(models.Model):
    """Single row holding the last sequence number and hash; locking it serialises appends."""

    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "审计链头"

    def __str__(self) -> str:
        return f"#{self.seq} {self.entry_hash[:12]}"
