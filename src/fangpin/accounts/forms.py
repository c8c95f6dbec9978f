"""The user pages' forms and the region picker (行政区划 level by level, as deep as the role needs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy

from fangpin.regions.models import PREFIX_LENGTH, Level, Region, level_of

from .actions import ROLE_LEVELS
from .roles import MANAGED_ROLES, Department, Role

ROLE_CHOICES = [("", "请选择角色"), *((role.value, role.label) for role in MANAGED_ROLES)]


class UserForm(forms.Form):
    """Name, unit and role; the region or department comes from the picker (`placement`)."""

    username = forms.CharField(label="用户名", max_length=150, help_text="登录用，建好后不能修改")
    full_name = forms.CharField(label="姓名", max_length=64, required=False)
    # a new role redraws the region picker for it (HTMX; without it the form checks on saving)
    role = forms.ChoiceField(label="角色", choices=ROLE_CHOICES, widget=forms.Select(attrs={
        "hx-get": reverse_lazy("accounts:region_picker"), "hx-trigger": "change", "hx-include": "closest form",
        "hx-target": "#placement", "hx-swap": "outerHTML",
    }))  # fmt: skip
    unit = forms.CharField(label="单位", max_length=128, required=False, help_text="不填时为所属区划名称")

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["username"]


class StatusForm(forms.Form):
    reason = forms.CharField(label="停用原因", max_length=200, required=False)


class PasswordForm(forms.Form):
    current = forms.CharField(label="当前密码", strip=False, widget=forms.PasswordInput)
    new = forms.CharField(label="新密码", strip=False, widget=forms.PasswordInput)
    repeat = forms.CharField(label="再次输入新密码", strip=False, widget=forms.PasswordInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new") and data.get("repeat") and data["new"] != data["repeat"]:
            self.add_error("repeat", "两次输入的新密码不一致")
        return data


@dataclass
class PickerLevel:
    """One level of the picker: its options under the level above, and the one chosen."""

    label: str
    options: list[Region]
    selected: str  # a code, "" when nothing is chosen yet

    @property
    def fixed(self) -> Region | None:
        """The only node of this level (山西省 → 运城市 → 绛县 in a county's platform): shown as text."""
        return self.options[0] if len(self.options) == 1 else None


def _under(code: str, ancestor: str) -> bool:
    return code.startswith(ancestor[: PREFIX_LENGTH[level_of(ancestor)]])


def chosen_codes(values: Sequence[str]) -> tuple[list[str], bool]:
    """The codes chosen level by level, top down, as far as each lies under the one before; and
    whether a stale choice below was dropped (a village left over from another township)."""
    chain: list[str] = []
    for value in values:
        if not value:
            continue
        if chain and not _under(value, chain[-1]):
            return chain, True
        chain.append(value)
    return chain, False


def chosen_region(values: Sequence[str]) -> str:
    """The code the form's picker says, refused when its levels disagree."""
    chain, dropped = chosen_codes(values)
    if dropped:
        raise ValidationError("所属区划的各级选择不一致，请重新选择")
    return chain[-1] if chain else ""


def _with_ancestors(chain: list[str]) -> list[str]:
    """The chosen codes and every level above the deepest (an account's saved village names its
    township and county too, so the picker opens on them)."""
    node = Region.objects.filter(code=chain[-1]).select_related("parent").first() if chain else None
    path: list[str] = []
    while node is not None:
        path.insert(0, node.code)
        node = node.parent
    return path or chain


def picker(role: str, values: Sequence[str]) -> list[PickerLevel]:
    """The levels to show for a role, from the top of the tree down to the deepest level the role may
    sit at, each under the node chosen above it (nothing for roles without a region)."""
    allowed = ROLE_LEVELS.get(Role(role)) if role in Role.values else None
    if not allowed:
        return []
    deepest = max(allowed)
    chain = _with_ancestors(chosen_codes(values)[0])
    levels: list[PickerLevel] = []
    parent: Region | None = None
    for depth in range(len(Level)):
        options = list(Region.objects.filter(parent=parent).order_by("code"))
        if not options:
            break
        by_code = {region.code: region for region in options}
        selected = next((code for code in chain if code in by_code), "")
        if not selected and len(options) == 1:
            selected = options[0].code
        level = Level(options[0].level)
        levels.append(PickerLevel(level.label, options, selected))
        if not selected or level >= deepest or depth >= len(Level) - 1:
            break
        parent = by_code[selected]
    return levels


def department_choices() -> list[tuple[str, str]]:
    return [("", "请选择部门"), *Department.choices]
