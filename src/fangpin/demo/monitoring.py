"""The demo county's monitoring work, so that a newcomer sees the whole loop on the first login: clues in
the inbox, identification cases at every step (some overdue, one with an unanswered objection), monitored
households with paired cadres, measures and visits (some overdue), and elimination cases in every state
including a reversion. Everything is done through the real actions; afterwards the timestamps are moved
into the past (demo data only) so that the clocks show realistic ages."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from fangpin.accounts.models import User
from fangpin.audit import actions as audit
from fangpin.audit.context import acting_as
from fangpin.monitoring import actions, assistance, elimination
from fangpin.monitoring.models import Case, CaseEvent, Clue, Measure, Pairing, Visit
from fangpin.registry.models import Household
from fangpin.rules.models import WARNING_FAMILIES


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sample_pdf() -> bytes:
    """A real (one-page) PDF: uploads are checked by their content."""
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, "demo scan")
    page.save()
    return buffer.getvalue()


def _scan(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, sample_pdf())


# how the national export names some measures, and the catalogue's item for them
EXPORT_NAMES = {"低保": "农村最低生活保障", "残疾人补贴": "残疾人两项补贴"}


def _measures_from_register(households: list[Household], user: User) -> int:
    """The imported 帮扶措施 columns become measure rows (bulk, with one audit entry each)."""
    rows = []
    for h in households:
        start = (
            dt.date(int(h.identified_month[:4]), int(h.identified_month[4:]), 15)
            if h.identified_month
            else None
        )
        for group, names in (h.measures or {}).items():
            items = assistance.catalogue().get(group)
            if not items or start is None:
                continue
            for name in names:
                known = assistance.item(group, EXPORT_NAMES.get(name, name))
                rows.append(Measure(household=h, region_code=h.region_code, group=group, item=(known or items[0]).name,
                                    start=start, note="" if known else f"导入：{name}", created_by=user))  # fmt: skip
    Measure.objects.bulk_create(rows, batch_size=2000)
    audit.append([
        audit.PendingEntry(action="create", model="monitoring.Measure", object_id=str(m.pk), object_repr=str(m),
                           household_id=m.household_id,
                           region_code=m.region_code, after={"group": m.group, "item": m.item, "start": str(m.start)},
                           detail="示范数据：由导入的帮扶措施列生成")
        for m in rows
    ])  # fmt: skip
    return len(rows)


def _county_assistance(county: User, demo_cadres: list[User], today: dt.date) -> int:
    """Every monitored household not visited above gets a paired cadre (the demo village's own, else one
    帮扶责任人 per village, who cannot log in) and the visits a county keeps up with: most within their
    interval, about one in eight overdue by days or weeks. Without them the county's figures read as if
    nobody had visited anyone."""
    import random
    import secrets

    from fangpin.accounts.actions import create_user
    from fangpin.accounts.roles import Role

    households = (
        Household.objects.filter(region_code__startswith=county.region.code[:6])
        .exclude(monitoring_category="").exclude(visits__isnull=False)
        .select_related("region").order_by("region_code", "household_no")
    )  # fmt: skip
    cadres: dict[str, User] = {}
    paired = 0
    for i, h in enumerate(households):
        rng = random.Random(h.pk)
        started = _identified_on(h, today)
        if h.region_code == demo_cadres[0].region.code:
            cadres[h.region_code] = demo_cadres[i % len(demo_cadres)]
        elif h.region_code not in cadres:
            with acting_as(county, source="cli"):
                cadres[h.region_code] = create_user(
                    username=f"bangfu_{h.region_code}", password=secrets.token_urlsafe(24), role=Role.CADRE,
                    region_code=h.region_code, full_name=f"{h.region.name}帮扶干部", validate=False,
                )  # fmt: skip
        cadre = cadres[h.region_code]
        with acting_as(county, source="cli"):
            assistance.pair(user=county, household=h, cadre=cadre, since=started)
        paired += 1
        interval = assistance.interval_for(h) or 30
        overdue = rng.random() < 0.12
        days = rng.randint(interval + 2, interval + 40) if overdue else rng.randint(3, max(interval - 5, 4))
        visits = [days + interval * 3 // 4, days] if not h.risk_eliminated else [days]
        for ago in visits:
            visited_on = today - dt.timedelta(days=ago)
            if visited_on < started:
                continue
            with acting_as(cadre, source="cli"):
                assistance.record_visit(user=cadre, household=h, visited_on=visited_on, changes_note="无明显变化",
                                        notes="了解家庭收支和帮扶需求，宣传防返贫政策（示范数据）")  # fmt: skip
    return paired


def _identified_on(household: Household, today: dt.date) -> dt.date:
    """The 20th of the month of identification (the demo's convention), never after today."""
    month = household.identified_month
    if not month:
        return today
    return min(dt.date(int(month[:4]), int(month[4:]), 20), today)


def _walk(case: Case, users: list[User]) -> Case:
    for user in users:
        step = actions.case_procedure(case).step(case.step)
        if step.min_days:  # the demo does not wait for the notice period
            case.step_started_at -= dt.timedelta(days=step.min_days + 1)
            Case.objects.filter(pk=case.pk).update(step_started_at=case.step_started_at)
        actions.advance(user=user, case=case, checklist=list(step.checklist), note="（示范数据）")
    return case


def _backdate(case: Case, days_ago: float, gap_days: float) -> None:
    """Spread the case's events over the past: opened `days_ago`, one step every `gap_days`."""
    start = timezone.now() - dt.timedelta(days=days_ago)
    events = list(case.events.order_by("id"))
    for i, event in enumerate(events):
        CaseEvent.objects.filter(pk=event.pk).update(at=start + dt.timedelta(days=gap_days * max(i - 1, 0)))
    last = start + dt.timedelta(days=gap_days * max(len(events) - 2, 0))
    Case.objects.filter(pk=case.pk).update(
        opened_at=start, step_started_at=last, finished_at=last if case.status != Case.Status.OPEN else None
    )
    Clue.objects.filter(case=case).update(reported_at=start, verified_at=start + dt.timedelta(days=gap_days))
    if case.status == Case.Status.DONE and case.kind == Case.Kind.IDENTIFICATION:
        Household.objects.filter(pk=case.household_id).update(
            identified_month=f"{timezone.localtime(last):%Y%m}"
        )


@transaction.atomic
def build(county: User, township: User, village_user: User, cadres: list[User]) -> None:
    village = village_user.region
    today = timezone.localdate()
    monitored = list(
        Household.objects.filter(region_code__startswith=county.region.code[:6]).exclude(
            monitoring_category=""
        )
    )
    with acting_as(county, source="cli"):
        made = _measures_from_register(monitored, county)
    here = Household.objects.filter(region_code=village.code)
    # households with an open warning are left for the inbox, for a newcomer to verify
    candidates = list(here.filter(monitoring_category="").exclude(per_capita_income=None)
                      .exclude(findings__family__in=WARNING_FAMILIES, findings__status="open")
                      .order_by("per_capita_income")[:16])  # fmt: skip
    active = [
        h for h in here.exclude(monitoring_category="").order_by("household_no") if not h.risk_eliminated
    ]
    county_users = {"county": county, "township": township, "village": village_user}

    # paired cadres and visits in the demo village: most visited lately, some overdue
    with acting_as(township, source="cli"):
        for i, h in enumerate(active):
            assistance.pair(user=township, household=h, cadre=cadres[i % len(cadres)],
                            since=dt.date(int(h.identified_month[:4]), int(h.identified_month[4:]), 20))  # fmt: skip
    for i, h in enumerate(active):
        cadre = cadres[i % len(cadres)]
        with acting_as(cadre, source="cli"):
            days = (5, 12, 20, 45, 70)[i % 5]  # 45 and 70 days ago: overdue for a 30-day interval
            assistance.record_visit(user=cadre, household=h, visited_on=today - dt.timedelta(days=days),
                                    changes_note="无明显变化", notes="了解家庭收支和帮扶需求，宣传防返贫政策（示范数据）")  # fmt: skip

    def step_users(kind: str, count: int) -> list[User]:
        owners = [actions.procedure(kind).steps[i].owner for i in range(count)]
        pick = [
            ("village" if "village" in o else "township" if "township" in o else "county") for o in owners
        ]
        return [county_users[p] for p in pick]

    # identification cases at every step; the step index tells how far each went
    plan = [  # (steps done, days ago opened, days per step, what else)
        (0, 0.5, 0.5, ""), (1, 6, 4.5, ""), (2, 4, 1, ""), (3, 6, 1.5, ""), (4, 6, 1, "unanswered"),
        (4, 7, 1, "answered"), (5, 13, 2, ""), (6, 11, 1.5, ""), (7, 40, 1.6, ""), (7, 70, 2.8, ""),
        (1, 9, 1, "close"),
    ]  # fmt: skip
    cases = []
    for (done, ago, gap, extra), h in zip(plan, candidates, strict=False):
        with acting_as(village_user, source="cli"):
            if done >= 2:  # through the inbox: a hotline call verified at home
                clue = actions.report_clue(user=village_user, household=h, source="hotline",
                                           summary="12317热线反映：家中有人重病住院，医疗支出较大")  # fmt: skip
                # the facts found at home back the risk 因病: the patient and the bills
                patient = h.members.order_by("id").first()
                found = {f"m{patient.pk}-health": "患有大病", "h-compliant_self_pay": Decimal("18000")}
                actions.verify_clue(user=village_user, clue=clue, outcome="confirmed", changes=found,
                                    note="入户核实属实：户主重病住院，合规自付医疗费用约1.8万元（示范数据）")  # fmt: skip
                case = actions.open_case(user=village_user, household=h, source="", clue=clue,
                                         proposed_category="边缘易致贫户", risk_types="因病")  # fmt: skip
            else:
                case = actions.open_case(user=village_user, household=h, source="cadre",
                                         proposed_category="边缘易致贫户", risk_types="因病", note="干部排查（示范数据）")  # fmt: skip
        remaining = step_users("identification", done)[actions.procedure().index(case.step) :]
        for user in remaining:
            with acting_as(user, source="cli"):
                _walk(case, [user])
        if extra in ("answered", "unanswered"):
            with acting_as(village_user, source="cli"):
                o = actions.record_objection(user=village_user, case=case, raised_by="村民",
                                             content="反映该户有子女在外地工作，收入较高")  # fmt: skip
                if extra == "answered":
                    actions.answer_objection(user=village_user, objection=o,
                                             answer="经核实，子女已分户，不计入本户收入")  # fmt: skip
        if extra == "close":
            with acting_as(county, source="cli"):
                actions.close_case(user=county, case=case, reason="农户撤回申请（示范数据）")
        _backdate(case, ago, gap)
        cases.append(case)
    left = candidates[len(plan) :]
    with acting_as(village_user, source="cli"):
        for h, (source, text) in zip(left, [("self", "本人申请：丈夫务工受伤，家庭收入骤减"),
                                            ("cadre", "驻村工作队排查：孩子上大学，家庭开支大")], strict=False):  # fmt: skip
            uploads = [("commitment", _scan("承诺授权书.pdf"))] if source == "self" else []
            actions.report_clue(user=village_user, household=h, source=source, summary=text, reporter=h.head_name,
                                uploads=uploads)  # fmt: skip

    # elimination: one in the notice, one eliminated, one eliminated and reverted; one more would be ready
    # but for its water supply, found broken at the last visit (its warnings verified: already helped)
    ready = [h for h in active if all(c.met for c in elimination.criteria(h))]
    spare = next((h for h in active if h not in ready[:3] and all(
        c.met or c.label.startswith("大额刚性支出") for c in elimination.criteria(h))), None)  # fmt: skip
    if spare is not None:
        with acting_as(village_user, source="cli"):
            for finding in spare.findings.filter(family__in=WARNING_FAMILIES, status="open"):
                clue = actions.clue_for_finding(finding, village_user)
                actions.verify_clue(user=village_user, clue=clue, outcome="already_helped",
                                    note="低保停发后已落实就业帮扶，收入稳定（示范数据）")  # fmt: skip
        cadre = assistance.current_cadre(spare) or village_user
        with acting_as(cadre, source="cli"):
            assistance.record_visit(user=cadre, household=spare, visited_on=today, changes_note="自来水管道冻裂，暂时挑水吃",
                                    notes="已报村委会维修（示范数据）", changes={"h-safe_drinking_water": False})  # fmt: skip
    for i, h in enumerate(ready[:3]):
        with acting_as(village_user, source="cli"):
            case = actions.open_elimination(user=village_user, household=h)
        steps = 2 if i == 0 else 5  # the first waits in its notice
        for user in step_users("elimination", steps):
            with acting_as(user, source="cli"):
                _walk(case, [user])
        _backdate(case, 5 if i == 0 else 30, 2)
        if i == 2:
            with acting_as(county, source="cli"):
                elimination.revert(user=county, household=Household.objects.get(pk=h.pk),
                                   reason="家庭成员突发重病，医疗支出大，风险反弹（示范数据）")  # fmt: skip
    county_wide = _county_assistance(county, cadres, today)
    _say(f"  全县其他村：结对帮扶{county_wide}户，走访记录已补齐（少数逾期）")
    _say(f"  监测帮扶：帮扶措施{made}条；{village.name}识别程序{len(cases)}件（各环节均有，含超时和公示异议），"
         f"风险消除{min(len(ready), 3)}件（公示中、已消除、已回退），结对{Pairing.objects.count()}户，走访{Visit.objects.count()}次")  # fmt: skip
