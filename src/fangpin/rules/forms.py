from __future__ import annotations

import json

from django import forms
from django.utils import timezone


class ParameterForm(forms.Form):
    """A new value of a parameter from a date on; the old values stay as history."""

    value = forms.CharField(label="取值", max_length=200, help_text="数字，如 20000 或 0.3")
    effective_from = forms.DateField(
        label="生效日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    source = forms.CharField(label="依据（文件名称、文号）", max_length=300)
    confirmed = forms.BooleanField(label="已对照省级正式文件核实", required=False)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = timezone.localdate()

    def clean_value(self):  # type: ignore[no-untyped-def]
        raw = self.cleaned_data["value"].strip()
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError("请填写数字") from exc
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise forms.ValidationError("请填写数字")
        return value


class ScreeningForm(forms.Form):
    as_of = forms.DateField(label="筛查基准日", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), required=False,
                            help_text="参数取该日生效的值；留空为今天")  # fmt: skip
    engine = forms.ChoiceField(
        label="引擎", choices=[("duckdb", "DuckDB（默认）"), ("spark", "Apache Spark")]
    )


class OutcomeForm(forms.Form):
    """入户核查 of a warning: what the village found."""

    outcome = forms.ChoiceField(label="核实结果", choices=[
        ("confirmed", "确认有风险"), ("no_risk", "经核实无风险"), ("wrong_person", "非本人"), ("already_helped", "已在帮扶"),
    ], widget=forms.RadioSelect)  # fmt: skip
    note = forms.CharField(label="核实情况", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
