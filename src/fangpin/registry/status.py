"""三保障 + 饮水 status of a household, read from its members and conditions (policy §9)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .models import Household, Member

SECURE, AT_RISK, UNKNOWN = "secure", "at_risk", "unknown"


@dataclass(frozen=True)
class Guarantee:
    name: str
    state: str
    detail: str

    @property
    def label(self) -> str:
        return {SECURE: "有保障", AT_RISK: "存在问题", UNKNOWN: "信息不全"}[self.state]


def age_on(member: Member, today: dt.date) -> int | None:
    if not member.birth_date:
        return None
    b = member.birth_date
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def guarantees(
    household: Household, members: Iterable[Member], today: dt.date | None = None
) -> list[Guarantee]:
    today = today or dt.date.today()
    members = list(members)
    dropouts = [m.name for m in members if m.dropout_reason]
    school_age = [m for m in members if (a := age_on(m, today)) is not None and 6 <= a <= 15]
    if dropouts:
        education = Guarantee("义务教育", AT_RISK, f"{'、'.join(dropouts)}义务教育阶段未上学")
    else:
        education = Guarantee("义务教育", SECURE, f"义务教育阶段适龄{len(school_age)}人，无失学辍学")
    uninsured = [
        m.name for m in members
        if m.resident_medical_insurance is False and m.employee_medical_insurance is False
    ]  # fmt: skip
    unknown_insurance = [
        m.name
        for m in members
        if m.resident_medical_insurance is None and m.employee_medical_insurance is None
    ]
    if uninsured:
        medical = Guarantee("基本医疗", AT_RISK, f"{'、'.join(uninsured)}未参加基本医疗保险")
    elif unknown_insurance:
        medical = Guarantee("基本医疗", UNKNOWN, f"{'、'.join(unknown_insurance)}参保情况未填写")
    else:
        medical = Guarantee("基本医疗", SECURE, "全部成员已参加基本医疗保险")
    housing = {
        True: Guarantee("住房安全", AT_RISK, "危房户"),
        False: Guarantee("住房安全", SECURE, "非危房"),
        None: Guarantee("住房安全", UNKNOWN, "是否危房未填写"),
    }[household.dangerous_house]
    water = {
        True: Guarantee("饮水安全", SECURE, "已解决安全饮用水"),
        False: Guarantee("饮水安全", AT_RISK, "未解决安全饮用水"),
        None: Guarantee("饮水安全", UNKNOWN, "饮水情况未填写"),
    }[household.safe_drinking_water]
    return [education, medical, housing, water]
