"""脱贫人口分类管理 (原建档立卡脱贫人口, 2026 No.1 document (八)): the path village → township → county by
the owning roles in their region, the checklist and evidence, returns with reasons, the clocks, the
regime (refused under 2025, a province's own classes), carried-over measures, the batch start, progress
by township, scoping of every page and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Role
from fangpin.audit.models import AuditEntry
from fangpin.classification import actions
from fangpin.classification.models import Assessment
from fangpin.classification.views import progress_rows
from fangpin.monitoring import actions as monitoring_actions
from fangpin.monitoring.models import Measure
from fangpin.regimes.regime import by_code
from fangpin.regions.models import Region
from fangpin.registry.models import Household
from tests import builders
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # under the national 2026 regime
BEFORE = dt.datetime(2025, 12, 20, 2, 0, tzinfo=dt.UTC)  # under the 2025 (transition) regime
HOST = {"SERVER_NAME": "localhost"}
FLOW = by_code("2026").classification


def rows() -> list[dict[str, object]]:
    """Five 脱贫户 and one 一般农户 in three villages of two townships. With the 2026 line of 8,300 yuan
    and the multiple of 1.5 (12,450 yuan): K01 stable, K02 low income, K03 unable to work, K05 a
    monitored household whose risk is not eliminated, K06 stable in the other township."""
    p = builders.pid
    unable = builders.family("K03", builders.VILLAGE_A1, [("刘老汉", p(61, dt.date(1940, 1, 1)), "户主", "男")],
                             household_type="脱贫户", wage=0, business=9000, expense=0)  # fmt: skip
    for row in unable:
        row["劳动技能"] = "丧失劳动力"
    return (
        builders.family("K01", builders.VILLAGE_A1, [("张建国", p(11), "户主", "男"),
                        ("李秀英", p(22, dt.date(1972, 5, 3)), "配偶", "女")], household_type="脱贫户")
        + builders.family("K02", builders.VILLAGE_A1, [("王强", p(31, dt.date(1980, 2, 2)), "户主", "男")],
                          household_type="脱贫户", wage=4000, business=2000, expense=500)
        + unable
        + builders.family("K04", builders.VILLAGE_A1, [("陈一般", p(71, dt.date(1975, 1, 1)), "户主", "男")])
        + builders.family("K05", builders.VILLAGE_A2, [("周监测", p(81, dt.date(1966, 1, 1)), "户主", "男")],
                          household_type="脱贫户", category="脱贫不稳定户")
        + builders.family("K06", builders.VILLAGE_B1, [("赵敏", p(42, dt.date(1990, 3, 3)), "户主", "女")],
                          household_type="脱贫户")
    )  # fmt: skip


@pytest.fixture
def county(regions, tmp_path, time_machine, settings):
    from fangpin.registry.importer import import_register

    settings.MEDIA_ROOT = str(tmp_path / "media")
    time_machine.move_to(START)
    result = import_register(builders.write_xlsx(tmp_path / "register.xlsx", rows()))
    assert result.ok, [str(p) for p in result.problems]


def hh(number: str) -> Household:
    return Household.objects.get(household_no=number)


def scan(name: str = "分类评估表.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 signed form", content_type="application/pdf")


def checklist(assessment: Assessment) -> list[str]:
    return list(actions.current_step(assessment).checklist)


def village_done(assessment: Assessment, user, **extra) -> Assessment:  # type: ignore[no-untyped-def]
    actions.attach(user=user, assessment=assessment, uploads=[("form", scan())])
    return actions.advance(user=user, assessment=assessment, checklist=checklist(assessment), **extra)


@pytest.fixture
def village_a2(regions):
    return create_user(
        username="village_a2", password=PASSWORD, role=Role.VILLAGE, region_code=builders.VILLAGE_A2
    )


def test_the_path_village_township_county_by_the_owning_roles_in_their_region(
    county, village_cadre, other_village_cadre, township_reviewer, county_staff, supervisor, time_machine
):
    assessment = actions.start(user=village_cadre, household=hh("K01"))
    assert (assessment.regime, assessment.step, assessment.status) == ("2026", "assess", "open")
    assert (assessment.suggested_class, assessment.proposed_class) == ("stable", "stable")
    assert "经济状况稳定" in assessment.suggestion_reason
    incomes = next(f for f in assessment.facts if f["label"] == "人均纯收入")
    assert incomes["value"].startswith("2025年17,500.00元，高于2026年监测范围8,300.00元")
    assert "收入参数：2026年度监测范围（待核实）" in incomes["source"]
    for outsider in (township_reviewer, other_village_cadre, county_staff, supervisor):
        with pytest.raises(PermissionDenied):
            actions.advance(user=outsider, assessment=assessment, checklist=checklist(assessment))
    village_done(assessment, village_cadre, note="入户评估完成")
    assert assessment.step == "township_review"
    with pytest.raises(PermissionDenied):
        actions.advance(user=village_cadre, assessment=assessment, checklist=checklist(assessment))
    time_machine.shift(dt.timedelta(days=2))
    actions.advance(user=township_reviewer, assessment=assessment, checklist=checklist(assessment))
    assert assessment.step == "county_approval"
    for outsider in (township_reviewer, supervisor):
        with pytest.raises(PermissionDenied):
            actions.advance(user=outsider, assessment=assessment, checklist=checklist(assessment), carried=[])
    time_machine.shift(dt.timedelta(days=1))
    actions.advance(user=county_staff, assessment=assessment, checklist=checklist(assessment), carried=[])
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.APPROVED
    assert (assessment.final_class, assessment.final_class_label, assessment.final_exits) == (
        "stable",
        "稳定脱贫户",
        True,
    )
    assert assessment.decided_by == county_staff and assessment.regime == "2026"
    assert [(e.step, e.action) for e in assessment.events.all()] == [
        ("assess", "opened"), ("assess", "done"), ("township_review", "done"), ("county_approval", "approved"),
    ]  # fmt: skip
    assert actions.clock(assessment).elapsed_days == pytest.approx(3.0, abs=0.05)
    # audited: the start and the decision are in the log, filed under the household and its village
    entries = AuditEntry.objects.filter(model="classification.Assessment", object_id=str(assessment.pk))
    assert entries.filter(action="create", household_id=assessment.household_id,
                          region_code=builders.VILLAGE_A1).exists()  # fmt: skip
    assert entries.filter(action="update", after__final_class="stable", after__status="approved").exists()
    assert (
        AuditEntry.objects.filter(model="classification.AssessmentAttachment", action="create").count() == 1
    )
    # a second start for the household under the same regime is refused while one is open
    other = actions.start(user=village_cadre, household=hh("K02"))
    with pytest.raises(ValidationError, match="已有正在办理"):
        actions.start(user=village_cadre, household=hh("K02"))
    assert other.status == "open"


def test_only_the_village_starts_and_only_for_its_own_脱贫户(county, village_cadre, other_village_cadre,
                                                        township_reviewer, supervisor):  # fmt: skip
    with pytest.raises(PermissionDenied):
        actions.start(user=other_village_cadre, household=hh("K01"))  # another village
    for user in (township_reviewer, supervisor):
        with pytest.raises(PermissionDenied):
            actions.start(user=user, household=hh("K01"))  # the first step is the village's
    with pytest.raises(ValidationError, match="只有脱贫户"):
        actions.start(user=village_cadre, household=hh("K04"))
    assert not Assessment.objects.exists()


def test_the_suggestion_follows_the_facts_and_the_configured_multiple(
    county, village_cadre, village_a2, county_admin, client
):
    low = actions.start(user=village_cadre, household=hh("K02"))
    assert (
        low.suggested_class == "support"
        and "5,500.00元低于12,450.00元（监测范围的1.5倍）" in low.suggestion_reason
    )
    unable = actions.start(user=village_cadre, household=hh("K03"))
    assert unable.suggested_class == "safety_net" and "无劳动能力" in unable.suggestion_reason
    monitored = actions.start(user=village_a2, household=hh("K05"))
    assert monitored.suggested_class == "support" and "返贫致贫风险" in monitored.suggestion_reason
    # K01 earns 17,500 a head: stable at 1.5 times the line, but not when the province sets 2.5
    form = {
        "value": "2.5",
        "effective_from": "2026-01-01",
        "source": "本省通知（晋农发〔2026〕1号）",
        "confirmed": "on",
    }
    client.force_login(village_cadre)
    assert client.post(reverse("classification:parameter"), form, **HOST).status_code == 403
    client.force_login(county_admin)
    client.post(reverse("classification:parameter"), form, **HOST)
    page = client.get(reverse("classification:progress"), **HOST).content.decode()
    assert "低于当年监测范围的 <b>2.5</b> 倍" in page and "晋农发〔2026〕1号" in page
    assert AuditEntry.objects.filter(model="rules.RuleParameter", action="create", after__value=2.5).exists()
    higher = actions.start(user=village_cadre, household=hh("K01"))
    assert (
        higher.suggested_class == "support"
        and "低于20,750.00元（监测范围的2.5倍）" in higher.suggestion_reason
    )


def test_the_checklist_the_evidence_and_a_reason_for_another_class_are_required(county, village_cadre):
    assessment = actions.start(user=village_cadre, household=hh("K02"))  # suggested 持续帮扶户
    with pytest.raises(ValidationError, match="佐证清单未完成"):
        actions.advance(user=village_cadre, assessment=assessment, checklist=checklist(assessment)[:1])
    with pytest.raises(ValidationError, match="上传分类评估表"):
        actions.advance(user=village_cadre, assessment=assessment, checklist=checklist(assessment))
    with pytest.raises(ValidationError, match="类型不支持"):
        actions.attach(user=village_cadre, assessment=assessment, uploads=[("form", scan("x.exe"))])
    with pytest.raises(ValidationError, match="内容不是"):
        actions.attach(user=village_cadre, assessment=assessment,
                       uploads=[("form", SimpleUploadedFile("表.pdf", b"MZ\x90\x00 program"))])  # fmt: skip
    actions.attach(user=village_cadre, assessment=assessment, uploads=[("photo", scan("入户照片.pdf"))])
    with pytest.raises(ValidationError, match="请说明分类理由"):
        actions.advance(
            user=village_cadre, assessment=assessment, checklist=checklist(assessment), class_code="stable"
        )
    with pytest.raises(ValidationError, match="分类类别应为"):
        actions.advance(user=village_cadre, assessment=assessment, checklist=checklist(assessment),
                        class_code="exit", reason="x")  # fmt: skip
    actions.advance(user=village_cadre, assessment=assessment, checklist=checklist(assessment), class_code="stable",
                    reason="2026年起长期在外务工，收入稳定")  # fmt: skip
    assessment.refresh_from_db()
    assert (assessment.proposed_class, assessment.reason) == ("stable", "2026年起长期在外务工，收入稳定")
    assert assessment.events.last().class_label == "稳定脱贫户"


def test_a_return_goes_one_step_back_with_its_reason(county, village_cadre, township_reviewer):
    assessment = actions.start(user=village_cadre, household=hh("K01"))
    with pytest.raises(ValidationError, match="第一个环节"):
        actions.return_assessment(user=village_cadre, assessment=assessment, reason="重新评估")
    village_done(assessment, village_cadre)
    with pytest.raises(ValidationError, match="理由"):
        actions.return_assessment(user=township_reviewer, assessment=assessment, reason="  ")
    with pytest.raises(PermissionDenied):
        actions.return_assessment(user=village_cadre, assessment=assessment, reason="不是本村的环节")
    actions.return_assessment(user=township_reviewer, assessment=assessment, reason="务工收入无佐证，请补充")
    assessment.refresh_from_db()
    assert (assessment.step, assessment.status) == ("assess", "returned")
    assert assessment.events.last().note == "务工收入无佐证，请补充"
    # the village completes it again (its earlier upload still stands): back in work at the township
    actions.advance(user=village_cadre, assessment=assessment, checklist=checklist(assessment))
    assert (assessment.step, assessment.status) == ("township_review", "open")


def test_the_clocks_of_the_regime_with_frozen_time(
    county, village_cadre, township_reviewer, client, time_machine
):
    assessment = actions.start(user=village_cadre, household=hh("K01"))
    days = FLOW.step("assess").days
    time_machine.shift(dt.timedelta(days=days - 1))
    tick = actions.clock(assessment)
    assert not tick.step_overdue and tick.remaining_days == pytest.approx(
        FLOW.total_days - days + 1, abs=0.05
    )
    assert not Assessment.objects.filter(actions.overdue_filter()).exists()
    time_machine.shift(dt.timedelta(days=2))
    tick = actions.clock(assessment)
    assert (
        tick.step_overdue and not tick.overdue and tick.step_elapsed_days == pytest.approx(days + 1, abs=0.05)
    )
    assert list(Assessment.objects.filter(actions.overdue_filter())) == [assessment]
    village_done(assessment, village_cadre)  # a new step starts its own clock
    assert not actions.clock(assessment).step_overdue
    time_machine.shift(dt.timedelta(days=FLOW.total_days))
    assert actions.clock(assessment).overdue
    client.force_login(township_reviewer)
    page = client.get(reverse("classification:list") + "?overdue=1", **HOST).content.decode()
    assert "张*国户（K01）" in page and "全程超时" in page


def test_under_the_2025_regime_start_is_refused_and_the_pages_say_so(regions, tmp_path, time_machine, village_cadre,
                                                                      client):  # fmt: skip
    from fangpin.registry.importer import import_register

    time_machine.move_to(BEFORE)
    assert import_register(builders.write_xlsx(tmp_path / "r.xlsx", rows())).ok
    with pytest.raises(ValidationError, match=r"过渡期口径.*不在本口径的工作内容中"):
        actions.start(user=village_cadre, household=hh("K01"))
    village = Region.objects.get(code=builders.VILLAGE_A1)
    with pytest.raises(ValidationError, match="不在本口径"):
        actions.start_village(user=village_cadre, village=village)
    client.force_login(village_cadre)
    for name in ("classification:list", "classification:progress"):
        page = client.get(reverse(name), **HOST).content.decode()
        assert "分类管理不属于本口径的工作内容" in page and "为本村全部脱贫户发起分类评估" not in page
    page = client.get(reverse("registry:household_detail", args=[hh("K01").pk]), **HOST).content.decode()
    assert "按过渡期口径（2021–2025年）不开展分类评估" in page and "发起分类评估" not in page
    response = client.post(reverse("classification:start", args=[hh("K01").pk]), **HOST)
    assert response.status_code == 302 and not Assessment.objects.exists()


PROVINCE = """
code = "2026-14"
label = "本省常态化防止返贫致贫机制"
short_label = "本省常态化口径（2026年7月起）"
province = "14"
from = "2026-07-01"
categories = ["边缘易致贫户"]
population = "rural"

[standard]
label = "本省认定标准"
income = "disposable"
line = "monitoring_line"
confirmed = true

[accounting]
code = "province_2026"
label = "本省收支核算口径"
version = "2026.7"
formula = "disposable"
confirmed = true

[classification]
enabled = true
label = "本省脱贫人口分类管理"
population = "脱贫户"
total_days = 12
confirmed = true
source = "本省通知"

[[classification.class]]
code = "exit"
label = "退出帮扶户"
description = "收入稳定，退出帮扶政策"
exits = true
suggest_when = ["otherwise"]

[[classification.class]]
code = "keep"
label = "巩固帮扶户"
description = "继续落实帮扶政策"
suggest_when = ["no_labour", "open_risk", "low_income"]

[[classification.step]]
code = "village"
label = "村评估"
owner = ["village"]
days = 7
checklist = ["入户评估"]

[[classification.step]]
code = "county"
label = "县审定"
owner = ["county_staff"]
days = 5
checklist = ["审定"]
"""


def test_a_province_regime_with_other_classes_changes_the_options_and_a_decision_keeps_its_own(
    county, village_cadre, township_reviewer, county_staff, client, settings, tmp_path, time_machine
):
    old = actions.start(user=village_cadre, household=hh("K01"))
    village_done(old, village_cadre)
    actions.advance(user=township_reviewer, assessment=old, checklist=checklist(old))
    actions.advance(user=county_staff, assessment=old, checklist=checklist(old), carried=[])
    (tmp_path / "regimes").mkdir()
    (tmp_path / "regimes" / "2026-14.toml").write_text(PROVINCE, encoding="utf-8")
    settings.FANGPIN_REGIMES_DIR = str(tmp_path / "regimes")
    time_machine.move_to(dt.datetime(2026, 8, 3, 2, 0, tzinfo=dt.UTC))
    new = actions.start(user=village_cadre, household=hh("K02"))
    assert (new.regime, new.step, new.suggested_class) == ("2026-14", "village", "keep")
    assert "5,500.00元低于" in new.suggestion_reason
    client.force_login(village_cadre)
    page = client.get(reverse("classification:detail", args=[new.pk]), **HOST).content.decode()
    assert "巩固帮扶户：继续落实帮扶政策" in page and "退出帮扶户" in page and "持续帮扶户" not in page
    assert "本省常态化口径（2026年7月起）" in page
    # the new regime has no township step: the village hands over to the county directly
    village_done(new, village_cadre)
    assert new.step == "county"
    with pytest.raises(ValidationError, match="分类类别应为退出帮扶户、巩固帮扶户之一"):
        actions.advance(
            user=county_staff, assessment=new, checklist=["审定"], class_code="stable", carried=[]
        )
    # the March decision keeps its regime, its steps and its class as named then
    old.refresh_from_db()
    assert (old.regime, old.final_class_label) == ("2026", "稳定脱贫户")
    page = client.get(reverse("classification:detail", args=[old.pk]), **HOST).content.decode()
    assert "稳定脱贫户" in page and "办理口径：常态化口径（2026年起）" in page and "乡镇审核" in page
    progress = client.get(reverse("classification:progress"), **HOST).content.decode()
    assert "退出帮扶户" in progress and "村评估" in progress


def measure(household: Household, group: str, item: str, user) -> Measure:  # type: ignore[no-untyped-def]
    return Measure.objects.create(household=household, region_code=household.region_code, group=group, item=item,
                                  start=dt.date(2025, 5, 1), created_by=user)  # fmt: skip


def test_the_county_decides_which_measures_carry_over(county, village_cadre, township_reviewer, county_staff):
    household = hh("K01")
    dividend = measure(household, "产业帮扶", "资产收益分红", county_staff)
    training = measure(household, "就业帮扶", "职业技能培训", county_staff)
    assessment = actions.start(user=village_cadre, household=household)
    village_done(assessment, village_cadre)
    actions.advance(user=township_reviewer, assessment=assessment, checklist=checklist(assessment))
    with pytest.raises(ValidationError, match="明确延续的帮扶措施"):
        actions.advance(user=county_staff, assessment=assessment, checklist=checklist(assessment))
    # a class that does not exit keeps every running measure: leaving one out is refused
    with pytest.raises(ValidationError, match=r"持续帮扶户不退出帮扶政策.*职业技能培训"):
        actions.advance(user=county_staff, assessment=assessment, checklist=checklist(assessment),
                        class_code="support", reason="收入主要靠分红", carried=[dividend.pk])  # fmt: skip
    with pytest.raises(ValidationError, match="正在实施的措施"):
        actions.advance(user=county_staff, assessment=assessment, checklist=checklist(assessment),
                        carried=[dividend.pk, 999999])  # fmt: skip
    actions.advance(
        user=county_staff, assessment=assessment, checklist=checklist(assessment), carried=[dividend.pk]
    )
    assessment.refresh_from_db()
    assert (assessment.carried_measures, assessment.ended_measures) == ([dividend.pk], [training.pk])
    dividend.refresh_from_db()
    training.refresh_from_db()
    assert dividend.end is None and training.end == dt.date(2026, 3, 2)
    assert AuditEntry.objects.filter(model="monitoring.Measure", object_id=str(training.pk), action="update",
                                     after__end="2026-03-02").exists()  # fmt: skip


def test_batch_start_for_a_village(county, village_cadre, other_village_cadre, township_reviewer, client):
    village = Region.objects.get(code=builders.VILLAGE_A1)
    with pytest.raises(PermissionDenied):
        actions.start_village(user=other_village_cadre, village=village)
    with pytest.raises(PermissionDenied):
        actions.start_village(user=township_reviewer, village=village)  # the first step is the village's
    first = actions.start(user=village_cadre, household=hh("K01"))
    result = actions.start_village(user=village_cadre, village=village)
    assert (result.started, result.already_open, result.already_decided) == (2, 1, 0)
    assert set(Assessment.objects.values_list("household__household_no", flat=True)) == {"K01", "K02", "K03"}
    assert first.events.count() == 1
    client.force_login(village_cadre)
    page = client.get(reverse("classification:list"), **HOST).content.decode()
    assert "为本村全部脱贫户发起分类评估" in page
    response = client.post(reverse("classification:start_village"), follow=True, **HOST)
    assert "已为东关村0户脱贫户发起分类评估；3户已在办理" in response.content.decode()
    assert Assessment.objects.count() == 3


def test_progress_by_township_counted_by_hand(
    county, village_cadre, village_a2, township_reviewer, county_staff, supervisor, client, time_machine
):
    # 古绛镇: K01 approved 稳定脱贫户, K02 at the township, K03 at the village (overdue), K05 at the village;
    # 横水镇: K06 not started
    k01 = actions.start(user=village_cadre, household=hh("K01"))
    village_done(k01, village_cadre)
    actions.advance(user=township_reviewer, assessment=k01, checklist=checklist(k01))
    actions.advance(user=county_staff, assessment=k01, checklist=checklist(k01), carried=[])
    k03 = actions.start(user=village_cadre, household=hh("K03"))
    time_machine.shift(dt.timedelta(days=FLOW.step("assess").days + 1))
    k02 = actions.start(user=village_cadre, household=hh("K02"))
    village_done(k02, village_cadre)
    actions.start(user=village_a2, household=hh("K05"))
    assert k03.step == "assess"
    by_name = {r["name"]: r for r in progress_rows(supervisor, by_code("2026"))}
    assert by_name["古绛镇"] == {
        "code": builders.TOWNSHIP_A[:9], "name": "古绛镇", "households": 4, "started": 4, "overdue": 1,
        "steps": [2, 1, 0], "classes": [1, 0, 0],
    }  # fmt: skip
    assert by_name["横水镇"]["households"] == 1 and by_name["横水镇"]["started"] == 0
    # a township sees its own row only; the page shows the same figures
    assert [r["name"] for r in progress_rows(township_reviewer, by_code("2026"))] == ["古绛镇"]
    client.force_login(supervisor)
    page = client.get(reverse("classification:progress"), **HOST).content.decode()
    assert "古绛镇" in page and "横水镇" in page and "稳定脱贫户" in page and "乡镇审核" in page
    # the list's filters: township and step, class and status, overdue
    listed = {
        query: {a.household.household_no for a in client.get(reverse("classification:list") + query, **HOST).context["page"]}
        for query in (f"?township={builders.TOWNSHIP_A[:9]}&step=assess", "?cls=stable&status=approved",
                      f"?village={builders.VILLAGE_A2}", "?overdue=1", f"?township={builders.TOWNSHIP_B[:9]}")
    }  # fmt: skip
    assert listed == {
        f"?township={builders.TOWNSHIP_A[:9]}&step=assess": {"K03", "K05"}, "?cls=stable&status=approved": {"K01"},
        f"?village={builders.VILLAGE_A2}": {"K05"}, "?overdue=1": {"K03"}, f"?township={builders.TOWNSHIP_B[:9]}": set(),
    }  # fmt: skip


def test_every_page_and_action_is_scoped_and_the_supervisor_only_reads(
    county, village_cadre, other_village_cadre, supervisor, client
):
    assessment = actions.start(user=village_cadre, household=hh("K01"))
    actions.attach(user=village_cadre, assessment=assessment, uploads=[("form", scan())])
    file = assessment.attachments.get()
    client.force_login(other_village_cadre)
    assert client.get(reverse("classification:detail", args=[assessment.pk]), **HOST).status_code == 404
    assert client.get(reverse("classification:attachment", args=[file.pk]), **HOST).status_code == 404
    assert client.post(reverse("classification:advance", args=[assessment.pk]), **HOST).status_code == 404
    assert "K01" not in client.get(reverse("classification:list"), **HOST).content.decode()
    assert client.post(reverse("classification:start", args=[hh("K01").pk]), **HOST).status_code == 404
    client.force_login(supervisor)
    page = client.get(reverse("classification:detail", args=[assessment.pk]), **HOST).content.decode()
    assert "张*国户（K01）" in page and "张建国" not in page
    assert "advance-form" not in page and "upload-form" not in page and "本环节由村级/驻村工作队办理" in page
    response = client.post(reverse("classification:advance", args=[assessment.pk]),
                           {"checklist": checklist(assessment)}, **HOST)  # fmt: skip
    assert response.status_code == 403 and Assessment.objects.get().step == "assess"
    assert client.post(reverse("classification:start_village"), **HOST).status_code == 403
    response = client.get(reverse("classification:attachment", args=[file.pk]), **HOST)
    assert response.status_code == 200
    assert AuditEntry.objects.filter(
        action="sensitive_read", model="classification.AssessmentAttachment"
    ).exists()
    listing = client.get(reverse("classification:list"), **HOST).content.decode()
    assert "张*国户（K01）" in listing and "张建国" not in listing and "为本村全部" not in listing


def test_the_pages_walk_an_assessment_and_the_household_page_shows_it(
    county, village_cadre, township_reviewer, county_staff, client
):
    client.force_login(village_cadre)
    household = hh("K02")
    page = client.get(reverse("registry:household_detail", args=[household.pk]), **HOST).content.decode()
    assert "脱贫人口分类：尚未评估" in page and "发起分类评估" in page
    response = client.post(reverse("classification:start", args=[household.pk]), **HOST)
    assessment = Assessment.objects.get(household=household)
    assert response.url == reverse("classification:detail", args=[assessment.pk])
    page = client.get(response.url, **HOST).content.decode()
    for text in ("经济状况", "自我发展能力", "来源：农户台账", "系统建议：<b>持续帮扶户</b>", "待核实", "建议规则",
                 "村级评估", "advance-form", "upload-form"):  # fmt: skip
        assert text in page, text
    client.post(
        reverse("classification:upload", args=[assessment.pk]), {"kind": "form", "file": scan()}, **HOST
    )
    client.post(reverse("classification:advance", args=[assessment.pk]),
                {"checklist": list(FLOW.step("assess").checklist), "class_code": "support"}, **HOST)  # fmt: skip
    assessment.refresh_from_db()
    assert assessment.step == "township_review"
    client.force_login(township_reviewer)
    client.post(reverse("classification:return", args=[assessment.pk]), {"reason": "请补充务工证明"}, **HOST)
    assessment.refresh_from_db()
    assert (assessment.step, assessment.status) == ("assess", "returned")
    client.force_login(village_cadre)
    page = client.get(reverse("classification:detail", args=[assessment.pk]), **HOST).content.decode()
    assert "从“乡镇审核”退回：请补充务工证明" in page and "村级评估（已退回）" in page
    client.post(reverse("classification:advance", args=[assessment.pk]),
                {"checklist": list(FLOW.step("assess").checklist), "class_code": "support"}, **HOST)  # fmt: skip
    client.force_login(township_reviewer)
    client.post(reverse("classification:advance", args=[assessment.pk]),
                {"checklist": list(FLOW.step("township_review").checklist)}, **HOST)  # fmt: skip
    client.force_login(county_staff)
    client.post(reverse("classification:advance", args=[assessment.pk]),
                {"checklist": list(FLOW.step("county_approval").checklist), "class_code": "support", "decide": "1"},
                **HOST)  # fmt: skip
    assessment.refresh_from_db()
    assert assessment.final_class_label == "持续帮扶户"
    page = client.get(reverse("registry:household_detail", args=[household.pk]), **HOST).content.decode()
    assert "脱贫人口分类：" in page and "持续帮扶户（2026-03-02县级审定）" in page
    monitored = client.get(reverse("monitoring:monitored"), **HOST).content.decode()
    assert reverse("classification:list") in monitored


def test_a_closed_assessment_may_be_started_again_and_only_the_county_closes(
    county, village_cadre, county_staff
):
    assessment = actions.start(user=village_cadre, household=hh("K01"))
    with pytest.raises(PermissionDenied):
        actions.close(user=village_cadre, assessment=assessment, reason="误发起")
    with pytest.raises(ValidationError, match="终止须说明理由"):
        actions.close(user=county_staff, assessment=assessment, reason="")
    actions.close(user=county_staff, assessment=assessment, reason="户籍已迁出本县")
    assert Assessment.objects.get().status == "closed"
    again = actions.start(user=village_cadre, household=hh("K01"))
    assert again.pk != assessment.pk and again.is_open
    # an identification case open on the household is a risk the facts name
    monitoring_actions.open_case(user=village_cadre, household=hh("K02"), source="cadre",
                                 proposed_category="边缘易致贫户", risk_types="因病")  # fmt: skip
    risky = actions.start(user=village_cadre, household=hh("K02"))
    risk = next(f for f in risky.facts if f["label"] == "返贫致贫风险")
    assert "有办理中的识别纳入程序" in risk["value"] and risky.signals["open_risk"]
