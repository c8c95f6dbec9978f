from __future__ import annotations

from django import forms

from .models import Source


class BatchForm(forms.Form):
    name = forms.CharField(label="批次名称", max_length=200, help_text="如“2024年省督导组反馈问题”")
    source = forms.ChoiceField(label="问题来源", choices=Source.choices)
    received_on = forms.DateField(
        label="反馈日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), required=False
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


class ItemForm(forms.Form):
    """One problem entered by hand."""

    description = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 2}))
    category = forms.CharField(label="问题类别", max_length=64, required=False)
    region = forms.ChoiceField(label="涉及区域")
    responsible_unit = forms.CharField(label="责任单位", max_length=100)
    responsible_leader = forms.CharField(label="责任领导", max_length=64, required=False)
    responsible_person = forms.CharField(label="责任人", max_length=64, required=False)
    deadline = forms.DateField(
        label="整改时限", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    measures = forms.CharField(label="整改措施", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    rule_id = forms.CharField(label="关联规则编号（可选）", max_length=64, required=False)

    def __init__(self, *args, regions, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.code, str(r)) for r in regions]

    def clean_rule_id(self) -> str:
        from fangpin.rules.catalogue import rule_by_id

        rule_id = self.cleaned_data["rule_id"].strip()
        if rule_id and rule_by_id(rule_id) is None:
            raise forms.ValidationError("规则目录中没有这条规则")
        return rule_id


class ListMappingForm(forms.Form):
    """Which column of the inspectors' file holds each of the ledger's columns."""

    def __init__(self, *args, labels: list[str], suggested: dict[str, str], **kwargs):  # type: ignore[no-untyped-def]
        from .importer import COLUMNS

        super().__init__(*args, **kwargs)
        choices = [("", "（文件中没有此列）")] + [(label, label) for label in labels if label]
        for col in COLUMNS:
            self.fields[col.key] = forms.ChoiceField(label=col.label + ("（必需）" if col.required else ""), choices=choices,
                                                     required=col.required, initial=suggested.get(col.key, ""))  # fmt: skip
