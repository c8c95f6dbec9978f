from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import timezone

from fangpin.common.files import check_upload
from fangpin.web.forms import table_file

from .columns import LAYOUT_TITLES
from .models import IncomePolicy


class ImportForm(forms.Form):
    file = forms.FileField(
        label="文件",
        help_text="国家系统导出的户成员信息、监测对象信息，或户籍人口信息、村级花名册（.xlsx、.xls、.csv）",
    )
    year = forms.IntegerField(
        label="收入年度", required=False, min_value=2015, max_value=2100,
        help_text="留空时从文件标题识别（如“2024年度”），识别不到则为上一年",
    )  # fmt: skip
    strict = forms.BooleanField(
        label="严格模式", required=False,
        help_text="勾选后，有任何数据疑点（校验位错误、被Excel损坏的号码、无效电话等）即整体拒收，按旧规则处理",
    )  # fmt: skip

    full_ids = forms.BooleanField(
        label="错误说明含完整证件号码", required=False,
        help_text=f"默认只写脱敏号码和行号；勾选后保留您上传的原值，列入“含敏感信息的文件”，"
                  f"{settings.FANGPIN_SENSITIVE_FILE_DAYS}天后自动删除",
    )  # fmt: skip

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = table_file(self.cleaned_data["file"])
        check_upload(upload, "table")
        return upload


class ExportForm(forms.Form):
    layout = forms.ChoiceField(
        label="格式", choices=[(k, v.strip("（自定义）")) for k, v in LAYOUT_TITLES.items()]
    )
    year = forms.IntegerField(label="收入年度", required=False, min_value=2015, max_value=2100)
    full = forms.BooleanField(label="包含完整证件号码和电话（仅县级管理员，会记入审计日志）", required=False)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year - 1


def _policy_field(name: str, **kwargs) -> forms.Field:  # type: ignore[no-untyped-def]
    return IncomePolicy._meta.get_field(name).formfield(**kwargs)


class IncomePolicyForm(forms.Form):
    """A year's income parameters as the county administrator enters or corrects them; the 依据 of this
    change is required every time (the history keeps each one)."""

    monitoring_line = _policy_field("monitoring_line", min_value=1, help_text="元/人·年，以省级正式文件为准")
    line_confirmed = _policy_field(
        "line_confirmed", label="已对照省级正式文件核实", help_text="不勾选时，页面上标为“待核实”"
    )
    awards_treatment = _policy_field("awards_treatment", label="产业奖励、就业奖励的处理")
    special_subsidy_treatment = _policy_field(
        "special_subsidy_treatment", label="专项用于减少生产经营性支出的补贴的处理"
    )
    claims_counted = _policy_field("claims_counted")
    divisor = _policy_field("divisor")
    tolerance = _policy_field(
        "tolerance", min_value=0, help_text="fangpin 计算的人均纯收入与导入值相差超过此数时，标为收入差异"
    )
    source = forms.CharField(
        label="依据（文件名称、文号）",
        max_length=300,
        help_text="本次录入或更正所依据的文件；每次修改都须填写",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    @classmethod
    def initial_from(cls, policy: IncomePolicy | None, *, new_year: bool) -> dict[str, object]:
        """Pre-filled with the year's values, or for a new year with those in force for it until now
        (its line not yet confirmed: it is a new value); the 依据 starts empty: it is this change's."""
        if policy is None:
            return {}
        initial = {name: getattr(policy, name) for name in cls.base_fields if name != "source"}
        if new_year:
            initial["line_confirmed"] = False
        return initial
