"""One filter for findings: the list page and the export use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from fangpin.regions.models import Region, code_range

from .catalogue import FAMILIES, SEVERITIES
from .models import WARNING_FAMILIES, Finding


@dataclass
class FindingFilter:
    family: str = ""
    rule: str = ""
    severity: str = ""
    status: str = "open"
    region: str = ""

    @classmethod
    def from_params(cls, params: Any) -> FindingFilter:
        # U+0000 in a query string: PostgreSQL refuses it in any text comparison (a 500), and no filter means it
        values = {name: (params.get(name) or "").replace("\x00", "") for name in cls.__dataclass_fields__}
        values = {name: value.strip() for name, value in values.items()}
        values["status"] = values["status"] or "open"
        return cls(**values)

    def apply(self, queryset: QuerySet[Finding]) -> QuerySet[Finding]:
        """Narrow an already scoped queryset; never widens it."""
        if self.family == "warnings":
            queryset = queryset.filter(family__in=WARNING_FAMILIES)
        elif self.family in FAMILIES:
            queryset = queryset.filter(family=self.family)
        if self.rule:
            queryset = queryset.filter(rule_id=self.rule)
        if self.severity in SEVERITIES:
            queryset = queryset.filter(severity=self.severity)
        if self.status in Finding.Status.values:
            queryset = queryset.filter(status=self.status)
        if self.region and (region := Region.objects.filter(code=self.region).first()):
            queryset = queryset.filter(region_code__range=code_range(region.prefix))
        return queryset
