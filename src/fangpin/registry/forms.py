from __future__ import annotations

from django import forms
from django.utils import timezone

from fangpin.web.forms import table_file

from .columns import LAYOUT_TITLES


class ImportForm(forms.Form):
    file = forms.FileField(
        label="文件", help_text="国家系统导出的户成员信息或监测对象信息（.xlsx、.xls、.csv）"
    )
    year = forms.IntegerField(
        label="收入年度", required=False, min_value=2015, max_value=2100,
        help_text="留空时从文件标题识别（如“2024年度”），识别不到则为上一年",
    )  # fmt: skip

    def clean_file(self):  # type: ignore[no-untyped-def]
        return table_file(self.cleaned_data["file"])


class ExportForm(forms.Form):
    layout = forms.ChoiceField(
        label="格式", choices=[(k, v.strip("（自定义）")) for k, v in LAYOUT_TITLES.items()]
    )
    year = forms.IntegerField(label="收入年度", required=False, min_value=2015, max_value=2100)
    full = forms.BooleanField(label="包含完整证件号码和电话（仅县级管理员，会记入审计日志）", required=False)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year - 1
