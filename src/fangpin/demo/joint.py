"""The demo county's 2026 joint work, so that the 转介民政 page and the 分类评估 progress are not empty on the
first login (an empty page reads as a broken tool):

- 转介民政: the households the screening found in 刚性支出困难 or below the 低保边缘 line (catalogue
  65_joint_monitoring.toml, seeded in faults.py) and a few monitored ones whose 收支核算 puts them below
  the 低保 line are verified at home and referred for the kinds the accounting suggests. About half were
  found weeks ago by a cadre and 民政 has decided (its data officer records it); their warning of today is
  verified as 已在帮扶. The others are worked from today's warning, or from a cadre's report of the last
  weeks, and wait for 民政. The demo village's own warning is left in the inbox for a newcomer.
- 分类评估: the 脱贫户 of the demo village, started by the village in one batch about two weeks ago, at
  every step (one returned by the township, one a little past the township's days), a few approved by the
  county with their classes spread.

Everything is done through the real actions as the demo's users (audited); the timestamps are then moved
into the past (demo data only), inside the regime's step days.

Coherent with 民政's list, written afterwards from the register (socialaid.py): 民政 includes only
households outside active monitoring (低保边缘, 临时救助), which the comparison does not show either way;
a monitored household referred for 低保 is 未纳入 with 民政's reason or still pending, so it stays
仅本平台监测 without contradicting a decision.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangpin.accounts.actions import create_user
from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.audit.context import acting_as
from fangpin.classification import actions as classification
from fangpin.classification.facts import running_measures
from fangpin.classification.models import OPEN_STATUSES, Assessment, AssessmentAttachment, AssessmentEvent
from fangpin.monitoring import actions, referral
from fangpin.monitoring.models import Clue, Referral
from fangpin.regimes.regime import Regime
from fangpin.regimes.regime import current as current_regime
from fangpin.registry import accounting
from fangpin.registry.models import Household
from fangpin.rules.models import Finding

from .faults import JOINT_RULES
from .monitoring import _scan

# 民政's reasons for a 未纳入 of a monitored household (its income is below the line: the property or the
# supporters' test is what fails, which the income accounting does not see)
NOT_INCLUDED = (
    "经民政部门家庭经济状况核对，家庭成员名下登记小型汽车1辆，不符合低保家庭财产条件（示范数据）",
    "经核对，户主子女已分户另居但为法定赡养人，计入赡养费后家庭人均收入高于低保标准（示范数据）",
)
INCLUDED = {
    "临时救助": "经乡镇审核、县民政局审批，符合支出型临时救助条件，已给予临时救助（示范数据）",
    "低保边缘": "经家庭经济状况核对，符合低保边缘家庭认定条件，已纳入（示范数据）",
    "低保": "经家庭经济状况核对和民主评议，符合低保条件，已纳入（示范数据）",
    "特困": "经核实，无劳动能力、无生活来源、无法定赡养抚养扶养义务人，已纳入特困供养（示范数据）",
}
MONITORED_REFERRALS = 5  # of which two in the demo village
TOWNSHIP_DIGITS = 9


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class JointSummary:
    referred: int = 0
    included: int = 0
    not_included: int = 0
    pending: int = 0
    started: int = 0
    approved: int = 0
    returned: int = 0


def _at(days_ago: float, slot: int = 0) -> dt.datetime:
    """A moment `days_ago` days back, in working hours (09:10–16:40, spread by `slot`), never after now."""
    day = timezone.localdate() - dt.timedelta(days=round(days_ago))
    minutes = 9 * 60 + 10 + (slot * 53) % 450
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60)))
    return min(moment, timezone.now())


def _day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def _work_team(household: Household, demo_village: User, county: User) -> User:
    """Who verifies at home: the demo village's login, elsewhere the village's 驻村工作队 (an account that
    cannot log in, like the villages' 帮扶干部 of monitoring.py)."""
    if demo_village.covers(household.region_code):
        return demo_village
    user = User.objects.filter(username=f"cun_{household.region_code}").first()
    if user is None:
        with acting_as(county, source="cli"):
            user = create_user(
                username=f"cun_{household.region_code}", password=secrets.token_urlsafe(24), role=Role.VILLAGE,
                region_code=household.region_code, full_name=f"{household.region.name}驻村工作队", validate=False,
            )  # fmt: skip
    return user


def _suggested(household: Household, regime: Regime) -> list[str]:
    return [kind for kind, _ in accounting.suggest_referrals(accounting.account(household, regime=regime))]


def _refer(user: User, clue: Clue, kinds: list[str], outcome: str, note: str) -> Referral:
    with acting_as(user, source="cli"):
        actions.verify_clue(user=user, clue=clue, outcome=outcome, note=note, referral_kinds=kinds)
    return clue.referrals.get()


def _cadre_referral(
    user: User, civil: User, household: Household, kinds: list[str], task: dict[str, Any]
) -> Referral:
    """A cadre's report `task["days"]` ago, verified at home two days later and referred; 民政's decision
    after two to three weeks when the task says so."""
    days, slot = task["days"], task["slot"]
    with acting_as(user, source="cli"):
        clue = actions.report_clue(user=user, household=household, source="cadre", summary=task["summary"])
    item = _refer(user, clue, kinds, task["outcome"], task["note"])
    Clue.objects.filter(pk=clue.pk).update(reported_at=_at(days + 2, slot), verified_at=_at(days, slot + 3))
    Referral.objects.filter(pk=item.pk).update(referred_at=_at(days, slot + 3))
    if "decision" in task:
        included, result_kind, note = task["decision"]
        item.refresh_from_db()
        decided_on = timezone.localtime(item.referred_at).date() + dt.timedelta(days=task["after"])
        with acting_as(civil, source="cli"):
            referral.record_outcome(user=civil, referral=item, included=included, result_kind=result_kind,
                                    decided_on=decided_on, note=note)  # fmt: skip
        # recorded by 民政's data officer the next working day
        Referral.objects.filter(pk=item.pk).update(
            outcome_at=_at((timezone.localdate() - decided_on).days - 1, slot)
        )
        item.refresh_from_db()
    return item


def _referrals(county: User, village_user: User, civil: User, regime: Regime) -> JointSummary:
    done = JointSummary()
    village = village_user.region
    prefix = county.region.code[:6]
    tasks: list[
        dict[str, Any]
    ] = []  # done oldest first, so that the pages' newest-first order is the order of time
    findings = list(
        Finding.objects.filter(rule_id__in=JOINT_RULES, status=Finding.Status.OPEN, region_code__startswith=prefix)
        .exclude(region_code=village.code)  # the demo village's own warning waits in its inbox
        .select_related("household__region").order_by("region_code", "id")
    )  # fmt: skip
    per_rule: dict[str, int] = {}
    for i, finding in enumerate(findings):
        household = finding.household
        kinds = _suggested(household, regime)
        if not kinds or household.referrals.exists():
            continue
        per_rule[finding.rule_id] = per_rule.get(finding.rule_id, -1) + 1
        task = {"household": household, "kinds": kinds, "finding": finding, "slot": i, "days": 0}
        # every other one of each rule was found by a cadre weeks ago and 民政 has decided; its warning
        # of today is then already being helped. The others are today's warnings, verified and referred.
        if per_rule[finding.rule_id] % 2 == 0:
            rigid = finding.rule_id == "RIGID_EXPENDITURE_DIFFICULTY"
            summary, found = (("驻村工作队排查：家中有人患病或上学，支出大，生活困难", "医疗、教育等刚性支出大")
                              if rigid else ("驻村工作队排查：家庭收入低，生活困难", "家庭收入低"))  # fmt: skip
            kind = "临时救助" if "临时救助" in kinds else kinds[0]
            task |= {"days": 24 + 9 * i, "after": 12 + i % 5, "summary": summary, "outcome": "confirmed",
                     "note": f"入户核查属实：{found}，按收支核算转介民政（示范数据）",
                     "decision": (True, kind, INCLUDED[kind])}  # fmt: skip
        tasks.append(task)

    # monitored households whose accounting is below the 低保 line: a cadre's report of the last weeks,
    # two in the demo village, one in each of three other townships
    taken: set[str] = set()
    chosen: list[tuple[Household, list[str]]] = []
    here = 0
    monitored = (Household.objects.filter(region_code__startswith=prefix).exclude(monitoring_category="")
                 .exclude(risk_eliminated=True).exclude(referrals__isnull=False)
                 .exclude(clues__status=Clue.Status.PENDING).select_related("region").order_by("household_no"))  # fmt: skip
    for household in monitored.iterator():
        in_village = household.region_code == village.code
        town = household.region_code[:TOWNSHIP_DIGITS]
        if in_village and here >= 2:
            continue
        if not in_village and (town in taken or town == village.code[:TOWNSHIP_DIGITS]):
            continue
        kinds = _suggested(household, regime)
        if "低保" not in kinds:
            continue
        chosen.append((household, kinds))
        here += in_village
        if not in_village:
            taken.add(town)
        if len(chosen) >= MONITORED_REFERRALS:
            break
    for i, (household, kinds) in enumerate(chosen):
        task = {"household": household, "kinds": kinds, "slot": 20 + i, "days": 3 + 5 * i,
                "summary": "帮扶干部走访反映：家庭收入低，申请低保", "outcome": "already_helped",
                "note": "已在监测帮扶；收支核算家庭人均收入低于低保标准，转介民政审核（示范数据）"}  # fmt: skip
        if i % 2:  # 民政 found what the income accounting does not see
            task |= {"days": 40 + 6 * i, "after": 15 + i,
                     "decision": (False, "", NOT_INCLUDED[(i // 2) % len(NOT_INCLUDED)])}  # fmt: skip
        tasks.append(task)

    for task in sorted(tasks, key=lambda t: -t["days"]):
        household = task["household"]
        user = _work_team(household, village_user, county)
        if task["days"] == 0:  # today's warning, verified at home today: 民政 has not decided yet
            with acting_as(user, source="cli"):
                clue = actions.clue_for_finding(task["finding"], user)
            _refer(user, clue, task["kinds"], "confirmed", "入户核查属实，按收支核算建议转介民政（示范数据）")
            done.pending += 1
        else:
            item = _cadre_referral(user, civil, household, task["kinds"], task)
            if item.status == Referral.Status.INCLUDED:
                done.included += 1
            elif item.status == Referral.Status.NOT_INCLUDED:
                done.not_included += 1
            else:
                done.pending += 1
            if "finding" in task:  # today's warning of a household 民政 has already decided on
                with acting_as(user, source="cli"):
                    warning = actions.clue_for_finding(task["finding"], user)
                    actions.verify_clue(user=user, clue=warning, outcome="already_helped",
                                        note=f"该户已于{_day(timezone.localtime(item.referred_at).date())}转介民政，"
                                        f"民政{_day(item.decided_on)}认定{item.outcome_label}（示范数据）")  # fmt: skip
        done.referred += 1
    return done


def _classification(county: User, township: User, village_user: User, done: JointSummary) -> None:
    """The demo village's 脱贫户, started in one batch 13 days ago; the steps' days of the 2026 regime are
    15, 7 and 8, so only one is (two days) past its step."""
    village = village_user.region
    with acting_as(village_user, source="cli"):
        batch = classification.start_village(user=village_user, village=village)
    done.started = batch.started
    rows = list(Assessment.objects.filter(region_code=village.code, status__in=OPEN_STATUSES)
                .select_related("household").order_by("household__household_no"))  # fmt: skip
    # round robin over the suggested classes, so that the approved ones are not all of one class
    seen: dict[str, int] = {}
    ranked = []
    for a in rows:
        seen[a.suggested_class] = seen.get(a.suggested_class, -1) + 1
        ranked.append((seen[a.suggested_class], a.suggested_class, a.household.household_no, a))
    rows = [a for *_, a in sorted(ranked, key=lambda r: r[:3])]
    n = len(rows)
    approved, at_county = round(n / 3), round(n / 6)
    returned = 1 if n >= 4 else 0
    at_township = round(n / 6)
    plan = (
        ["approved"] * approved
        + ["county"] * at_county
        + ["returned"] * returned
        + ["township"] * at_township
    )
    start = 13.0  # days ago
    for i, assessment in enumerate(rows):
        where = plan[i] if i < len(plan) else "village"
        times = [start]  # days ago of each event, in order
        if where == "village":  # still at the village's assessment, 2 of its 15 days left
            _backdate_assessment(assessment, times, i)
            continue
        village_done = start - (3 + i % 3) if where != "township" else start - (9 + i % 2)
        if where == "township" and i == len(plan) - 1 and at_township > 1:
            village_done = start - 4  # one a little past the township's 7 days
        flow = classification.regime_of(assessment).classification
        step = flow.steps[0]
        with acting_as(village_user, source="cli"):
            classification.attach(user=village_user, assessment=assessment,
                                  uploads=[("form", _scan("分类评估表.pdf"))])  # fmt: skip
            proposed = assessment.suggested_class or flow.classes[0].code
            classification.advance(user=village_user, assessment=assessment, checklist=list(step.checklist),
                                   note="入户评估经济状况和自我发展能力（示范数据）", class_code=proposed,
                                   reason="" if proposed == assessment.suggested_class else "系统未给出建议，按入户评估拟定")  # fmt: skip
        times.append(village_done)
        if where in ("approved", "county", "returned"):
            with acting_as(township, source="cli"):
                if where == "returned":
                    classification.return_assessment(user=township, assessment=assessment,
                                                     reason="佐证材料缺少务工收入证明，请补充后重新提交（示范数据）")  # fmt: skip
                    done.returned += 1
                else:
                    classification.advance(user=township, assessment=assessment,
                                           checklist=list(flow.steps[1].checklist), note="审核通过（示范数据）")  # fmt: skip
            times.append(village_done - 3)
        if where == "approved":
            household = Household.objects.get(pk=assessment.household_id)
            with acting_as(county, source="cli"):
                classification.advance(user=county, assessment=assessment, checklist=list(flow.steps[-1].checklist),
                                       note="县级审定（示范数据）",
                                       carried=[m.pk for m in running_measures(household)])  # fmt: skip
            times.append(village_done - 3 - (2 + i % 3))
            done.approved += 1
        _backdate_assessment(assessment, times, i)


def _backdate_assessment(assessment: Assessment, days_ago: list[float], slot: int) -> None:
    """The batch's start for all (the same moment), then the assessment's steps on their days."""
    moments = [_at(days_ago[0])] + [_at(d, slot + k) for k, d in enumerate(days_ago[1:], start=1)]
    for event, at in zip(assessment.events.order_by("id"), moments, strict=False):
        AssessmentEvent.objects.filter(pk=event.pk).update(at=at)
    assessment.refresh_from_db()
    last, assessed = moments[-1], moments[min(1, len(moments) - 1)]
    approved = assessment.status == Assessment.Status.APPROVED
    Assessment.objects.filter(pk=assessment.pk).update(
        started_at=moments[0], step_started_at=last, facts_at=assessed,
        decided_at=last if approved else None, finished_at=last if approved else None,
    )  # fmt: skip
    AssessmentAttachment.objects.filter(assessment=assessment).update(
        uploaded_at=assessed - dt.timedelta(minutes=20)
    )


@transaction.atomic
def build(county: User, township: User, village_user: User, civil: User) -> JointSummary:
    """转介民政 across the county and the demo village's 分类评估, under the regime in force (nothing when it
    has neither)."""
    regime = current_regime()
    done = JointSummary()
    if referral.joint(regime):
        done = _referrals(county, village_user, civil, regime)
        _say(f"  转介民政：{done.referred}户（民政已纳入{done.included}户、未纳入{done.not_included}户，"
             f"待民政审核{done.pending}户）")  # fmt: skip
    if regime.classification.enabled:
        _classification(county, township, village_user, done)
        _say(f"  脱贫人口分类评估：{village_user.region.name}发起{done.started}户，县级审定{done.approved}户，"
             f"乡镇退回{done.returned}户，其余在村级评估、乡镇审核、县级审定中")  # fmt: skip
    return done
