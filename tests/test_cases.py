"""Identification cases: steps owned by roles in their region, checklists, the notice period,
returns with reasons, the clocks with frozen time, inclusion in monitoring."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fangpin.audit.models import AuditEntry
from fangpin.monitoring import actions
from fangpin.monitoring.models import Case
from fangpin.monitoring.procedure import procedure
from fangpin.registry.models import Household

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def checklist(case):
    return list(procedure().step(case.step).checklist)


@pytest.fixture
def case(register, village_cadre, time_machine):
    time_machine.move_to(START)
    household = Household.objects.get(household_no="H001")  # 古绛镇东关村, the cadre's village
    return actions.open_case(user=village_cadre, household=household, source="cadre",
                             proposed_category="边缘易致贫户", risk_types="因病")  # fmt: skip


def test_the_whole_path_by_the_owning_roles_includes_the_household(
    case, village_cadre, township_reviewer, county_staff, time_machine
):
    steps = [
        (village_cadre, 0), (village_cadre, 1), (county_staff, 1), (village_cadre, 1), (village_cadre, 5),
        (township_reviewer, 1), (county_staff, 1),
    ]  # fmt: skip
    for user, days in steps:
        time_machine.shift(dt.timedelta(days=days))
        actions.advance(user=user, case=case, checklist=checklist(case), note="完成")
    case.refresh_from_db()
    assert case.status == Case.Status.DONE and case.events.count() == 1 + 7
    household = case.household
    household.refresh_from_db()
    assert (household.monitoring_category, household.risk_types, household.identified_month) == (
        "边缘易致贫户",
        "因病",
        "202603",
    )
    assert AuditEntry.objects.filter(model="registry.Household", action="update", household_id=household.pk,
                                     after__monitoring_category="边缘易致贫户").exists()  # fmt: skip
    assert actions.timeliness(Case.objects.all()) == (1, 1)  # 10 days ≤ 15


def test_a_step_is_done_only_by_the_role_that_owns_it_in_its_region(
    case, township_reviewer, other_village_cadre, village_cadre
):
    actions.advance(user=village_cadre, case=case, checklist=checklist(case))
    with pytest.raises(PermissionDenied):
        actions.advance(
            user=township_reviewer, case=case, checklist=checklist(case)
        )  # 入户核查 is the village's
    with pytest.raises(PermissionDenied):
        actions.advance(user=other_village_cadre, case=case, checklist=checklist(case))  # another village


def test_the_evidence_checklist_must_be_complete(case, village_cadre):
    with pytest.raises(ValidationError, match="佐证清单未完成"):
        actions.advance(user=village_cadre, case=case, checklist=checklist(case)[:1])


def test_the_notice_must_run_its_minimum_days(case, village_cadre, county_staff, time_machine):
    for user in (village_cadre, village_cadre, county_staff, village_cadre):
        actions.advance(user=user, case=case, checklist=checklist(case))
    assert case.step == "notice"
    time_machine.shift(dt.timedelta(days=4, hours=23))
    with pytest.raises(ValidationError, match="不少于5天"):
        actions.advance(user=village_cadre, case=case, checklist=checklist(case))
    time_machine.shift(dt.timedelta(hours=2))
    actions.advance(user=village_cadre, case=case, checklist=checklist(case))
    assert case.step == "township_review"


def test_a_returned_case_goes_back_one_step_with_its_reason(case, village_cadre, county_staff):
    actions.advance(user=village_cadre, case=case, checklist=checklist(case))
    actions.advance(user=village_cadre, case=case, checklist=checklist(case))
    with pytest.raises(ValidationError, match="理由"):
        actions.return_case(user=county_staff, case=case, reason=" ")
    actions.return_case(user=county_staff, case=case, reason="收入数据与比对结果不符，请重新核查")
    assert case.step == "verify" and case.events.last().note.startswith("收入数据")


def test_the_clocks_show_elapsed_remaining_and_overdue_steps(case, village_cadre, time_machine):
    time_machine.shift(dt.timedelta(days=2))
    tick = actions.clock(case)
    assert tick.step.code == "clue" and tick.step_overdue and not tick.overdue
    assert tick.elapsed_days == pytest.approx(2.0, abs=0.05) and tick.remaining_days == pytest.approx(
        13.0, abs=0.05
    )
    time_machine.shift(dt.timedelta(days=14))
    assert actions.clock(case).overdue


def test_one_open_case_per_household_and_the_green_channel_flag(case, village_cadre):
    with pytest.raises(ValidationError, match="已有正在办理"):
        actions.open_case(user=village_cadre, household=case.household, source="self", proposed_category="突发严重困难户",
                          risk_types="因意外事故")  # fmt: skip
    other = Household.objects.get(household_no="H002")
    with pytest.raises(PermissionDenied):
        actions.open_case(user=village_cadre, household=other, source="cadre", proposed_category="边缘易致贫户",
                          risk_types="因病")  # fmt: skip
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)
    green = actions.open_case(user=village_cadre, household=case.household, source="hotline", green_channel=True,
                              proposed_category="突发严重困难户", risk_types="因意外事故")  # fmt: skip
    assert green.green_channel


def test_pages_open_a_case_from_a_warning_walk_a_step_and_stay_scoped(
    client, register, village_cadre, other_village_cadre, county_staff
):
    from django.urls import reverse

    household = Household.objects.get(household_no="H001")
    client.force_login(village_cadre)
    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert "发起识别程序" in page
    client.post(reverse("monitoring:open", args=[household.pk]),
                {"source": "cadre", "proposed_category": "边缘易致贫户", "risk_types": ["因病", "因学"]})  # fmt: skip
    case = Case.objects.get()
    assert case.risk_types == "因病、因学"
    client.post(
        reverse("monitoring:advance", args=[case.pk]), {"checklist": list(procedure().steps[0].checklist)}
    )
    case.refresh_from_db()
    assert case.step == "verify"
    page = client.get(reverse("monitoring:list")).content.decode()
    assert "入户核查" in page and "村级/驻村工作队" in page
    client.force_login(other_village_cadre)
    assert client.get(reverse("monitoring:case", args=[case.pk])).status_code == 404
    assert client.post(reverse("monitoring:advance", args=[case.pk]), {}).status_code == 404
    assert client.get(reverse("monitoring:open", args=[household.pk])).status_code == 404
    client.force_login(county_staff)
    page = client.get(reverse("monitoring:case", args=[case.pk])).content.decode()
    assert "advance-form" not in page and "本环节由村级/驻村工作队办理" in page
