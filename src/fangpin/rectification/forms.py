from __future__ import annotations

from django import forms

from .models import Source


class BatchForm(forms.Form):
    name = forms.CharField(label="批次名称", max_length=200, help_text="如“2024年省督导组反馈问题”")
    source = forms.ChoiceField(label="问题来源", choices=Source.choices)
    received_on = forms.DateField(
        label="反馈日期", widget=forms.DateInput(attrs={"type": "date"}), required=False
    )
    file = forms.FileField(
        label="问题清单（可选）", required=False, help_text="督导组、考核组给出的Excel问题清单"
    )


class ProgressForm(forms.Form):
    note = forms.CharField(label="整改进展", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    file = forms.FileField(label="佐证材料", required=False, help_text="照片、文件扫描件等")

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if not data.get("note") and not data.get("file"):
            raise forms.ValidationError("请填写整改进展或上传佐证材料")
        return data


class ApplyForm(forms.Form):
    result = forms.CharField(label="完成情况", widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="审核", choices=[("close", "同意销号"), ("return", "退回")], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="审核意见（退回须说明理由）", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
