"""Assistance for monitored households: the paired cadre (帮扶责任人), measures from the catalogue, the
policy checks on the plan (§7.1 development help, §7.3 risk → measure, §7.4 measure ↔ fact), visits
that update facts, and visits overdue by the configured interval."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.regions.models import PREFIX_LENGTH, Region, code_range
from fangpin.registry import facts
from fangpin.registry.models import Household, Member
from fangpin.registry.status import age_on

from .actions import attach, check_uploads
from .models import Case, Measure, Pairing, Visit
from .procedure import config

CADRE_ROLES = (Role.CADRE, Role.VILLAGE, Role.TOWNSHIP)
ASSIGNING_ROLES = (Role.TOWNSHIP, Role.COUNTY_STAFF, Role.COUNTY_ADMIN)
ASSISTING_ROLES = (Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY_STAFF, Role.COUNTY_ADMIN)
VISITING_ROLES = (Role.CADRE, Role.VILLAGE, Role.TOWNSHIP)
LABOUR = ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力")


# ---- the catalogue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    group: str
    name: str
    check: str = ""
    continues: bool = False
    development: bool = False


@lru_cache(maxsize=4)
def _catalogue(path: str) -> dict[str, tuple[Item, ...]]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    catalogue = {}
    for group in data["group"]:
        catalogue[group["name"]] = tuple(
            Item(group=group["name"], name=i["name"], check=i.get("check", ""), continues=bool(i.get("continues")),
                 development=bool(group.get("development")))
            for i in group["items"]
        )  # fmt: skip
        unknown = {i.check for i in catalogue[group["name"]] if i.check} - set(FACT_CHECKS)
        if unknown:
            raise ValueError(f"{path}: unknown check {sorted(unknown)}")
    return catalogue


def catalogue() -> dict[str, tuple[Item, ...]]:
    return _catalogue(
        getattr(settings, "FANGPIN_MEASURES_FILE", "") or str(Path(__file__).with_name("measures.toml"))
    )


def item(group: str, name: str) -> Item | None:
    return next((i for i in catalogue().get(group, ()) if i.name == name), None)


# ---- §7.4: a measure must match the household's facts ---------------------------------------------


def _people(members: list[Member], measure: Measure) -> list[Member]:
    return [m for m in members if m.pk == measure.member_id] if measure.member_id else members


def _county_name(household: Household) -> str:
    county = (
        Region.objects.filter(code=household.region_code[:6] + "000000")
        .values_list("name", flat=True)
        .first()
    )
    return county or ""


def _check_disabled(household: Household, members: list[Member], measure: Measure, today: dt.date) -> str:
    if not any(m.health == "残疾" for m in _people(members, measure)):
        return "享受残疾人补贴，但家庭成员中无残疾人"
    return ""


def _check_working(household: Household, members: list[Member], measure: Measure, today: dt.date) -> str:
    if not any((m.work_months or 0) > 0 or m.work_place for m in _people(members, measure)):
        return "有就业帮扶措施，但家庭成员无务工记录"
    return ""


def _check_out_of_county(
    household: Household, members: list[Member], measure: Measure, today: dt.date
) -> str:
    county = _county_name(household)
    if not any(
        m.work_place and (not county or county not in m.work_place) for m in _people(members, measure)
    ):
        return "享受外出务工交通补贴，但家庭成员中无县外务工人员"
    return ""


def _check_vocational(household: Household, members: list[Member], measure: Measure, today: dt.date) -> str:
    if not any(("中职" in m.school_status or "高职" in m.school_status) for m in _people(members, measure)):
        return "享受雨露计划，但受益人不是中职或高职在校生"
    return ""


def _check_post_age(household: Household, members: list[Member], measure: Measure, today: dt.date) -> str:
    people = _people(members, measure)
    ages = [a for m in people if (a := age_on(m, today)) is not None]
    if measure.member_id and ages and not 16 <= ages[0] < 70:
        return f"公益性岗位受益人{ages[0]}岁，不在16至69岁之间"
    if not measure.member_id:
        return "公益性岗位须指定受益成员"
    return ""


def _check_tekun(household: Household, members: list[Member], measure: Measure, today: dt.date) -> str:
    for m in _people(members, measure):
        age = age_on(m, today)
        if age is not None and 18 <= age <= 60 and m.health == "健康" and not m.school_status:
            return f"{m.name}{age}岁、身体健康且非在校生，不符合特困供养条件"
    return ""


FACT_CHECKS = {
    "disabled_member": _check_disabled,
    "someone_working": _check_working,
    "out_of_county_worker": _check_out_of_county,
    "vocational_student": _check_vocational,
    "post_age": _check_post_age,
    "tekun_person": _check_tekun,
}


# ---- the plan checked against policy ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    basis: str  # the policy paragraph
    message: str
    due: dt.date | None = None  # not yet a fault: must be fixed by this day


def identification_date(month: str, approved_at: dt.datetime | None) -> dt.date | None:
    """The day of the county's approval when fangpin recorded it, else the first day of 识别监测时间."""
    if approved_at is not None:
        return timezone.localtime(approved_at).date()
    if len(month) == 6 and month.isdigit():
        return dt.date(int(month[:4]), int(month[4:]), 1)
    return None


def identified_on(household: Household) -> dt.date | None:
    # cases read with .all() so that a list page can prefetch them
    done = [
        c.finished_at
        for c in household.cases.all()
        if c.kind == Case.Kind.IDENTIFICATION and c.status == Case.Status.DONE
    ]
    return identification_date(household.identified_month, max(done) if done else None)


def under_assistance(household: Household) -> bool:
    """A monitored household whose risk is not eliminated, or one in a green-channel case."""
    if household.monitoring_category and not household.risk_eliminated:
        return True
    return any(c.status == Case.Status.OPEN and c.green_channel for c in household.cases.all())


def plan_problems(household: Household, today: dt.date | None = None) -> list[Problem]:
    """What is wrong with the household's assistance plan; empty when it meets policy. Computed from the
    data each time, so a problem stays visible until the plan or the facts are fixed."""
    today = today or timezone.localdate()
    if not under_assistance(household):
        return []
    members = list(household.members.all())
    current = [m for m in household.assistance.all() if m.end is None or m.end >= today]
    groups = {m.group for m in current}
    problems: list[Problem] = []
    for risk in household.risk_type_list:
        wanted = config().risk_measures.get(risk)
        if wanted and not groups & set(wanted):
            problems.append(Problem("§7.3", f"风险“{risk}”没有对应的帮扶措施，应有{'或'.join(wanted)}"))
    if any(m.dropout_reason for m in members) and "义务教育保障" not in groups:
        problems.append(Problem("§7.3", "有义务教育阶段失学辍学儿童，应有义务教育保障措施"))
    uninsured = [
        m.name
        for m in members
        if m.resident_medical_insurance is False and m.employee_medical_insurance is False
    ]
    if uninsured and not groups & {"健康帮扶", "社会帮扶"}:
        problems.append(
            Problem("§7.3", f"{'、'.join(uninsured)}未参加基本医疗保险，应有健康帮扶或社会帮扶措施")
        )
    able = not household.no_labour_household and any(m.labour_skill in LABOUR for m in members)
    if able:
        development = config().development_groups
        if not any(m.group in development and m.start <= today for m in current):
            start = identified_on(household) or today
            due = start + dt.timedelta(days=config().development_within_days)
            message = f"有劳动能力的家庭，应在识别后{config().development_within_days}天内落实{'或'.join(development)}措施"
            problems.append(Problem("§7.1", message, due=due if today < due else None))
        if current and groups == {"综合保障"}:
            problems.append(Problem("§7.1", "有劳动能力的家庭只有综合保障措施，应落实开发式帮扶"))
    for measure in current:
        known = item(measure.group, measure.item)
        if (
            known
            and known.check
            and (message := FACT_CHECKS[known.check](household, members, measure, today))
        ):
            problems.append(Problem("§7.4", f"{measure.item}：{message}"))
    return problems


# ---- pairing, measures, visits ---------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def current_cadre(household: Household) -> User | None:
    pairing = household.pairings.filter(until__isnull=True).select_related("cadre").first()
    return pairing.cadre if pairing else None


def cadres_for(household: Household) -> QuerySet[User]:
    """Users who may be paired with the household: cadres and village/township staff covering it."""
    code = household.region_code
    ancestors = {code[:n].ljust(12, "0") for n in PREFIX_LENGTH.values()}  # the regions that contain it
    return User.objects.filter(
        is_active=True, role__in=CADRE_ROLES, region__code__in=ancestors
    ).select_related("region")


def cadres_in(region: Region) -> QuerySet[User]:
    """Cadres and village/township staff anywhere in a region, for the load table."""
    return User.objects.filter(
        is_active=True, role__in=CADRE_ROLES, region__code__range=code_range(region.prefix)
    )


def cadre_load(users: Iterable[User]) -> dict[int, int]:
    """Households currently paired with each user."""
    rows = (
        Pairing.objects.filter(cadre__in=list(users), until__isnull=True)
        .values("cadre")
        .annotate(n=Count("id"))
    )
    return {row["cadre"]: row["n"] for row in rows}


@transaction.atomic
def pair(*, user: Any, household: Household, cadre: User, since: dt.date | None = None) -> Pairing:
    """Pair a cadre with the household; a previous pairing ends the day before."""
    _require(
        user.role in ASSIGNING_ROLES and user.covers(household.region_code),
        "只有乡镇、县级业务人员可以安排帮扶责任人",
    )
    if cadre.role not in CADRE_ROLES or not cadre.region or not cadre.covers(household.region_code):
        raise ValidationError("帮扶责任人须是本村（乡镇）的帮扶干部或村级、乡镇人员")
    since = since or timezone.localdate()
    previous = household.pairings.filter(until__isnull=True).first()
    if previous is not None:
        if previous.cadre_id == cadre.pk:
            return previous
        previous.until = max(previous.since, since - dt.timedelta(days=1))
        previous.save()
    try:
        with transaction.atomic():
            return Pairing.objects.create(household=household, region_code=household.region_code, cadre=cadre,
                                          since=since, assigned_by=user)  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError("该户已有帮扶责任人") from exc


@transaction.atomic
def add_measure(*, user: Any, household: Household, group: str, item_name: str, start: dt.date,
                end: dt.date | None = None, funding: Decimal | None = None, funding_source: str = "",
                member: Member | None = None, note: str = "") -> Measure:  # fmt: skip
    _require(
        user.role in ASSISTING_ROLES and user.covers(household.region_code), "当前账号不能为该户录入帮扶措施"
    )
    if not under_assistance(household):
        raise ValidationError("该户不是风险未消除的监测对象，也不在绿色通道中，不能新增帮扶措施")
    if item(group, item_name) is None:
        raise ValidationError(f"措施“{group}：{item_name}”不在措施目录中")
    if end is not None and end < start:
        raise ValidationError("结束日期不能早于开始日期")
    if funding is not None and funding < 0:
        raise ValidationError("资金不能为负数")
    if member is not None and member.household_id != household.pk:
        raise ValidationError("受益成员不是本户成员")
    return Measure.objects.create(
        household=household, region_code=household.region_code, group=group, item=item_name, start=start, end=end,
        funding=funding, funding_source=funding_source.strip(), member=member, note=note.strip(), created_by=user,
    )  # fmt: skip


@transaction.atomic
def end_measure(*, user: Any, measure: Measure, end: dt.date) -> Measure:
    _require(user.role in ASSISTING_ROLES and user.covers(measure.region_code), "当前账号不能修改该措施")
    if end < measure.start:
        raise ValidationError("结束日期不能早于开始日期")
    measure.end = end
    measure.save()
    return measure


@transaction.atomic
def record_visit(*, user: Any, household: Household, visited_on: dt.date, changes_note: str, notes: str,
                 changes: dict[str, Any] | None = None, uploads: list[tuple[str, UploadedFile]] = ()) -> Visit:  # fmt: skip
    _require(user.role in VISITING_ROLES and user.covers(household.region_code), "当前账号不能记录该户的走访")
    check_uploads(list(uploads))
    if visited_on > timezone.localdate():
        raise ValidationError("走访日期不能晚于今天")
    if not (notes.strip() or changes_note.strip() or changes):
        raise ValidationError("请填写走访记录")
    said = facts.apply(household, changes or {})
    visit = Visit.objects.create(
        household=household, region_code=household.region_code, visitor=user, visited_on=visited_on,
        changes="；".join(filter(None, [changes_note.strip(), *said])) or "无变化", notes=notes.strip(),
    )  # fmt: skip
    for kind, upload in uploads:
        attach(user=user, household=household, upload=upload, kind=kind, visit=visit)
    return visit


def interval_for(household: Household) -> int | None:
    if household.risk_eliminated:
        return config().visit_interval_days.get("风险已消除")
    return config().visit_interval_days.get(household.monitoring_category)


@dataclass(frozen=True)
class VisitDue:
    household: Household
    last: dt.date | None
    due: dt.date
    days_over: int
    cadre: User | None


def overdue_visits(households: QuerySet[Household], today: dt.date | None = None) -> list[VisitDue]:
    """Monitored households not visited within their category's interval (counted from identification
    when never visited), most overdue first. Three aggregate queries and one narrow household read, so a
    county's home page stays quick."""
    today = today or timezone.localdate()
    monitored = households.exclude(monitoring_category="")
    last = dict(
        Visit.objects.filter(household__in=monitored).values_list("household").annotate(Max("visited_on"))
    )
    approved = dict(
        Case.objects.filter(household__in=monitored, kind=Case.Kind.IDENTIFICATION, status=Case.Status.DONE)
        .values_list("household").annotate(Max("finished_at"))
    )  # fmt: skip
    cadres = {p.household_id: p.cadre for p in Pairing.objects.filter(
        household__in=monitored, until__isnull=True).select_related("cadre")}  # fmt: skip
    rows = []
    fields = ("id", "household_no", "head_name", "region_code", "monitoring_category", "risk_eliminated",
              "identified_month")  # fmt: skip
    for household in monitored.only(*fields):
        interval = interval_for(household)
        start = last.get(household.pk) or identification_date(
            household.identified_month, approved.get(household.pk)
        )
        if interval is None or start is None:
            continue
        due = start + dt.timedelta(days=interval)
        if due < today:
            rows.append(
                VisitDue(household, last.get(household.pk), due, (today - due).days, cadres.get(household.pk))
            )
    return sorted(rows, key=lambda r: -r.days_over)
