"""One filter definition for households: the list page, the API and exports all use it."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from fangpin.common.crypto import cipher
from fangpin.common.idnumber import normalise_id
from fangpin.regions.models import Region, code_range

from . import choices
from .income import policy_for
from .models import Household, Member

ID_LIKE = re.compile(r"^\d{15}(\d{2}[\dXx])?$")
INCOME_BANDS = {
    "below": "低于监测范围",
    "near": "监测范围至1.5倍",
    "above": "1.5倍以上",
    "unknown": "无收入数据",
}


@dataclass
class HouseholdFilter:
    region: str = ""
    household_type: str = ""
    category: str = ""
    income_band: str = ""
    risk: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params: Any) -> HouseholdFilter:
        get = params.get
        # U+0000 in a query string: PostgreSQL refuses it in any text comparison (a 500), and no filter means it
        values = {name: (get(name) or "").replace("\x00", "").strip() for name in cls.__dataclass_fields__}
        return cls(**values)

    def apply(self, queryset: QuerySet[Household]) -> QuerySet[Household]:
        """Narrow an already scoped queryset; never widens it."""
        if self.region:
            region = Region.objects.filter(code=self.region).first()
            low, high = code_range(region.prefix) if region else ("", "")
            queryset = queryset.filter(region_code__range=(low, high))
        if self.household_type in choices.HOUSEHOLD_TYPES:
            queryset = queryset.filter(household_type=self.household_type)
        if self.category == "any":
            queryset = queryset.exclude(monitoring_category="")
        elif self.category == "none":
            queryset = queryset.filter(monitoring_category="")
        elif self.category in choices.MONITORING_CATEGORIES:
            queryset = queryset.filter(monitoring_category=self.category)
        if self.risk in choices.RISK_TYPES:
            queryset = queryset.filter(risk_types__contains=self.risk)
        if self.income_band in INCOME_BANDS:
            queryset = self._income_band(queryset)
        if self.q:
            queryset = queryset.filter(search_q(self.q))
        return queryset

    def _income_band(self, queryset: QuerySet[Household]) -> QuerySet[Household]:
        if self.income_band == "unknown":
            return queryset.filter(per_capita_income__isnull=True)
        policy = policy_for(9999)
        line = policy.monitoring_line if policy else Decimal("6000")
        if self.income_band == "below":
            return queryset.filter(per_capita_income__lt=line)
        if self.income_band == "near":
            return queryset.filter(per_capita_income__gte=line, per_capita_income__lt=line * Decimal("1.5"))
        return queryset.filter(per_capita_income__gte=line * Decimal("1.5"))


def search_q(text: str) -> Q:
    """A full ID number (matched through its keyed hash), a 户编号, or a name."""
    text = text.strip()
    if ID_LIKE.match(text):
        result = normalise_id(text)
        if result.ok:
            digest = cipher().digest(result.value, "id")
            return Q(pk__in=Member.objects.filter(id_number_hash=digest).values("household_id"))
        return Q(pk__in=[])
    return (
        Q(household_no=text)
        | Q(head_name__startswith=text)
        | Q(pk__in=Member.objects.filter(name__startswith=text).values("household_id"))
    )


def encode_cursor(row: Any, key: tuple[str, str] = ("region_code", "household_no")) -> str:
    raw = json.dumps([getattr(row, name) for name in key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def keyset_page(
    queryset: QuerySet, cursor: str, size: int, *, key: tuple[str, str] = ("region_code", "household_no")
) -> tuple[list, str]:
    """Keyset pagination on a two-column key (households: region_code, household_no): as fast on
    page 1,000 as on page 1."""
    first, second = key
    queryset = queryset.order_by(first, second)
    if cursor:
        try:
            after_first, after_second = json.loads(
                base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            )
        except (ValueError, TypeError):
            after_first = after_second = None
        if after_first is not None:
            queryset = queryset.filter(
                Q(**{f"{first}__gt": after_first}) | Q(**{first: after_first, f"{second}__gt": after_second})
            )
    page = list(queryset[: size + 1])
    next_cursor = encode_cursor(page[size - 1], key) if len(page) > size else ""
    return page[:size], next_cursor
