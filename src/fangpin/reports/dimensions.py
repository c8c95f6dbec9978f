"""The dimensions a household is counted by, one definition for the dashboard, the cross-tab, the
drill-down list and the export: its label, its values in officials' words, and how it filters both the
daily counts and the facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Substr
from django.db.models.lookups import GreaterThan

from fangpin.regions.models import Region, code_range
from fangpin.registry import choices

from .models import BitCode, Status

EMPTY = "_"  # the URL value of an empty field ("未填", "非监测户")


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    field: str = ""  # the column of DailyCount / HouseholdFact
    bits: str = ""  # a BitCode kind: multi-valued (a household counts under each of its values)
    region_digits: int = 0  # township (9) or village (12)
    fixed: tuple[tuple[str, str], ...] = ()  # (URL value, label)
    as_row: bool = True
    as_column: bool = True

    def values(self, *, within: Region | None = None) -> list[tuple[str, str]]:
        """(URL value, label) in display order."""
        if self.bits:
            from .actions import bit_labels

            return [(label, label) for label, _ in bit_labels(self.bits)]
        if self.region_digits:
            level = 4 if self.region_digits == 9 else 5
            regions = Region.objects.filter(level=level)
            if within is not None:
                regions = regions.filter(code__range=code_range(within.prefix))
            return [(r.code, r.name) for r in regions.order_by("code")]
        return list(self.fixed)

    def group_expression(self) -> Any:
        if self.region_digits == 9:
            return Substr("region_code", 1, 9)
        if self.key == "monitored":
            return Case(When(category="", then=Value("0")), default=Value("1"), output_field=CharField())
        return F(self.field)

    def q(self, value: str, day: dt.date, *, facts: bool = False) -> Q:
        """Rows with this value. `facts`: on HouseholdFact, where 走访逾期 is computed for the day."""
        if self.bits:
            from .actions import Bits

            bit = Bits().codes.get((self.bits, value))
            if bit is None:
                return Q(pk__in=[])
            return Q(GreaterThan(F(self.field).bitand(1 << bit), 0))
        if self.region_digits:
            return Q(region_code__range=code_range(value[: self.region_digits]))
        if self.key == "monitored":
            return ~Q(category="") if value == "1" else Q(category="")
        if self.key == "overdue" and facts:
            due = Q(visit_due__lt=day)
            return due if value == "1" else ~due | Q(visit_due__isnull=True)
        if self.key in BOOLEAN_KEYS:
            return Q(**{self.field: value == "1"})
        return Q(**{self.field: "" if value == EMPTY else value})

    def label_of(self, value: str) -> str:
        if self.region_digits:
            name = Region.objects.filter(code=value.ljust(12, "0")).values_list("name", flat=True).first()
            return name or value
        return dict(self.values()).get(value, value)


def _yes_no(yes: str, no: str) -> tuple[tuple[str, str], ...]:
    return (("1", yes), ("0", no))


DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension("township", "乡镇", field="region_code", region_digits=9, as_column=False),
        Dimension("village", "村", field="region_code", region_digits=12, as_column=False),
        Dimension("household_type", "户类型", field="household_type",
                  fixed=(*((t, t) for t in choices.HOUSEHOLD_TYPES), (EMPTY, "未填"))),
        Dimension("monitored", "是否监测户", field="category", fixed=_yes_no("监测户", "非监测户")),
        Dimension("category", "监测对象类别", field="category",
                  fixed=(*((c, c) for c in choices.MONITORING_CATEGORIES), (EMPTY, "非监测户"))),
        Dimension("status", "风险状态", field="status", fixed=tuple((s.value, s.label) for s in Status)),
        Dimension("elimination_method", "风险消除方式", field="elimination_method",
                  fixed=(*((m, m) for m in choices.ELIMINATION_METHODS), (EMPTY, "—"))),
        Dimension("risk", "风险类型", field="risk_mask", bits=BitCode.Kind.RISK, as_row=False),
        Dimension("measure", "帮扶措施", field="measure_mask", bits=BitCode.Kind.MEASURE, as_row=False),
        Dimension("labour", "劳动能力", field="labour", fixed=_yes_no("有劳动能力", "无劳动能力")),
        Dimension("development", "开发式帮扶", field="development",
                  fixed=_yes_no("已落实开发式帮扶", "未落实开发式帮扶")),
        Dimension("risks_covered", "风险与措施匹配", field="risks_covered",
                  fixed=_yes_no("每项风险均有措施", "有风险无对应措施")),
        Dimension("paired", "结对帮扶", field="paired", fixed=_yes_no("已结对", "未结对")),
        Dimension("overdue", "走访", field="overdue", fixed=_yes_no("走访逾期", "走访正常")),
        Dimension("case_kind", "在办程序", field="case_kind",
                  fixed=(("identification", "识别纳入中"), ("elimination", "风险消除中"), (EMPTY, "无在办程序"))),
    )
}  # fmt: skip
BOOLEAN_KEYS = {"labour", "development", "risks_covered", "paired", "overdue"}
ROW_KEYS = [k for k, d in DIMENSIONS.items() if d.as_row]
COLUMN_KEYS = [k for k, d in DIMENSIONS.items() if d.as_column]
FILTER_PREFIX = "f_"


def filters_from(params: Any) -> dict[str, str]:
    """The `f_<dimension>=<value>` parameters of a request, known dimensions only."""
    found = {}
    for key in DIMENSIONS:
        value = params.get(FILTER_PREFIX + key, "")
        if value:
            found[key] = value
    return found


def filter_q(filters: dict[str, str], day: dt.date, *, facts: bool = False) -> Q:
    q = Q()
    for key, value in filters.items():
        q &= DIMENSIONS[key].q(value, day, facts=facts)
    return q
