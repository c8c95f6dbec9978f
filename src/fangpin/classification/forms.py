from __future__ import annotations

from typing import Any

from django import forms

from fangpin.regimes.regime import Regime

from .models import Assessment, AssessmentAttachment


class StepForm(forms.Form):
    """The current step's form: its checklist, and at the village's and the county's step the class
    (with its reason) and at the county's the running measures that carry over."""

    def __init__(self, *args: Any, assessment: Assessment, regime: Regime, first: bool, last: bool,
                 measures: list[Any] = (), continuing: set[str] = frozenset(), **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        step = regime.classification.step(assessment.step)
        self.fields["checklist"] = forms.MultipleChoiceField(
            label="佐证清单", choices=[(c, c) for c in step.checklist], widget=forms.CheckboxSelectMultiple,
            required=False,
        )  # fmt: skip
        if first or last:
            self.fields["class_code"] = forms.ChoiceField(
                label="审定类别" if last else "拟定类别",
                choices=[(c.code, f"{c.label}：{c.description}") for c in regime.classification.classes],
                widget=forms.RadioSelect, initial=assessment.proposed_class,
            )  # fmt: skip
            self.fields["reason"] = forms.CharField(
                label="审定理由（与拟定类别不同时必填）" if last else "分类理由（与系统建议不同时必填）",
                widget=forms.Textarea(attrs={"rows": 2}), required=False, initial=assessment.reason if first else "",
            )  # fmt: skip
        if last:
            self.fields["carried"] = forms.MultipleChoiceField(
                label="延续的帮扶措施（未勾选的措施在退出帮扶政策的类别审定时结束）",
                choices=[(str(m.pk), f"{m.group}：{m.item}（{m.start:%Y-%m-%d}起）") for m in measures],
                widget=forms.CheckboxSelectMultiple, required=False,
                initial=[str(m.pk) for m in measures
                         if not regime.classification.option(assessment.proposed_class).exits or m.item in continuing],
            )  # fmt: skip
        self.fields["note"] = forms.CharField(
            label="办理说明", widget=forms.Textarea(attrs={"rows": 2}), required=False
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}))


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="材料类型", choices=AssessmentAttachment.Kind.choices)
    file = forms.FileField(label="文件")
