"""The 行政区划 tree (province → city → county → township → village) and region scoping."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from fangpin.audit.signals import audited

if TYPE_CHECKING:
    from fangpin.accounts.models import User


class Level(models.IntegerChoices):
    PROVINCE = 1, "省"
    CITY = 2, "市"
    COUNTY = 3, "县"
    TOWNSHIP = 4, "乡镇"
    VILLAGE = 5, "村"


# Digits of the 12-digit 统计用区划代码 that identify a node at each level.
PREFIX_LENGTH = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12}


def level_of(code: str) -> Level:
    """The level a 12-digit code denotes, from which digit groups are non-zero."""
    if code[9:12] != "000":
        return Level.VILLAGE
    if code[6:9] != "000":
        return Level.TOWNSHIP
    if code[4:6] != "00":
        return Level.COUNTY
    if code[2:4] != "00":
        return Level.CITY
    return Level.PROVINCE


def code_range(prefix: str) -> tuple[str, str]:
    """All 12-digit codes under a prefix, as an index-friendly range (no LIKE)."""
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


@audited()
class Region(models.Model):
    """One node of the 行政区划 tree, keyed by its 12-digit code. Loads of the whole table bypass the
    signals and write their entries in one append (regions.actions.upsert_regions)."""

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children")
    full_name = models.CharField("全称", max_length=255, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return self.full_name or self.name

    def audit_region_code(self) -> str:
        return self.code

    @property
    def prefix(self) -> str:
        return self.code[: PREFIX_LENGTH[Level(self.level)]]

    def contains(self, code: str) -> bool:
        return code.startswith(self.prefix)


class ScopedQuerySet(models.QuerySet):
    """A queryset of rows that belong to a region through their `region_code` column.

    `for_user` is the only door through which views, API, exports and counts reach household
    data: it restricts to the user's region subtree, or to nothing for roles without access.
    """

    region_field = "region_code"
    capability = "view_register"  # what a role needs to see any of these rows at all

    def in_region(self, region: Region) -> ScopedQuerySet:
        low, high = code_range(region.prefix)
        return self.filter(**{f"{self.region_field}__range": (low, high)})

    def for_user(self, user: User) -> ScopedQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.can(self.capability):
            return self.none()
        if user.region_id is None:
            return self.none()
        return self.in_region(user.region)
