from __future__ import annotations

from django import forms
from django.utils import timezone

from fangpin.common.files import check_upload
from fangpin.web.forms import table_file


class UploadForm(forms.Form):
    file = forms.FileField(
        label="民政低收入人口名单",
        help_text="从民政低收入人口动态监测信息平台导出的名单（.xlsx、.xls、.csv，CSV 可为 UTF-8 或 GBK 编码）",
    )
    as_of = forms.DateField(
        label="名单日期", help_text="民政导出名单的日期；结束日期早于此日的人员视为已退出，不参与比对",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    source = forms.CharField(label="数据来源", max_length=100, initial="县民政局低收入人口动态监测名单",
                             widget=forms.TextInput(attrs={"size": 40}))  # fmt: skip

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["as_of"].initial = timezone.localdate()

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = table_file(self.cleaned_data["file"])
        check_upload(upload, "table")
        return upload
