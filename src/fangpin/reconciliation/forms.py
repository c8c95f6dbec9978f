from __future__ import annotations

from django import forms
from django.utils import timezone

from fangpin.common.files import check_upload
from fangpin.registry.income import policy_for
from fangpin.web.forms import table_file


class ComparisonForm(forms.Form):
    file = forms.FileField(
        label="国家系统导出文件",
        help_text="户成员信息或监测对象信息（.xlsx、.xls、.csv，CSV 可为 UTF-8 或 GBK 编码）",
    )
    cutoff = forms.DateField(label="统计截止日期", help_text="国家系统导出数据的截止日期，写在差异表上")
    year = forms.IntegerField(
        label="收入年度", required=False, min_value=2015, max_value=2100,
        help_text="留空时从文件标题识别（如“2025年度”），识别不到则为上一年",
    )  # fmt: skip
    tolerance = forms.DecimalField(
        label="人均纯收入容差（元/人）", min_value=0, max_digits=8, decimal_places=2,
        help_text="两边的人均纯收入相差不超过此数时视为一致；默认取收入参数中的容差",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        policy = policy_for(today.year)
        self.fields["cutoff"].initial = today
        self.fields["tolerance"].initial = policy.tolerance if policy else None

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = table_file(self.cleaned_data["file"])
        check_upload(upload, "table")
        return upload
