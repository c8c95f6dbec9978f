"""A finding's evidence and parameters as an official reads them: Chinese labels for the columns a rule
returns, yuan with thousands separators, shares as percentages. The rules' SQL names its columns in
English (they are identifiers); nothing of that reaches the page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# the columns rules return that are not a register field of the same name
LABELS = {
    "able": "有劳动能力人数", "age": "年龄", "as_of": "筛查基准日", "as_of_year": "筛查年度",
    "column_name": "列", "columns": "有问题的列数", "computed": "人均纯收入（平台计算）",
    "current": "本年度人均纯收入", "date": "日期", "detail": "说明", "dibao_line": "农村低保标准",
    "edge_line": "低保边缘标准", "education_expense": "教育支出", "end_date": "结束日期", "grade": "等级", "head_age": "户主年龄",
    "heads": "户主人数", "households": "户数", "id_birth_date": "证件号码中的出生日期",
    "id_gender": "证件号码中的性别", "income_line": "上年度农村居民人均可支配收入", "income_year": "收入年度",
    "disability_grade": "残疾等级", "line": "比较标准", "loss": "直接经济损失（元）", "measure_groups": "帮扶措施类别", "measure_items": "帮扶措施",
    "members": "家庭成员数", "monitoring_line": "防止返贫监测范围（元/人·年）", "months_monitored": "已监测月数",
    "months_to_elimination": "识别至消除月数", "multiple": "倍数", "name": "姓名", "net": "家庭纯收入",
    "per_capita": "人均纯收入", "previous": "上年度人均纯收入", "reason": "原因", "registered_grade": "登记的残疾等级",
    "reported": "人均纯收入（导入值）", "rigid": "刚性支出合计", "school_age": "学龄", "self_pay": "个人自付（元）",
    "share": "占比", "share_line": "比例标准", "shown": "原值", "spouse_name": "配偶姓名", "spouses": "配偶人数",
    "status": "状态", "type": "类型", "workers": "务工人数", "year_start": "年度起始日",
    "twelve_months_ago": "十二个月前",
}  # fmt: skip
SHARES = {"share", "share_line", "rigid_expense_share", "medical_share_of_income", "income_drop_share"}


def _field_labels() -> dict[str, str]:
    from fangpin.registry.models import ExpenditureRecord, Household, IncomeRecord, Member

    found: dict[str, str] = {}
    for model in (ExpenditureRecord, IncomeRecord, Member, Household):  # the household's label wins
        found.update({f.attname: str(f.verbose_name) for f in model._meta.concrete_fields})
    return found


def label(key: str) -> str:
    """The Chinese name of an evidence column or a parameter; the key itself only for a county's own rule
    whose column fangpin does not know (the rule page shows the rule's own text beside it)."""
    from .parameters import specs

    if key in LABELS:
        return LABELS[key]
    spec = specs().get(key)
    if spec is not None:
        return spec.label
    return _field_labels().get(key, key)


def shown(key: str, value: Any) -> Any:
    """Numbers as officials write them; anything else as it is (the `display` filter does 是/否, 空)."""
    if isinstance(value, str) and key in SHARES:  # a parameter bound into the SQL comes back as text
        try:
            value = Decimal(value)
        except ArithmeticError:
            return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    if key in SHARES and 0 <= value <= 1:
        return f"{float(value):.1%}"
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}" if abs(number) >= 10000 else str(int(number))
    return f"{number.quantize(Decimal('0.01')):,}"


def rows(values: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(label(key), shown(key, value)) for key, value in (values or {}).items()]
