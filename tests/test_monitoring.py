"""The monitoring loop beyond the identification steps: the inbox and home verification, the notice and
its objections (with the .docx/PDF that must never show an ID, phone, bank account or health detail),
the green channel, paired cadres, measures checked against policy, visits, elimination criteria one by
one, the elimination case, reversion and the household's timeline. Time is frozen wherever a clock,
a deadline or a month count matters."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.audit.models import AuditEntry
from fangpin.monitoring import actions, assistance, elimination, notice
from fangpin.monitoring.models import Case, Clue, Measure, Visit
from fangpin.monitoring.procedure import ELIMINATION, procedure
from fangpin.monitoring.timeline import timeline
from fangpin.registry.models import Household, Member

from . import builders

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def scan(name: str = "承诺书.pdf") -> SimpleUploadedFile:
    """A file whose first bytes are what its name says (uploads are checked by content)."""
    if name.endswith(".jpg"):
        return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0 photo", content_type="image/jpeg")
    return SimpleUploadedFile(name, b"%PDF-1.4 scanned", content_type="application/pdf")


def walk(case, *users, days: float = 0.5, time_machine=None):
    """Do the current step with each user in turn, moving the clock on between steps."""
    for user in users:
        if time_machine is not None:
            time_machine.shift(dt.timedelta(days=days))
        actions.advance(
            user=user, case=case, checklist=list(actions.case_procedure(case).step(case.step).checklist)
        )


def monitored(household_no: str = "H001", *, month: str = "202601", risks: str = "因病") -> Household:
    household = Household.objects.get(household_no=household_no)
    household.monitoring_category, household.risk_types, household.identified_month = (
        "边缘易致贫户",
        risks,
        month,
    )
    household.risk_eliminated = False
    household.save()
    return household


@pytest.fixture
def h001(register, time_machine) -> Household:
    time_machine.move_to(START)
    return Household.objects.get(household_no="H001")


# ---- inbox and verification ------------------------------------------------------------------------


def test_a_self_application_needs_the_signed_commitment(h001, village_cadre):
    with pytest.raises(ValidationError, match="承诺授权书"):
        actions.report_clue(
            user=village_cadre, household=h001, source="self", summary="妻子住院，自付医疗费4万元"
        )
    clue = actions.report_clue(user=village_cadre, household=h001, source="self", summary="妻子住院，自付医疗费4万元",
                               reporter="张建国", uploads=[("commitment", scan())])  # fmt: skip
    assert clue.status == Clue.Status.PENDING and clue.attachments.get().kind == "commitment"


def test_attachments_of_the_wrong_type_or_size_are_refused_before_anything_is_written(
    h001, village_cadre, settings
):
    settings.FANGPIN_MAX_ATTACHMENT_MB = 1
    with pytest.raises(ValidationError, match="文件类型不支持"):
        actions.report_clue(user=village_cadre, household=h001, source="self", summary="申请",
                            uploads=[("commitment", scan("承诺书.exe"))])  # fmt: skip
    big = SimpleUploadedFile("承诺书.pdf", b"0" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="超过1MB"):
        actions.report_clue(
            user=village_cadre, household=h001, source="self", summary="申请", uploads=[("commitment", big)]
        )
    assert not Clue.objects.exists()


def test_the_home_page_lists_the_steps_waiting_on_the_user(
    h001, village_cadre, county_staff, client, time_machine
):
    case = actions.open_case(user=village_cadre, household=h001, source="cadre", proposed_category="边缘易致贫户",
                             risk_types="因病")  # fmt: skip
    walk(case, village_cadre)  # now at 入户核查, the village's alone (3 days)
    time_machine.shift(dt.timedelta(days=4))
    client.force_login(village_cadre)
    page = client.get("/").content.decode()
    assert (
        "监测帮扶待办" in page and "（已超时）" in page and reverse("monitoring:case", args=[case.pk]) in page
    )
    client.force_login(county_staff)
    assert (
        reverse("monitoring:case", args=[case.pk]) not in client.get("/").content.decode()
    )  # not the county's step


def test_home_verification_updates_facts_through_the_register_and_opens_the_case_at_comparison(
    h001, village_cadre, other_village_cadre, county_staff, time_machine
):
    clue = actions.report_clue(
        user=village_cadre, household=h001, source="hotline", summary="热线反映：家中房屋开裂"
    )
    wife = h001.members.get(name="李秀英")
    with pytest.raises(PermissionDenied):
        actions.verify_clue(user=other_village_cadre, clue=clue, outcome="confirmed", note="x")
    time_machine.shift(dt.timedelta(days=1))
    actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="入户查看，房屋主体开裂",
                        changes={"h-dangerous_house": True, f"m{wife.pk}-health": "患有大病", "i-wage": Decimal("6000")},
                        uploads=[("photo", scan("房屋.jpg"))])  # fmt: skip
    h001.refresh_from_db()
    wife.refresh_from_db()
    assert h001.dangerous_house is True and wife.health == "患有大病"
    record = h001.incomes.order_by("-year").first()
    assert record.wage == Decimal("6000") and record.computed_per_capita == Decimal(
        "5500.00"
    )  # (6000+8000-3000)/2
    assert h001.per_capita_income == Decimal("5500.00")
    assert AuditEntry.objects.filter(model="registry.Household", household_id=h001.pk, action="update",
                                     after__dangerous_house=True).exists()  # fmt: skip
    assert AuditEntry.objects.filter(
        model="registry.Member", object_id=str(wife.pk), after__health="患有大病"
    ).exists()
    clue.refresh_from_db()
    assert (
        "是否危房户：否 → 是" in clue.verification_note
        and "李秀英健康状况：健康 → 患有大病" in clue.verification_note
    )
    case = actions.open_case(user=village_cadre, household=h001, source="", clue=clue,
                             proposed_category="边缘易致贫户", risk_types="因病、因安全住房")  # fmt: skip
    assert case.step == "compare" and case.source == "hotline" and case.opened_at == clue.reported_at
    assert [(e.step, e.action) for e in case.events.all()] == [
        ("clue", "opened"),
        ("clue", "done"),
        ("verify", "done"),
    ]
    clue.refresh_from_db()
    assert clue.status == Clue.Status.CASE and clue.case == case


def test_only_a_clue_confirmed_at_home_opens_a_case(h001, village_cadre):
    clue = actions.report_clue(user=village_cadre, household=h001, source="cadre", summary="排查发现")
    with pytest.raises(ValidationError, match="确认有风险"):
        actions.open_case(user=village_cadre, household=h001, source="", clue=clue, proposed_category="边缘易致贫户",
                          risk_types="因病")  # fmt: skip
    actions.verify_clue(user=village_cadre, clue=clue, outcome="no_risk", note="收入稳定，无风险")
    with pytest.raises(ValidationError, match="确认有风险"):
        actions.open_case(user=village_cadre, household=h001, source="", clue=clue, proposed_category="边缘易致贫户",
                          risk_types="因病")  # fmt: skip
    with pytest.raises(ValidationError, match="已核查"):
        actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="再次")


def test_a_warning_enters_the_inbox_and_its_verification_is_the_warnings_outcome(h001, village_cadre, client):
    from fangpin.rules.models import Finding, ScreeningRun

    run = ScreeningRun.objects.create(as_of=dt.date(2026, 3, 1), engine="duckdb")
    finding = Finding.objects.create(rule_id="W_MEDICAL", rule_version="1", family="部门预警", severity="高",
                                     household=h001, region_code=h001.region_code, message="医保自付超过阈值",
                                     first_run=run, last_run=run)  # fmt: skip
    client.force_login(village_cadre)
    page = client.get(reverse("monitoring:inbox")).content.decode()
    assert "医保自付超过阈值" in page
    response = client.post(reverse("monitoring:take_warning", args=[finding.pk]))
    clue = Clue.objects.get(finding=finding)
    assert response.url == reverse("monitoring:clue", args=[clue.pk])
    actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="属实")
    finding.refresh_from_db()
    assert finding.outcome == "confirmed" and finding.status == "verified"


# ---- the notice ------------------------------------------------------------------------------------


@pytest.fixture
def in_notice(h001, village_cadre, county_staff, time_machine):
    case = actions.open_case(user=village_cadre, household=h001, source="cadre", proposed_category="边缘易致贫户",
                             risk_types="因病")  # fmt: skip
    walk(case, village_cadre, village_cadre, county_staff, village_cadre, time_machine=time_machine)
    assert case.step == "notice"
    return case


def test_objections_must_be_answered_before_the_township_step(
    in_notice, village_cadre, township_reviewer, time_machine
):
    case = in_notice
    objection = actions.record_objection(
        user=village_cadre, case=case, content="该户儿子在县城有商品房", raised_by=""
    )
    with pytest.raises(PermissionDenied):
        actions.record_objection(user=township_reviewer, case=case, content="x")
    time_machine.shift(dt.timedelta(days=5, minutes=1))
    with pytest.raises(ValidationError, match="1条未答复"):
        walk(case, village_cadre)
    actions.answer_objection(
        user=village_cadre, objection=objection, answer="经核实，商品房为儿子婚后自有，与本户无关"
    )
    walk(case, village_cadre)
    assert case.step == "township_review"
    with pytest.raises(ValidationError, match="只有公示期间"):
        actions.record_objection(user=village_cadre, case=case, content="迟到的异议")


def test_the_notice_period_is_counted_from_the_start_of_the_notice(in_notice, village_cadre, time_machine):
    time_machine.shift(dt.timedelta(days=4, hours=23))
    with pytest.raises(ValidationError, match="不少于5天"):
        walk(in_notice, village_cadre)
    time_machine.shift(dt.timedelta(hours=1, minutes=1))
    walk(in_notice, village_cadre)
    assert in_notice.step == "township_review"


def test_the_notice_documents_show_only_the_allowed_fields(in_notice, village_cadre, client):
    from docx import Document
    from pypdf import PdfReader

    household = in_notice.household
    members = list(household.members.all())
    Member.objects.filter(pk=members[1].pk).update(health="患有大病")
    household.extra = {"银行账号": "6228480012345678901"}
    household.save()
    client.force_login(village_cadre)
    docx = client.get(reverse("monitoring:notice", args=[household.region_code, "identification", "docx"]))
    pdf = client.get(reverse("monitoring:notice", args=[household.region_code, "identification", "pdf"]))
    assert docx.status_code == pdf.status_code == 200
    document = Document(io.BytesIO(docx.content))
    texts = {
        "docx": "\n".join(
            [p.text for p in document.paragraphs]
            + [c.text for t in document.tables for row in t.rows for c in row.cells]
        ),
        "pdf": "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages),
    }
    ids = [builders.pid(11), builders.pid(22, dt.date(1972, 5, 3))]
    for kind, text in texts.items():
        text = text.replace("\n", "")  # the PDF wraps long lines
        assert "张建国" in text and "边缘易致贫户" in text and "公示期为2026年" in text, kind
        assert not any(i in text or i[-6:] in text for i in ids), kind
        assert "13912345678" not in text and "6228480012345678901" not in text, kind
        assert not re.search(r"1[3-9]\d{9}", text), kind  # no phone number at all
        for health in ("患有大病", "长期慢性病", "残疾", "因病", "健康"):
            assert health not in text.replace("健康帮扶", ""), (kind, health)
    assert set(notice.NoticeRow.__dataclass_fields__) == {
        "no",
        "head_name",
        "size",
        "household_type",
        "category",
    }


def test_the_elimination_notice_has_its_own_title_and_list(ready, village_cadre):
    case = actions.open_elimination(user=village_cadre, household=ready)
    walk(case, village_cadre, village_cadre)
    document = notice.build(ready.region, "elimination")
    assert document.title == "东关村防止返贫致贫监测对象风险消除公示" and "标注为风险已消除" in document.body
    assert [r.head_name for r in document.rows] == ["张建国"] and document.columns[-1] == "监测对象类别"


def test_notice_documents_are_scoped_to_the_village(in_notice, other_village_cadre, client):
    client.force_login(other_village_cadre)
    url = reverse("monitoring:notice", args=[in_notice.region_code, "identification", "pdf"])
    assert client.get(url).status_code == 403


# ---- green channel ---------------------------------------------------------------------------------


def test_the_green_channel_puts_measures_first_and_keeps_the_clock(h001, village_cadre, time_machine):
    with pytest.raises(ValidationError, match="绿色通道仅适用于"):
        actions.open_case(user=village_cadre, household=h001, source="cadre", proposed_category="边缘易致贫户",
                          risk_types="因病", green_channel=True)  # fmt: skip
    with pytest.raises(ValidationError, match="不能新增帮扶措施"):
        assistance.add_measure(
            user=village_cadre, household=h001, group="社会帮扶", item_name="社会捐赠", start=START.date()
        )
    case = actions.open_case(user=village_cadre, household=h001, source="hotline", proposed_category="突发严重困难户",
                             risk_types="因自然灾害", green_channel=True)  # fmt: skip
    measure = assistance.add_measure(user=village_cadre, household=h001, group="住房安全保障", item_name="农村危房改造",
                                     start=START.date(), funding=Decimal("20000"))  # fmt: skip
    assert measure.pk and case.household.monitoring_category == ""
    time_machine.shift(dt.timedelta(days=16))
    assert actions.clock(case).overdue  # the procedure still has to be completed in time


# ---- pairing and the plan checks -------------------------------------------------------------------


def test_one_paired_cadre_per_household_and_the_cadres_load(
    h001, township_reviewer, village_cadre, other_village_cadre
):
    household = monitored()
    with pytest.raises(PermissionDenied):
        assistance.pair(user=village_cadre, household=household, cadre=village_cadre)
    with pytest.raises(ValidationError, match="本村"):
        assistance.pair(user=township_reviewer, household=household, cadre=other_village_cadre)
    first = assistance.pair(user=township_reviewer, household=household, cadre=village_cadre)
    assert assistance.cadre_load([village_cadre]) == {village_cadre.pk: 1}
    second = assistance.pair(user=township_reviewer, household=household, cadre=township_reviewer,
                             since=START.date() + dt.timedelta(days=10))  # fmt: skip
    first.refresh_from_db()
    assert first.until == START.date() + dt.timedelta(days=9) and second.until is None
    assert assistance.current_cadre(household) == township_reviewer
    assert assistance.cadre_load([village_cadre, township_reviewer]) == {township_reviewer.pk: 1}


def test_each_risk_needs_its_measure_and_the_problem_stays_until_fixed(h001, village_cadre):
    household = monitored(risks="因病、因安全住房")
    problems = [p.message for p in assistance.plan_problems(household)]
    assert any("因病" in p and "健康帮扶或社会帮扶" in p for p in problems)
    assert any("因安全住房" in p for p in problems)
    assistance.add_measure(user=village_cadre, household=household, group="健康帮扶", item_name="医疗救助",
                           start=START.date())  # fmt: skip
    problems = [p.message for p in assistance.plan_problems(household)]
    assert not any("因病" in p for p in problems) and any("因安全住房" in p for p in problems)
    assistance.add_measure(user=village_cadre, household=household, group="搬迁", item_name="易地搬迁后续扶持",
                           start=START.date(), end=START.date() + dt.timedelta(days=10))  # fmt: skip
    assert not any("因安全住房" in p.message for p in assistance.plan_problems(household))
    later = START.date() + dt.timedelta(days=11)  # the housing measure has ended: the problem returns
    assert any("因安全住房" in p.message for p in assistance.plan_problems(household, later))


def test_a_labour_capable_household_needs_development_help_within_a_month(h001, village_cadre, time_machine):
    household = monitored(month="202603")  # identified 2026-03-01; time is 2026-03-02
    [pending] = [p for p in assistance.plan_problems(household) if p.basis == "§7.1"]
    assert pending.due == dt.date(2026, 3, 31)
    time_machine.move_to(dt.datetime(2026, 4, 1, 2, tzinfo=dt.UTC))
    [fault] = [p for p in assistance.plan_problems(household) if p.basis == "§7.1"]
    assert fault.due is None and "30天内落实产业帮扶或就业帮扶" in fault.message
    assistance.add_measure(user=village_cadre, household=household, group="综合保障", item_name="临时救助",
                           start=dt.date(2026, 4, 1))  # fmt: skip
    assert any("只有综合保障" in p.message for p in assistance.plan_problems(household))
    assistance.add_measure(user=village_cadre, household=household, group="产业帮扶", item_name="到户产业发展奖补",
                           start=dt.date(2026, 4, 1))  # fmt: skip
    assert not [p for p in assistance.plan_problems(household) if p.basis == "§7.1"]
    Household.objects.filter(pk=household.pk).update(no_labour_household=True)
    household.refresh_from_db()
    Measure.objects.filter(group="产业帮扶").delete()
    assert not [p for p in assistance.plan_problems(household) if p.basis == "§7.1"]


def test_measures_must_match_the_facts(h001, village_cadre):
    household = monitored(risks="因残")
    head = household.members.get(name="张建国")
    assistance.add_measure(user=village_cadre, household=household, group="综合保障", item_name="残疾人两项补贴",
                           start=START.date(), member=head)  # fmt: skip
    assistance.add_measure(user=village_cadre, household=household, group="公益岗位帮扶", item_name="乡村公益性岗位",
                           start=START.date())  # fmt: skip
    messages = [p.message for p in assistance.plan_problems(household) if p.basis == "§7.4"]
    assert "残疾人两项补贴：享受残疾人补贴，但家庭成员中无残疾人" in messages
    assert "乡村公益性岗位：公益性岗位须指定受益成员" in messages
    Member.objects.filter(pk=head.pk).update(health="残疾")
    messages = [p.message for p in assistance.plan_problems(household) if p.basis == "§7.4"]
    assert not any("残疾人" in m for m in messages)
    with pytest.raises(ValidationError, match="不在措施目录"):
        assistance.add_measure(
            user=village_cadre, household=household, group="综合保障", item_name="发钱", start=START.date()
        )
    with pytest.raises(ValidationError, match="早于开始"):
        assistance.add_measure(user=village_cadre, household=household, group="社会帮扶", item_name="社会捐赠",
                               start=START.date(), end=START.date() - dt.timedelta(days=1))  # fmt: skip


# ---- visits ----------------------------------------------------------------------------------------


def test_a_visit_updates_facts_with_history_and_overdue_visits_follow_the_category_interval(
    h001, village_cadre, time_machine
):
    household = monitored(month="202603")
    assert not assistance.overdue_visits(Household.objects.all())  # identified 2026-03-01, 30 days
    time_machine.move_to(dt.datetime(2026, 4, 5, 2, tzinfo=dt.UTC))
    [due] = assistance.overdue_visits(Household.objects.all())
    assert due.household == household and due.last is None and due.days_over == 5
    visit = assistance.record_visit(user=village_cadre, household=household, visited_on=dt.date(2026, 4, 5),
                                    changes_note="妻子出院", notes="宣传医保政策",
                                    changes={"h-safe_drinking_water": False})  # fmt: skip
    assert "是否解决安全饮用水：是 → 否" in visit.changes
    assert AuditEntry.objects.filter(model="registry.Household", after__safe_drinking_water=False).exists()
    assert not assistance.overdue_visits(Household.objects.all())
    time_machine.move_to(dt.datetime(2026, 5, 6, 2, tzinfo=dt.UTC))
    [due] = assistance.overdue_visits(Household.objects.all())
    assert due.last == dt.date(2026, 4, 5) and due.days_over == 1
    with pytest.raises(ValidationError, match="晚于今天"):
        assistance.record_visit(user=village_cadre, household=household, visited_on=dt.date(2026, 6, 1), changes_note="",
                                notes="x")  # fmt: skip
    Household.objects.filter(pk=household.pk).update(risk_eliminated=True)  # eliminated: every 90 days
    assert not assistance.overdue_visits(Household.objects.all())


# ---- elimination -----------------------------------------------------------------------------------


@pytest.fixture
def ready(h001, village_cadre, time_machine):
    """H001 identified in January, helped since February; it is now August."""
    household = monitored(month="202601")
    Measure.objects.create(household=household, region_code=household.region_code, group="健康帮扶", item="医疗救助",
                           start=dt.date(2026, 2, 1), created_by=village_cadre)  # fmt: skip
    time_machine.move_to(dt.datetime(2026, 8, 3, 2, tzinfo=dt.UTC))
    return household


def unmet(household, method="帮扶消除"):
    return {c.label[:6]: c.detail for c in elimination.criteria(household, method) if not c.met}


def test_all_criteria_met(ready):
    assert unmet(ready) == {}


def test_income_must_be_above_the_line(ready):
    record = ready.incomes.order_by("-year").first()
    record.wage, record.business = Decimal("1000"), Decimal("0")
    from fangpin.registry.facts import _recompute

    _recompute(ready, record)
    record.save()
    assert "不高于2026年监测范围" in unmet(ready)["收入持续稳定"]


def test_income_raised_above_the_line_recently_is_not_yet_stable(ready, time_machine):
    from fangpin.registry import facts

    time_machine.move_to(dt.datetime(2026, 5, 1, 2, tzinfo=dt.UTC))
    facts.apply(
        ready, {"i-wage": Decimal("1000"), "i-business": Decimal("0")}
    )  # recorded below the line in May
    facts.apply(ready, {"i-wage": Decimal("30000"), "i-business": Decimal("8000")})  # and above again
    time_machine.move_to(dt.datetime(2026, 8, 3, 2, tzinfo=dt.UTC))
    assert "未满6个月" in unmet(ready)["收入持续稳定"]
    time_machine.move_to(dt.datetime(2026, 11, 5, 2, tzinfo=dt.UTC))  # the low record is now > 6 months old
    assert "收入持续稳定" not in unmet(ready)


def test_rigid_spending_must_be_resolved(ready):
    from fangpin.rules.models import Finding, ScreeningRun

    run = ScreeningRun.objects.create(as_of=dt.date(2026, 8, 1), engine="duckdb")
    Finding.objects.create(rule_id="W_MEDICAL", rule_version="1", family="部门预警", severity="高", household=ready,
                           region_code=ready.region_code, message="医保自付2.3万元", first_run=run, last_run=run)  # fmt: skip
    assert "医保自付2.3万元" in unmet(ready)["大额刚性支出"]


def test_rigid_spending_above_the_medical_warning_line_is_not_resolved(ready):
    Household.objects.filter(pk=ready.pk).update(compliant_self_pay=Decimal("25000"))  # 一般农户: line 20,000
    ready.refresh_from_db()
    assert unmet(ready)["大额刚性支出"] == "合规自付支出25000.00元，达到医疗自付预警线20000元"


def test_three_guarantees_and_water_must_be_secure(ready):
    Household.objects.filter(pk=ready.pk).update(dangerous_house=True)
    ready.refresh_from_db()
    assert "住房安全存在问题" in unmet(ready)["“三保障”和"]


def test_six_months_since_identification(ready):
    Household.objects.filter(pk=ready.pk).update(identified_month="202603")
    ready.refresh_from_db()
    assert unmet(ready)["识别纳入已满"] == "2026年3月识别，至今5个月"


def test_at_least_one_measure_unless_natural(ready):
    Measure.objects.all().delete()
    assert unmet(ready)["至少落实一项"] == "尚未落实任何帮扶措施"
    assert "至少落实一项" not in unmet(ready, "自然消除")


def test_not_a_household_without_labour(ready):
    Member.objects.filter(household=ready).update(labour_skill="丧失劳动力")
    assert "整户无劳动能力" in unmet(ready)["不是整户无劳"]


def test_the_elimination_case_is_refused_then_approved_then_reverted(
    ready, village_cadre, township_reviewer, county_staff, time_machine
):
    Household.objects.filter(pk=ready.pk).update(dangerous_house=True)
    ready.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        actions.open_elimination(user=village_cadre, household=ready)
    assert any("住房安全" in m for m in refused.value.messages)
    assistance.record_visit(user=village_cadre, household=ready, visited_on=dt.date(2026, 8, 3), changes_note="危房改造完工",
                            notes="验收合格", changes={"h-dangerous_house": False})  # fmt: skip
    case = actions.open_elimination(user=village_cadre, household=ready)
    assert case.kind == "elimination" and case.step == procedure(ELIMINATION).steps[0].code
    walk(case, village_cadre, village_cadre, time_machine=time_machine)
    assert case.step == "notice"
    time_machine.shift(dt.timedelta(days=5))
    walk(case, village_cadre, township_reviewer, time_machine=time_machine)
    Household.objects.filter(pk=ready.pk).update(
        safe_drinking_water=False
    )  # the facts change before approval
    with pytest.raises(ValidationError, match="饮水安全"):
        walk(case, county_staff)
    Household.objects.filter(pk=ready.pk).update(safe_drinking_water=True)
    walk(case, county_staff)
    ready.refresh_from_db()
    assert (ready.risk_eliminated, ready.eliminated_month, ready.elimination_method) == (
        True,
        "202608",
        "帮扶消除",
    )
    assert ready.monitoring_category == "边缘易致贫户"  # stays in the register as an eliminated object
    assert Measure.objects.filter(household=ready, end__isnull=True).count() == 1  # measures run on
    assert assistance.plan_problems(ready) == []
    with pytest.raises(PermissionDenied):
        elimination.revert(user=village_cadre, household=ready, reason="x")
    with pytest.raises(ValidationError, match="原因"):
        elimination.revert(user=county_staff, household=ready, reason=" ")
    reversion = elimination.revert(user=county_staff, household=ready, reason="家中再次发生大额医疗支出")
    ready.refresh_from_db()
    assert ready.risk_eliminated is False and ready.eliminated_month == "" and reversion.case == case
    kinds = [e.kind for e in timeline(ready)]
    assert {"风险消除", "决定", "入户走访", "帮扶措施", "风险消除回退"} <= set(kinds)


# ---- pages and scoping -----------------------------------------------------------------------------


def test_pages_of_the_loop_are_scoped(h001, village_cadre, other_village_cadre, client):
    household = monitored()
    clue = actions.report_clue(user=village_cadre, household=household, source="cadre", summary="排查",
                               uploads=[("photo", scan("现场.jpg"))])  # fmt: skip
    Visit.objects.create(household=household, region_code=household.region_code, visitor=village_cadre,
                         visited_on=START.date(), notes="走访")  # fmt: skip
    attachment = clue.attachments.get()
    urls = [
        reverse("monitoring:clue", args=[clue.pk]), reverse("monitoring:assistance", args=[household.pk]),
        reverse("monitoring:visit", args=[household.pk]), reverse("monitoring:timeline", args=[household.pk]),
        reverse("monitoring:attachment", args=[attachment.pk]), reverse("monitoring:new_clue", args=[household.pk]),
    ]  # fmt: skip
    client.force_login(village_cadre)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert AuditEntry.objects.filter(action="sensitive_read", model="monitoring.Attachment").exists()
    for page in ("monitoring:inbox", "monitoring:monitored"):
        assert household.head_name in client.get(reverse(page) + "?status=all&state=all").content.decode(), (
            page
        )
    client.force_login(other_village_cadre)
    for url in urls:
        assert client.get(url).status_code == 404, url
    for page in ("monitoring:inbox", "monitoring:monitored"):
        assert (
            household.head_name not in client.get(reverse(page) + "?status=all&state=all").content.decode()
        ), page
    for url in (reverse("monitoring:pair", args=[household.pk]), reverse("monitoring:add_measure", args=[household.pk]),
                reverse("monitoring:eliminate", args=[household.pk]), reverse("monitoring:revert", args=[household.pk])):  # fmt: skip
        assert client.post(url, {}).status_code == 404, url


def test_the_visit_page_records_a_visit_and_the_household_page_shows_the_timeline(
    h001, village_cadre, client
):
    household = monitored()
    client.force_login(village_cadre)
    page = client.get(reverse("monitoring:visit", args=[household.pk])).content.decode()
    assert "张建国" in page and "是否危房户" in page
    response = client.post(reverse("monitoring:visit", args=[household.pk]), {
        "visited_on": "2026-03-02", "changes_note": "", "notes": "了解就业需求", "h-dangerous_house": "true",
        "h-safe_drinking_water": "true", "income_year": "",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    visit = Visit.objects.get()
    assert "是否危房户：否 → 是" in visit.changes
    assert set(household.members.values_list("health", flat=True)) == {
        "健康"
    }  # fields not posted stay as they were
    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert "一户一档" in page and "了解就业需求" in page and "最近走访：2026-03-02" in page


def test_the_assistance_pages_pair_add_and_end_a_measure_close_a_case_and_revert(
    ready, village_cadre, township_reviewer, county_staff, client
):
    page = reverse("monitoring:assistance", args=[ready.pk])
    client.force_login(township_reviewer)
    assert "已结对0户" in client.get(page).content.decode()  # each cadre's load when assigning
    client.post(reverse("monitoring:pair", args=[ready.pk]), {"cadre": village_cadre.pk})
    assert assistance.current_cadre(ready) == village_cadre
    client.force_login(village_cadre)
    client.post(reverse("monitoring:add_measure", args=[ready.pk]),
                {"measure": "就业帮扶|职业技能培训", "start": "2026-08-01", "funding": "1200", "member": ""})  # fmt: skip
    measure = Measure.objects.get(item="职业技能培训")
    assert measure.funding == Decimal("1200") and measure.created_by == village_cadre
    client.post(reverse("monitoring:end_measure", args=[measure.pk]), {"end": "2026-08-02"})
    measure.refresh_from_db()
    assert measure.end == dt.date(2026, 8, 2)
    response = client.post(reverse("monitoring:eliminate", args=[ready.pk]), {"method": "帮扶消除"})
    case = Case.objects.get(kind="elimination")
    assert response.url == reverse("monitoring:case", args=[case.pk])
    client.force_login(county_staff)
    client.post(reverse("monitoring:close", args=[case.pk]), {"reason": "农户申请暂缓"})
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.events.last().note == "农户申请暂缓"
    Household.objects.filter(pk=ready.pk).update(risk_eliminated=True, eliminated_month="202608")
    client.post(reverse("monitoring:revert", args=[ready.pk]), {"reason": "收入再次下降"})
    ready.refresh_from_db()
    assert ready.risk_eliminated is False and ready.reversions.get().reason == "收入再次下降"


def test_the_household_history_shows_a_verification_in_officials_words(
    h001, village_cadre, client, time_machine
):
    """The clue's verification and the case it became, on the household's history: local times, choice
    labels, and no links to other rows (a raw id says nothing; the entry names who acted)."""
    clue = actions.report_clue(
        user=village_cadre, household=h001, source="hotline", summary="热线反映：家中房屋开裂"
    )
    actions.verify_clue(user=village_cadre, clue=clue, outcome="confirmed", note="入户查看，房屋主体开裂")
    actions.open_case(user=village_cadre, household=h001, source="", proposed_category="边缘易致贫户",
                      risk_types="因安全住房", clue=clue)  # fmt: skip
    client.force_login(village_cadre)
    page = client.get(reverse("registry:household_detail", args=[h001.pk])).content.decode()
    history = page[page.index('class="list history"') :]
    assert "核查时间：（空） → 2026-03-02 09:00" in history  # START in Beijing time
    assert "状态：待核查 → 已核查" in history and "核查结果：（空） → 确认有风险" in history
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", history), "an ISO timestamp reached the page"
    for internal in ("case_id", "verified_by_id", "核查人：", "pending", "verified"):
        assert internal not in history, internal
