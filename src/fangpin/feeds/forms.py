from __future__ import annotations

from django import forms

from fangpin.web.forms import table_file

from .actions import PERIOD
from .kinds import RosterKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="名册类型")
    source = forms.CharField(
        label="数据来源", max_length=100, help_text="如“县医保局月度结算数据”；同一来源的列对应会被记住"
    )
    period = forms.CharField(label="数据期间（年月）", max_length=6, help_text="如 202510")
    hashed_ids = forms.BooleanField(label="证件号码已按约定哈希（64位）", required=False)
    file = forms.FileField(label="文件", help_text=".xlsx、.xls 或 .csv（UTF-8 或 GBK）")

    def __init__(self, *args, kinds: list[RosterKind], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.code, f"{k.department} · {k.label}") for k in kinds]

    def clean_period(self) -> str:
        period = self.cleaned_data["period"].strip()
        if not PERIOD.fullmatch(period):
            raise forms.ValidationError("请填写年月，如 202510")
        return period

    def clean_file(self):  # type: ignore[no-untyped-def]
        return table_file(self.cleaned_data["file"])


class MappingForm(forms.Form):
    """One select per canonical column, listing the file's own headers."""

    def __init__(
        self, *args, kind: RosterKind, headers: list[str], initial_mapping: dict[str, str], **kwargs
    ):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        choices = [("", "（文件中没有此列）")] + [(h, h) for h in headers if h]
        for f in kind.fields:
            self.fields[f.key] = forms.ChoiceField(label=f.name + ("（必需）" if f.required else ""), choices=choices,
                                                   required=f.required, initial=initial_mapping.get(f.key, ""))  # fmt: skip
