from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from fangpin.regimes.regime import current as current_regime
from fangpin.registry import choices

from .assistance import catalogue
from .models import Attachment, Outcome, Source


class OpenCaseForm(forms.Form):
    source = forms.ChoiceField(label="线索来源", choices=Source.choices)
    proposed_category = forms.ChoiceField(
        label="拟认定类别", choices=[(c, c) for c in choices.MONITORING_CATEGORIES]
    )
    risk_types = forms.MultipleChoiceField(label="风险类型（最多5项）", choices=[(r, r) for r in choices.RISK_TYPES],
                                           widget=forms.CheckboxSelectMultiple)  # fmt: skip
    green_channel = forms.BooleanField(label="绿色通道：因灾因意外先落实帮扶措施，后补程序", required=False)
    note = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, from_clue: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if from_clue:
            del self.fields["source"]
        # the categories of the regime in force (政策口径): a province's 2026 file may name fewer
        self.fields["proposed_category"].choices = [(c, c) for c in current_regime().categories]

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


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}))


class UploadsForm(forms.Form):
    """Up to three files, each with its kind."""

    kinds = [(k.value, k.label) for k in Attachment.Kind]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(3):
            self.fields[f"kind{i}"] = forms.ChoiceField(
                label=f"材料{i + 1}类型", choices=self.kinds, required=False
            )
            self.fields[f"file{i}"] = forms.FileField(label=f"材料{i + 1}", required=False)

    def uploads(self) -> list[tuple[str, Any]]:
        return [
            (self.cleaned_data[f"kind{i}"] or "other", f)
            for i in range(3)
            if (f := self.cleaned_data.get(f"file{i}"))
        ]


class ClueForm(UploadsForm):
    source = forms.ChoiceField(
        label="线索来源", choices=[c for c in Source.choices if c[0] != Source.WARNING]
    )
    reporter = forms.CharField(label="申报人/反映人", max_length=64, required=False)
    summary = forms.CharField(label="线索内容", widget=forms.Textarea(attrs={"rows": 3}))

    field_order = ["source", "reporter", "summary"]


class VerifyForm(UploadsForm):
    outcome = forms.ChoiceField(label="核查结果", choices=Outcome.choices)
    note = forms.CharField(label="核查情况", widget=forms.Textarea(attrs={"rows": 3}))

    field_order = ["outcome", "note"]


class ObjectionForm(forms.Form):
    raised_by = forms.CharField(label="反映人（可匿名）", max_length=64, required=False)
    content = forms.CharField(label="异议内容", widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(forms.Form):
    answer = forms.CharField(label="调查核实和答复情况", widget=forms.Textarea(attrs={"rows": 2}))


class MeasureForm(forms.Form):
    measure = forms.ChoiceField(label="帮扶措施")
    member = forms.ChoiceField(label="受益成员", required=False)
    start = forms.DateField(
        label="开始日期", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = forms.DateField(
        label="结束日期", required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    funding = forms.DecimalField(
        label="资金（元）", required=False, min_value=0, max_digits=12, decimal_places=2
    )
    funding_source = forms.CharField(label="资金来源", max_length=64, required=False)
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["measure"].choices = [
            (group, [(f"{group}|{i.name}", i.name) for i in items]) for group, items in catalogue().items()
        ]
        self.fields["member"].choices = [("", "全户")] + [(str(m.pk), m.name) for m in members]
        self.initial.setdefault("start", timezone.localdate())


class EliminationForm(forms.Form):
    method = forms.ChoiceField(label="风险消除方式", choices=[(m, m) for m in choices.ELIMINATION_METHODS])
    note = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class VisitForm(UploadsForm):
    visited_on = forms.DateField(
        label="走访日期", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    changes_note = forms.CharField(
        label="家庭情况有何变化", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    notes = forms.CharField(
        label="走访记录（宣传政策、了解需求、帮办事项）", widget=forms.Textarea(attrs={"rows": 3})
    )

    field_order = ["visited_on", "changes_note", "notes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("visited_on", timezone.localdate())


class JointIntakeForm(forms.Form):
    """统筹监测和转介 (regime with joint intake): what the one verification proposes for both tracks."""

    monitor = forms.BooleanField(
        label="纳入防止返贫致贫监测（须为“确认有风险”，保存后发起识别程序）", required=False
    )
    refer = forms.BooleanField(label="转介民政", required=False)
    kinds = forms.MultipleChoiceField(label="转介事项", required=False, widget=forms.CheckboxSelectMultiple)
    referral_note = forms.CharField(label="转介说明（勾选了收支核算未建议的事项时必填）", required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(
        self, *args: Any, kinds: tuple[str, ...], suggested: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.reasons = dict(suggested)
        self.fields["kinds"].choices = [(k, k) for k in kinds]
        # pre-ticked from the accounting's suggestions; the verifier decides
        self.initial.setdefault("kinds", list(self.reasons))
        self.initial.setdefault("refer", bool(self.reasons))

    def kind_rows(self) -> list[tuple[Any, str]]:
        """Each kind's checkbox with the accounting's reason for it ("" when not suggested)."""
        return [(box, self.reasons.get(box.data["value"], "")) for box in self["kinds"]]

    def referral_kinds(self) -> list[str]:
        return list(self.cleaned_data["kinds"]) if self.cleaned_data.get("refer") else []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("refer") and not data.get("kinds"):
            self.add_error("kinds", "勾选了转介民政，请选择转介事项")
        return data


class ReferForm(forms.Form):
    """转介民政 after the verification (the clue page), from the stored accounting."""

    kinds = forms.MultipleChoiceField(label="转介事项", widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label="转介说明（勾选了收支核算未建议的事项时必填）", required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(
        self, *args: Any, kinds: tuple[str, ...], suggested: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.reasons = dict(suggested)
        self.fields["kinds"].choices = [(k, k) for k in kinds]
        self.initial.setdefault("kinds", list(self.reasons))

    def kind_rows(self) -> list[tuple[Any, str]]:
        return [(box, self.reasons.get(box.data["value"], "")) for box in self["kinds"]]


class ReferralOutcomeForm(forms.Form):
    """民政's decision on a referral: 已纳入 one of its kinds, or 未纳入."""

    result = forms.ChoiceField(label="民政审核结果")
    decided_on = forms.DateField(
        label="认定日期", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    note = forms.CharField(label="审核意见（未纳入时必填）", required=False,
                           widget=forms.Textarea(attrs={"rows": 2, "placeholder": "审核意见（未纳入时必填）"}))  # fmt: skip

    NOT_INCLUDED = "-"

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["result"].choices = [(k, f"已纳入{k}") for k in kinds] + [(self.NOT_INCLUDED, "未纳入")]
        self.initial.setdefault("decided_on", timezone.localdate())
