"""What one household's dossier (一户一档) holds, gathered for one viewer.

The dossier shows what the viewer's role sees on the household page, never more: IDs and phones as
their stored masks; in full only for a role that may both reveal them on screen and export full IDs,
when asked (each such dossier is a sensitive read in the audit log); the rectification items only for
a role that sees the ledger. The monitoring events come from `monitoring.timeline` (one gathering for
the page and the dossier); the rule ids and links it carries for the page are left out here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from fangpin.common.crypto import cipher
from fangpin.monitoring.procedure import procedure
from fangpin.monitoring.timeline import Event, timeline
from fangpin.registry.models import Household, Member
from fangpin.registry.status import guarantees
from fangpin.rules.models import WARNING_FAMILIES

# Fields of the household a person reads on the page (the page hides the same ones).
HIDDEN = {"id", "extra", "region_id", "region_code", "created_at", "updated_at", "household_no", "head_name",
          "value_faults"}  # fmt: skip
# The stored mask of each phone field and the ciphertext it stands for.
PHONES = {
    "phone_masked": "phone_enc",
    "monitoring_contact_phone_masked": "monitoring_contact_phone_enc",
    "info_collector_phone_masked": "info_collector_phone_enc",
}


NUMERALS = (
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "十一",
    "十二",
    "十三",
    "十四",
    "十五",
    "十六",
)


def may_print_full(user: Any) -> bool:
    """Full IDs and phones in a dossier: only who may see them on screen *and* export them."""
    return user.can("reveal_sensitive") and user.can("export_full_ids")


def text(value: Any) -> str:
    """A stored value as officials write it (the household page's `display`)."""
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dict):
        return "；".join(f"{k}：{text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def money(value: Any) -> str:
    return "" if value is None else f"{value:,.2f}"


@dataclass
class Section:
    title: str
    columns: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # a key-value table instead of columns
    widths: tuple[float, ...] = ()  # shares of the page width, where the values' lengths mislead
    empty: str = "无"


@dataclass
class Dossier:
    household_id: int
    region_code: str
    title: str
    subtitle: str
    sections: list[Section]
    full: bool
    printed_by: str
    printed_at: str


def _event_rows(events: list[Event], *, detail: bool = True) -> list[tuple[str, ...]]:
    rows = []
    for e in sorted(events, key=lambda e: e.at):
        day = f"{timezone.localtime(e.at):%Y-%m-%d}"
        rows.append((day, e.title, e.detail, e.who) if detail else (day, e.title, e.who))
    return rows


def _notice_labels() -> set[str]:
    return {s.label for kind in ("identification", "elimination") for s in procedure(kind).steps if s.notice}


def _phone(obj: Any, masked: str, full: bool) -> str:
    if not full or not getattr(obj, PHONES.get(masked, "phone_enc"), ""):
        return getattr(obj, masked)
    return cipher().decrypt(getattr(obj, PHONES.get(masked, "phone_enc")), "phone")


def _member_id(member: Member, full: bool) -> str:
    if not full or not member.id_number_enc:
        return member.id_number_masked
    return cipher().decrypt(member.id_number_enc, "id")


def _register(household: Household, full: bool) -> Section:
    pairs = [("所在村", household.region.full_name or household.region.name), ("户编号", household.household_no),
             ("户主姓名", household.head_name)]  # fmt: skip
    for f in Household._meta.concrete_fields:
        name = f.attname
        if name in HIDDEN or name.endswith(("_enc", "_hash")):
            continue
        value = _phone(household, name, full) if name in PHONES else getattr(household, name)
        if shown := text(value):  # the model's label names the platform in English: officials read 本平台
            pairs.append((str(f.verbose_name).replace("fangpin", "本平台"), shown))
    return Section("户基本情况", pairs=pairs)


def _members(members: list[Member], full: bool) -> Section:
    columns = (
        "姓名",
        "与户主关系",
        "证件号码",
        "性别",
        "出生日期",
        "健康状况",
        "劳动技能",
        "在校生状况",
        "联系电话",
    )
    rows = [
        (m.name, m.relation, _member_id(m, full), m.gender, text(m.birth_date), m.health, m.labour_skill,
         m.school_status, _phone(m, "phone_masked", full))
        for m in members
    ]  # fmt: skip
    # an ID, a date and a phone must not wrap; names and vocabularies are short
    widths = (0.09, 0.07, 0.21, 0.05, 0.12, 0.08, 0.13, 0.10, 0.15)
    return Section(f"家庭成员（{len(members)}人）", columns, rows, widths=widths)


def _incomes(household: Household) -> Section:
    columns = ("年度", "工资性收入", "生产经营性收入", "财产性收入", "转移性收入", "生产经营性支出",
               "家庭纯收入", "人均纯收入", "计算人数")  # fmt: skip
    rows = [
        (f"{i.year}年", money(i.wage), money(i.business), money(i.property), money(i.transfer),
         money(i.business_expense), money(i.computed_net), money(i.computed_per_capita), text(i.divisor_size))
        for i in household.incomes.order_by("year")
    ]  # fmt: skip
    return Section("收入情况（元）", columns, rows, empty="没有收入记录")


def build(household: Household, *, user: Any, full: bool = False, today: dt.date | None = None) -> Dossier:
    """The dossier of a household the caller has already reached through `for_user(user)`."""
    full = full and may_print_full(user)
    members = list(household.members.order_by("id"))
    events = timeline(household)
    by_kind: dict[str, list[Event]] = {}
    for e in events:
        by_kind.setdefault(e.kind, []).append(e)
    case_kinds = ("识别纳入", "风险消除", "决定", "风险消除回退")
    case_events = [e for e in events if e.kind in case_kinds]
    notice_labels = _notice_labels()
    notice_events = [e for e in case_events if e.title.split(" ")[0] in notice_labels]
    notice_events += by_kind.get("公示异议", []) + by_kind.get("异议答复", [])
    event_columns = ("日期", "事项", "情况", "经办人")
    sections = [
        _register(household, full),
        _members(members, full),
        _incomes(household),
        Section("“三保障”和饮水安全", ("项目", "状况", "说明"),
                [(g.name, g.label, g.detail) for g in guarantees(household, members, today)]),
        # the page's timeline carries the rule id as the warning's detail: not for a printed file
        Section("预警信息", ("日期", "预警内容", "经办人"), _event_rows(by_kind.get("预警", []), detail=False)),
        Section("线索与入户核查", event_columns,
                _event_rows(by_kind.get("线索", []) + by_kind.get("入户核查", []))),
        _cases(household),
        Section("程序办理记录", ("日期", "环节", "说明", "办理人"), _event_rows(case_events)),
        Section("公示及异议", event_columns, _event_rows(notice_events)),
        Section("结对帮扶", ("结对日期", "帮扶责任人", "结束", "安排人"), _event_rows(by_kind.get("结对帮扶", []))),
        Section("帮扶措施", ("开始日期", "措施", "期限和资金", "录入人"), _event_rows(by_kind.get("帮扶措施", []))),
        Section("入户走访", ("走访日期", "家庭情况变化", "走访记录", "走访人"), _event_rows(by_kind.get("入户走访", []))),
        _data_findings(household),
    ]  # fmt: skip
    if user.can("view_rectification"):
        sections.append(_rectification(household, user))
    for n, section in enumerate(sections):
        section.title = f"{NUMERALS[n]}、{section.title}"
    now = timezone.localtime()
    region = household.region
    return Dossier(
        household_id=household.pk,
        region_code=household.region_code,
        title=f"{household.head_name}户一户一档",
        subtitle=f"{region.full_name or region.name}　户编号 {household.household_no}",
        sections=sections,
        full=full,
        printed_by=str(user),
        printed_at=f"{now:%Y-%m-%d %H:%M}",
    )


def _cases(household: Household) -> Section:
    rows = []
    for case in household.cases.order_by("opened_at", "id"):
        steps = {s.code: s.label for s in procedure(case.kind).steps}
        step = steps.get(case.step, "") if case.status == case.Status.OPEN else ""
        rows.append((case.get_kind_display(), text(timezone.localtime(case.opened_at).date()), case.proposed_category, case.risk_types,
                     step, case.get_status_display(), text(case.finished_at)))  # fmt: skip
    columns = ("程序", "发起日期", "拟认定类别", "风险类型", "当前环节", "状态", "办结时间")
    return Section("识别和风险消除程序", columns, rows)


def _data_findings(household: Household) -> Section:
    found = (
        household.findings.filter(status="open").exclude(family__in=WARNING_FAMILIES).order_by("family", "id")
    )
    rows = [(f.family, f.severity, f.message, f.period) for f in found]
    return Section("数据疑点（待处理）", ("类别", "严重程度", "说明", "期间"), rows)


def _rectification(household: Household, user: Any) -> Section:
    from fangpin.rectification.models import Item

    items = Item.objects.for_user(user).filter(households=household).select_related("batch")
    rows = [
        (f"{i.batch.name} 第{i.number}项", i.description, i.responsible_unit, text(i.deadline), i.get_status_display(),
         text(i.closed_at))
        for i in items.order_by("batch__received_on", "number")
    ]  # fmt: skip
    return Section("整改问题", ("批次", "问题描述", "责任单位", "整改时限", "状态", "销号时间"), rows)
