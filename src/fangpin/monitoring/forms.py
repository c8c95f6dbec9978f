from __future__ import annotations

from django import forms

from fangpin.registry import choices

from .models import Source


class OpenCaseForm(forms.Form):
    source = forms.ChoiceField(label="线索来源", choices=Source.choices)
    proposed_category = forms.ChoiceField(
        label="拟认定类别", choices=[(c, c) for c in choices.MONITORING_CATEGORIES]
    )
    risk_types = forms.MultipleChoiceField(label="风险类型（最多5项）", choices=[(r, r) for r in choices.RISK_TYPES],
                                           widget=forms.CheckboxSelectMultiple)  # fmt: skip
    green_channel = forms.BooleanField(label="绿色通道：因灾因意外先落实帮扶措施，后补程序", required=False)
    note = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_risk_types(self) -> str:
        risks = self.cleaned_data["risk_types"]
        if len(risks) > 5:
            raise forms.ValidationError("风险类型最多5项")
        return "、".join(risks)


class AdvanceForm(forms.Form):
    def __init__(self, *args, checklist: tuple[str, ...], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["checklist"] = forms.MultipleChoiceField(
            label="佐证清单",
            choices=[(c, c) for c in checklist],
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        self.fields["note"] = forms.CharField(
            label="办理说明", widget=forms.Textarea(attrs={"rows": 2}), required=False
        )


class ReturnForm(forms.Form):
    reason = forms.CharField(label="退回理由", widget=forms.Textarea(attrs={"rows": 2}))
