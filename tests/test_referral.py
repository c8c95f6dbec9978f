"""Joint intake (2026 regime): one clue, one home verification, one 收支核算 stored once, serving the
防止返贫致贫 monitoring and the referral to 民政 — the round trip to 民政's decision and the counts by
township; under the transition regime nothing of it is offered and verification behaves as before;
scoping (another village, another department), who may do what, and the audit trail."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Department, Role
from fangpin.audit.models import AuditEntry
from fangpin.monitoring import actions, referral
from fangpin.monitoring.models import Case, Clue, Referral
from fangpin.monitoring.timeline import timeline
from fangpin.registry.models import Household

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
IN_2026 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
IN_2025 = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)
# found at the door: wages fell to 12,000 (per capita (12,000 + 8,000 − 3,000) ÷ 2 = 8,500: below the
# 低保边缘 line 6,600 × 1.5 = 9,900, above 低保 6,600) and 3,000 of medical bills (17.6%: no hardship)
FOUND = {"i-wage": Decimal("12000"), "e-medical": Decimal("3000")}


@pytest.fixture
def civil_officer(regions):
    return create_user(username="minzheng", password=PASSWORD, role=Role.DEPARTMENT,
                       department=Department.CIVIL, region_code="")  # fmt: skip


@pytest.fixture
def medical_officer(regions):
    return create_user(username="yibao", password=PASSWORD, role=Role.DEPARTMENT,
                       department=Department.MEDICAL, region_code="")  # fmt: skip


@pytest.fixture
def h001(register, time_machine) -> Household:
    time_machine.move_to(IN_2026)
    return Household.objects.get(household_no="H001")


def clue_for(household: Household, user) -> Clue:
    return actions.report_clue(
        user=user, household=household, source="hotline", summary="热线反映：丈夫务工受伤收入减少"
    )


def test_one_verification_serves_both_tracks_to_the_civil_affairs_outcome_and_the_township_counts(
    h001, village_cadre, civil_officer, township_reviewer, county_staff, time_machine
):
    clue = clue_for(h001, village_cadre)
    actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="入户核实，务工收入减少",
                        changes=FOUND, referral_kinds=["低保边缘"])  # fmt: skip
    clue.refresh_from_db()
    # one accounting, stored once on the verification, after the facts found were saved
    stored = clue.accounting
    assert (stored["regime"], stored["accounting"], stored["version"]) == (
        "2026",
        "disposable_2026",
        "2026.1",
    )
    assert (stored["per_capita"], stored["rigid_total"], stored["rigid_share"]) == (
        "8500.00",
        "3000.00",
        "17.6%",
    )
    assert [kind for kind, _ in stored["suggested"]] == ["低保边缘"]
    assert h001.expenditures.get().accounting_version == "2026.1"
    assert "医疗支出（个人负担）：未填写 → 3000" in clue.verification_note
    item = Referral.objects.get()
    assert (item.household, item.clue, item.kinds, item.regime, item.status) == (
        h001,
        clue,
        ["低保边缘"],
        "2026",
        "pending",
    )
    assert "9,900 元" in item.reasons["低保边缘"] and "待核实" in item.reasons["低保边缘"]
    # the monitoring track: the same verification opens the identification case at its third step
    case = actions.open_case(user=village_cadre, household=h001, source="hotline", proposed_category="边缘易致贫户",
                             risk_types="因意外事故", clue=clue)  # fmt: skip
    assert case.status == Case.Status.OPEN and Clue.objects.get().status == Clue.Status.CASE

    # 民政's data officer, who has no region, works county-wide: sees it, records 已纳入低保边缘
    assert list(referral.visible(civil_officer)) == [item]
    time_machine.shift(dt.timedelta(days=12))
    with pytest.raises(ValidationError, match="纳入事项"):
        referral.record_outcome(user=civil_officer, referral=item, included=True, result_kind="特困",
                                decided_on=dt.date(2026, 3, 13))  # fmt: skip
    with pytest.raises(ValidationError, match="早于转介日期"):
        referral.record_outcome(user=civil_officer, referral=item, included=True, result_kind="低保边缘",
                                decided_on=dt.date(2026, 3, 1))  # fmt: skip
    referral.record_outcome(user=civil_officer, referral=item, included=True, result_kind="低保边缘",
                            decided_on=dt.date(2026, 3, 13), note="经民政审核认定")  # fmt: skip
    item.refresh_from_db()
    assert (item.status, item.outcome_label, item.outcome_by) == ("included", "已纳入低保边缘", civil_officer)
    with pytest.raises(ValidationError, match="已纳入低保边缘"):
        referral.record_outcome(user=county_staff, referral=item, included=False, decided_on=dt.date(2026, 3, 13),
                                note="重复录入")  # fmt: skip

    # counts by township: 古绛镇 one referred for 低保边缘 and one included, no one elsewhere
    kinds = ("低保", "低保边缘", "特困", "临时救助")
    rows = referral.counts_by_township(referral.visible(county_staff), kinds)
    assert [(r.name, r.referred, r.by_kind["低保边缘"], r.included["低保边缘"], r.pending) for r in rows] == [
        ("古绛镇", 1, 1, 1, 0), ("合计", 1, 1, 1, 0)]  # fmt: skip
    from django.test import Client

    client = Client()
    client.force_login(township_reviewer)
    page = client.get(
        reverse("monitoring:referrals") + "?status=all", SERVER_NAME="localhost"
    ).content.decode()
    assert "各乡镇转介和民政审核情况" in page and "已纳入低保边缘" in page and "古绛镇" in page
    assert "张*国户" in page and "张建国" not in page  # names masked on this page

    # the 一户一档 tells both tracks
    kinds_seen = {(e.kind, e.title) for e in timeline(h001)}
    assert {
        ("转介民政", "低保边缘"),
        ("民政审核结果", "已纳入低保边缘"),
        ("入户核查", "确认有风险"),
    } <= kinds_seen

    # every step is in the audit log, against the household
    audited = {(e.model, e.action) for e in AuditEntry.objects.filter(household_id=h001.pk)}
    assert {("monitoring.Referral", "create"), ("monitoring.Referral", "update"),
            ("registry.ExpenditureRecord", "create"), ("monitoring.Clue", "update")} <= audited  # fmt: skip
    outcome = AuditEntry.objects.get(model="monitoring.Referral", action="update")
    assert outcome.after["status"] == "included" and outcome.after["result_kind"] == "低保边缘"


def test_under_the_transition_regime_nothing_is_referred_and_verification_is_as_before(
    register, village_cadre, time_machine, client
):
    time_machine.move_to(IN_2025)
    h001 = Household.objects.get(household_no="H001")
    clue = clue_for(h001, village_cadre)
    client.force_login(village_cadre)
    page = client.get(reverse("monitoring:clue", args=[clue.pk]), SERVER_NAME="localhost").content.decode()
    assert "入户核查" in page and "处理意见" not in page and "刚性支出" not in page and "收支核算" not in page
    with pytest.raises(ValidationError, match="没有转介民政"):
        actions.verify_clue(
            user=village_cadre, clue=clue, outcome="confirmed", note="核实", referral_kinds=["低保"]
        )
    with pytest.raises(ValidationError, match="不核算医疗"):
        actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="核实", changes=FOUND)
    actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="核实",
                        changes={"i-wage": Decimal("12000")})  # fmt: skip
    clue.refresh_from_db()
    assert (clue.regime, clue.accounting, clue.status) == ("2025", {}, Clue.Status.VERIFIED)
    assert h001.incomes.get().computed_per_capita == Decimal("8500.00") and not h001.expenditures.exists()
    with pytest.raises(ValidationError, match="没有统筹监测和转介民政"):
        referral.refer(user=village_cadre, clue=clue, kinds=["低保"])
    assert not Referral.objects.exists()
    detail = client.get(reverse("registry:household_detail", args=[h001.pk]), SERVER_NAME="localhost")
    assert "household-accounting" not in detail.content.decode()


def test_another_village_cannot_see_or_act_and_other_departments_see_nothing(
    h001, village_cadre, other_village_cadre, civil_officer, medical_officer, county_staff, client
):
    clue = clue_for(h001, village_cadre)
    actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="核实", changes=FOUND)
    with pytest.raises(PermissionDenied):
        referral.refer(user=other_village_cadre, clue=clue, kinds=["低保边缘"])
    item = referral.refer(user=village_cadre, clue=clue, kinds=["低保边缘"])
    assert list(referral.visible(other_village_cadre)) == [] and list(referral.visible(medical_officer)) == []
    assert not referral.may_record(medical_officer, item) and not referral.may_withdraw(
        other_village_cadre, item
    )
    with pytest.raises(PermissionDenied):
        referral.record_outcome(user=medical_officer, referral=item, included=False, decided_on=dt.date(2026, 3, 2),
                                note="x")  # fmt: skip
    with pytest.raises(PermissionDenied):
        referral.withdraw(user=other_village_cadre, referral=item, reason="x")
    with pytest.raises(PermissionDenied):  # the village refers, it does not decide for 民政
        referral.record_outcome(user=village_cadre, referral=item, included=False, decided_on=dt.date(2026, 3, 2),
                                note="x")  # fmt: skip
    client.force_login(other_village_cadre)
    page = client.get(
        reverse("monitoring:referrals") + "?status=all", SERVER_NAME="localhost"
    ).content.decode()
    assert "没有转介记录" in page and "张*国" not in page
    post = client.post(
        reverse("monitoring:referral_withdraw", args=[item.pk]), {"reason": "x"}, SERVER_NAME="localhost"
    )
    assert post.status_code == 404
    client.force_login(medical_officer)
    assert client.get(reverse("monitoring:referrals"), SERVER_NAME="localhost").status_code == 403
    # 民政's officer records outcomes but cannot verify a clue nor open the register
    second = clue_for(Household.objects.get(household_no="H002"), county_staff)
    with pytest.raises(PermissionDenied):
        actions.verify_clue(user=civil_officer, clue=second, outcome="confirmed", note="核实")
    client.force_login(civil_officer)
    assert (
        client.get(reverse("monitoring:clue", args=[second.pk]), SERVER_NAME="localhost").status_code == 403
    )
    assert (
        client.get(reverse("registry:household_detail", args=[h001.pk]), SERVER_NAME="localhost").status_code
        == 403
    )
    client.post(reverse("monitoring:referral_outcome", args=[item.pk]),
                {f"r{item.pk}-result": "-", f"r{item.pk}-decided_on": "2026-03-02", f"r{item.pk}-note": "家庭财产超标"},
                SERVER_NAME="localhost")  # fmt: skip
    item.refresh_from_db()
    assert (item.outcome_label, item.outcome_note) == ("未纳入", "家庭财产超标")
    entry = AuditEntry.objects.filter(model="monitoring.Referral", action="update").get()
    assert entry.username == "minzheng" and entry.after["status"] == "not_included"  # who, from the request


def test_the_verifier_decides_a_kind_not_suggested_needs_a_reason_and_one_referral_waits_at_a_time(
    h001, village_cadre
):
    clue = clue_for(h001, village_cadre)
    actions.verify_clue(user=village_cadre, clue=clue, outcome="no_risk", note="核实", changes=FOUND)
    with pytest.raises(ValidationError, match="未建议转介特困"):
        referral.refer(user=village_cadre, clue=clue, kinds=["低保边缘", "特困"])
    with pytest.raises(ValidationError, match="不在"):
        referral.refer(user=village_cadre, clue=clue, kinds=["医疗救助"], note="x")
    item = referral.refer(user=village_cadre, clue=clue, kinds=["低保边缘", "特困"], note="户主长期卧床")
    assert item.reasons["特困"] == "核查人说明：户主长期卧床" and item.suggested == ["低保边缘"]
    with pytest.raises(ValidationError, match="待民政审核的转介"):
        referral.refer(user=village_cadre, clue=clue, kinds=["低保边缘"])
    referral.withdraw(user=village_cadre, referral=item, reason="农户不愿申请")
    assert referral.refer(user=village_cadre, clue=clue, kinds=["低保边缘"]).status == "pending"


def test_the_clue_page_proposes_both_tracks_pre_ticked_and_saves_them_in_one_step(
    h001, village_cadre, client
):
    clue = clue_for(h001, village_cadre)
    h001.incomes.update(wage=Decimal("12000"))  # the register already holds the lower wage
    from fangpin.registry.facts import _recompute

    record = h001.incomes.get()
    _recompute(h001, record)
    record.save()
    client.force_login(village_cadre)
    url = reverse("monitoring:clue", args=[clue.pk])
    page = client.get(url, SERVER_NAME="localhost").content.decode()
    assert "处理意见" in page and "收支核算建议" in page and "医疗支出（个人负担）" in page
    ticked = [
        box for box in re.findall(r'<input type="checkbox" name="kinds"[^>]*>', page) if "checked" in box
    ]
    assert ticked == ['<input type="checkbox" name="kinds" value="低保边缘" id="id_kinds_1" checked>']
    # ticking 纳入监测 with an outcome other than at risk is refused, nothing saved
    refused = client.post(url, {"outcome": "no_risk", "note": "核实", "monitor": "on", "refer": "on",
                                "kinds": ["低保边缘"]}, SERVER_NAME="localhost")  # fmt: skip
    assert (
        refused.status_code == 200
        and "纳入防止返贫致贫监测须核查结果为“确认有风险”" in refused.content.decode()
        and not Referral.objects.exists()
    )
    response = client.post(url, {"outcome": "confirmed", "note": "入户核实", "monitor": "on", "refer": "on",
                                 "kinds": ["低保边缘"], "e-medical": "3000"}, SERVER_NAME="localhost")  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring:open", args=[h001.pk]) + f"?clue={clue.pk}"
    assert Referral.objects.get().kinds == ["低保边缘"]
    assert h001.expenditures.get().medical == Decimal("3000")
    shown = client.get(url, SERVER_NAME="localhost").content.decode()
    assert "待民政审核" in shown and "2026.1" in shown
    detail = client.get(
        reverse("registry:household_detail", args=[h001.pk]), SERVER_NAME="localhost"
    ).content.decode()
    assert "household-accounting" in detail and "人均可支配收入" in detail and "待民政审核" in detail
    assert "2025年刚性支出（户" in detail and "转介民政（低保边缘）" in detail  # both in the change history
    assert "收支核算：人均可支配收入8,500 元，刚性支出3,000 元" in detail  # the stored accounting, condensed
    from fangpin.regimes.regime import by_code
    from fangpin.registry.accounting import apply_expenditure

    apply_expenditure(h001, {"e-medical": Decimal("2500")}, regime=by_code("2026"))  # a later correction
    detail = client.get(reverse("registry:household_detail", args=[h001.pk]), SERVER_NAME="localhost")
    assert "医疗支出（个人负担）：3000.00 → 2500" in detail.content.decode()  # the history, in Chinese labels
