"""Users: one role and one region each (the scope of everything they see)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from fangpin.audit.signals import audited

from .roles import CAPABILITIES, Department, Role


# last_login changes at every login, which the login entry already records; the password hash shows only
# that it changed; role and region are plain columns, so their changes are in before/after
@audited(exclude=("last_login",), redact=("password",), m2m=("groups", "user_permissions"))
class User(AbstractUser):
    """A platform account. `region` is the scope; `role` decides what may be done within it."""

    role = models.CharField("角色", max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region", models.PROTECT, null=True, blank=True, related_name="users", verbose_name="所属区划"
    )
    department = models.CharField("部门", max_length=16, choices=Department.choices, blank=True)
    unit = models.CharField("单位", max_length=128, blank=True)
    full_name = models.CharField("姓名", max_length=64, blank=True)
    # set when the system administrator issues a one-time password (new account, reset): every page
    # leads to the password change until the user has chosen their own (accounts.middleware)
    must_change_password = models.BooleanField("须修改密码", default=False)

    class Meta:
        ordering = ["username"]
        verbose_name = verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                name="department_only_for_department_role",
                condition=models.Q(department="") | models.Q(role="department"),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def can(self, capability: str) -> bool:
        return self.is_active and Role(self.role) in CAPABILITIES[capability] if self.role else False

    def covers(self, code: str) -> bool:
        """Whether the region code lies in this user's region (the user's scope)."""
        return self.region is not None and self.region.contains(code)

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role else ""

    @property
    def display_name(self) -> str:
        return self.full_name or self.username
