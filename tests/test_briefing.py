"""The briefing (巩固衔接工作情况汇报) against a county counted by hand: its figures equal the dashboard's for
the same scope and day, the comparison with the last briefing, the overdue steps as they stood at the
period's end, the rectification items by township, scoping, A4 and the charts; a county's own template
refused with the bad tag named, or used."""

from __future__ import annotations

import datetime as dt
import io

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Role
from fangpin.audit.models import AuditEntry
from fangpin.monitoring.models import Case, CaseEvent, Visit
from fangpin.rectification import actions as rectification
from fangpin.rectification.models import Item
from fangpin.regions.models import Region
from fangpin.registry.models import Household
from fangpin.reports import actions, briefing, figures, views
from fangpin.rules.models import Finding, ScreeningRun
from tests import builders
from tests.builders import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.conftest import PASSWORD

# The county by hand (period: the last 30 days; last briefing: two days ago):
#   H001 东关村 边缘易致贫户 2人 因病, open;  H002 西街村 脱贫不稳定户 1人 因残, open, visited yesterday
#   H003 柳庄村 2人: not monitored two days ago, 边缘易致贫户 因学 open today
#   H004 东关村 突发严重困难户 3人, eliminated
# Two days ago: monitored 3 households 6 people, open 2, eliminated 1, visits overdue 2 (H001, H004).
# Today: monitored 4 households 8 people (边缘易致贫户 2户4人), open 3 (5 people), overdue 3 (H003 too).
# Warnings (5 days ago): 医保 ×2 (one confirmed, one no risk), 残联 ×1 unverified; today: 医保 ×1 more.
# Cases: A on H001 (古绛镇) in 入户核查 since 9 days ago (limit 3 days) → overdue today, not 8 days ago;
#        B on H003 (横水镇) 线索 done yesterday, so 8 days ago it sat in 线索 (limit 1 day) → overdue then.
# Rectification: 东关村 open, 西街村 销号 yesterday, 横水镇 open past its deadline, the county itself open.


def _today() -> dt.date:
    return timezone.localdate()


MONITORING = {
    "H001": {"monitoring_category": "边缘易致贫户", "risk_types": "因病", "risk_eliminated": False},
    "H002": {"monitoring_category": "脱贫不稳定户", "risk_types": "因残", "risk_eliminated": False},
    "H004": {"monitoring_category": "突发严重困难户", "risk_types": "因病、因学", "risk_eliminated": True,
             "elimination_method": "帮扶消除", "eliminated_month": "202506"},
}  # fmt: skip


def _warning(household, rule_id: str, created: dt.datetime, outcome: str = "") -> None:
    run = ScreeningRun.objects.first() or ScreeningRun.objects.create(as_of=created.date(), engine="duckdb")
    finding = Finding.objects.create(rule_id=rule_id, rule_version="1", family="部门预警", severity="警告",
                                     household=household, region_code=household.region_code, message="预警",
                                     first_run=run, last_run=run, outcome=outcome,
                                     outcome_at=created + dt.timedelta(hours=2) if outcome else None,
                                     status="verified" if outcome else "open")  # fmt: skip
    Finding.objects.filter(pk=finding.pk).update(created_at=created)


def _case(household, user, opened: dt.datetime, clue_done: dt.datetime) -> Case:
    case = Case.objects.create(household=household, region_code=household.region_code, kind="identification",
                               step="verify", step_started_at=clue_done, opened_by=user, opened_at=opened,
                               proposed_category="边缘易致贫户")  # fmt: skip
    CaseEvent.objects.create(case=case, step="clue", action="opened", user=user, at=opened)
    CaseEvent.objects.create(case=case, step="clue", action="done", user=user, at=clue_done)
    return case


@pytest.fixture
def county(regions, tmp_path, county_staff, settings):
    from fangpin.registry.importer import import_register

    settings.MEDIA_ROOT = tmp_path / "files"
    result = import_register(builders.write_xlsx(tmp_path / "register.xlsx", builders.reports_county()))
    assert result.ok, [str(p) for p in result.problems]
    h = {x.household_no: x for x in Household.objects.all()}
    for number, fields in MONITORING.items():
        for name, value in {**fields, "identified_month": "202501"}.items():
            setattr(h[number], name, value)
        h[number].save()
    now = timezone.now()
    Visit.objects.create(household=h["H002"], region_code=VILLAGE_A2, visitor=county_staff,
                         visited_on=_today() - dt.timedelta(days=1), notes="走访")  # fmt: skip
    five_days_ago = now - dt.timedelta(days=5)
    _warning(h["H001"], "DEPT_MEDICAL_SELF_PAY_POVERTY", five_days_ago, "confirmed")
    _warning(h["H003"], "DEPT_MEDICAL_SELF_PAY_OTHER", five_days_ago, "no_risk")
    _warning(h["H004"], "DEPT_DISABILITY_NEW_OR_UPGRADED", five_days_ago)
    _case(h["H001"], county_staff, now - dt.timedelta(days=10), now - dt.timedelta(days=9))
    _case(h["H003"], county_staff, now - dt.timedelta(days=10), now - dt.timedelta(days=1))
    actions.refresh_facts(now=now - dt.timedelta(days=2))  # what fangpin knew two days ago
    h003 = h["H003"]
    h003.monitoring_category, h003.risk_types, h003.risk_eliminated = "边缘易致贫户", "因学", False
    h003.identified_month = "202501"
    h003.save()
    _warning(h["H002"], "DEPT_MEDICAL_SELF_PAY_POVERTY", now)
    batch = rectification.create_batch(user=county_staff, name="省督导组反馈问题", source="supervision",
                                       region=county_staff.region)  # fmt: skip
    for code, deadline in ((VILLAGE_A1, 10), (VILLAGE_A2, 10), (TOWNSHIP_B, -1), (COUNTY, 30)):
        rectification.add_item(user=county_staff, batch=batch, description=f"问题{code}",
                               responsible_unit="乡镇人民政府", region=Region.objects.get(code=code),
                               deadline=_today() + dt.timedelta(days=deadline))  # fmt: skip
    Item.objects.filter(region_code=VILLAGE_A2).update(status="closed", closed_at=now - dt.timedelta(days=1))
    actions.refresh_facts()
    return h


def _period() -> dict[str, str]:
    today = _today()
    return {"start": f"{today - dt.timedelta(days=30)}", "end": f"{today}",
            "last": f"{today - dt.timedelta(days=2)}"}  # fmt: skip


def _download(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("reports:briefing_download"), {**_period(), **params})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == briefing.DOCX_TYPE and ".docx" in response["Content-Disposition"]
    return docx.Document(io.BytesIO(response.content))


def _text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def _table(document, *header: str) -> list[list[str]]:
    """The rows (after the header) of the table whose header row starts with `header`."""
    for table in document.tables:
        cells = [c.text for c in table.rows[0].cells]
        if tuple(cells[: len(header)]) == header:
            return [[c.text for c in row.cells] for row in table.rows[1:]]
    raise AssertionError(f"no table {header}: {[[c.text for c in t.rows[0].cells] for t in document.tables]}")


def test_the_county_briefing_holds_the_hand_counted_figures_and_the_dashboards(client, county, county_admin):
    document = _download(client, county_admin)
    text = _text(document)
    today, region = _today(), Region.objects.get(code=COUNTY)
    # by hand
    assert "绛县巩固衔接工作情况汇报" in text
    assert "系统内共有农户4户8人，纳入防止返贫致贫监测对象4户8人" in text
    assert "脱贫不稳定户1户1人、边缘易致贫户2户4人、突发严重困难户1户3人" in text
    assert "风险未消除3户5人，风险已消除1户3人" in text
    assert _table(document, "类别") == [["脱贫不稳定户", "1", "1"], ["边缘易致贫户", "2", "4"],
                                        ["突发严重困难户", "1", "3"], ["合计", "4", "8"]]  # fmt: skip
    assert _table(document, "乡镇", "监测户") == [["古绛镇", "3", "6", "2", "1"], ["横水镇", "1", "2", "1", "0"],
                                                ["合计", "4", "8", "3", "1"]]  # fmt: skip
    assert "共推送部门预警4条，核实2条，其中确认有风险1条；发起识别纳入程序2户" in text
    assert _table(document, "部门") == [["医保", "3", "2", "1", "1", "50.0%"], ["残联", "1", "0", "0", "0", "—"],
                                        ["合计", "4", "2", "1", "1", "50.0%"]]  # fmt: skip
    assert "超过规定时限未办结的环节1个（识别纳入1个、风险消除0个），超过走访周期未走访的监测户3户" in text
    assert _table(document, "乡镇", "识别纳入环节逾期") == [["古绛镇", "1", "0", "2"], ["横水镇", "0", "0", "1"],
                                                          ["合计", "1", "0", "3"]]  # fmt: skip
    assert _table(document, "程序", "环节") == [["识别纳入", "入户核查", "1", "6"]]  # 9 days in a 3-day step
    assert "纳入整改台账的问题共4个，已整改销号1个，未销号3个（其中超过整改时限1个），销号率25%" in text
    assert _table(document, "乡镇", "问题数") == [["绛县本级", "1", "0", "1", "0"], ["古绛镇", "2", "1", "1", "0"],
                                                ["横水镇", "1", "0", "1", "1"], ["合计", "4", "1", "3", "1"]]  # fmt: skip
    # and the dashboard's own figures for the same scope and day
    overview = figures.overview(region, today)
    assert (
        f"纳入防止返贫致贫监测对象{overview.monitored['households']}户{overview.monitored['people']}人"
        in text
    )
    pipeline = figures.pipeline(region, today - dt.timedelta(days=30), today)
    assert f"共推送部门预警{pipeline['warning_raised']}条，核实{pipeline['warning_verified']}条" in text
    _, children = figures.children(region, today)
    assert [[c["name"], str(c["households"])] for c in children] == [
        r[:2] for r in _table(document, "乡镇", "监测户")[:-1]
    ]
    changes = {r[0]: r[1:] for r in _table(document, "指标")}
    assert changes["走访逾期（户）"][1] == str(overview.monitored["overdue"])
    # A4 portrait, the two charts as pictures, an 导出 entry
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert len(document.inline_shapes) == 2
    pictures = [p for p in document.part.package.parts if p.partname.startswith("/word/media/")]
    assert len(pictures) == 2 and all(p.blob.startswith(b"\x89PNG") for p in pictures)
    entry = AuditEntry.objects.get(action="export", model="reports.Briefing")
    assert entry.region_code == COUNTY and "上次汇报日期" in entry.detail


def test_the_comparison_with_the_last_briefing_reads_the_counts_of_that_day(client, county, county_admin):
    document = _download(client, county_admin)
    changes = {r[0]: r[1:] for r in _table(document, "指标")}
    assert changes["监测户数（户）"] == ["3", "4", "增加1"]
    assert changes["监测人数（人）"] == ["6", "8", "增加2"]
    assert changes["风险未消除（户）"] == ["2", "3", "增加1"]
    assert changes["风险已消除（户）"] == ["1", "1", "持平"]
    assert changes["走访逾期（户）"] == ["2", "3", "增加1"]
    assert changes["整改未销号问题（个）"] == ["0", "3", "增加3"]  # none was raised two days ago
    text = _text(document)
    assert "新推送部门预警1条，识别纳入监测对象0户" in text  # only today's warning is after the last briefing
    assert "新增问题4个，新销号1个" in text
    last = _today() - dt.timedelta(days=2)
    then = figures.overview(Region.objects.get(code=COUNTY), last)
    assert changes["监测户数（户）"][0] == str(then.monitored["households"])
    # the same last date asked again after more changes gives the same "then"
    h001 = county["H001"]
    h001.monitoring_category = ""
    h001.save()
    actions.refresh_facts()
    again = {r[0]: r[1:] for r in _table(_download(client, county_admin), "指标")}
    assert again["监测户数（户）"] == ["3", "3", "持平"]


def test_the_overdue_steps_are_those_of_the_periods_end(county, county_admin):
    region = Region.objects.get(code=COUNTY)
    now = briefing.overdue_steps(county_admin, region, _today())
    assert [(c["region_code"], c["step"]) for c in now] == [(VILLAGE_A1, "入户核查")]
    earlier = briefing.overdue_steps(county_admin, region, _today() - dt.timedelta(days=8))
    assert [(c["region_code"], c["step"]) for c in earlier] == [(VILLAGE_B1, "线索")]
    assert (
        briefing.overdue_steps(county_admin, region, _today() - dt.timedelta(days=11)) == []
    )  # not yet opened


def test_a_township_gets_its_own_briefing_only(client, county, township_reviewer, village_cadre):
    document = _download(client, township_reviewer)
    text = "\n".join([_text(document)] + [c.text for t in document.tables for r in t.rows for c in r.cells])
    assert "古绛镇巩固衔接工作情况汇报" in text and "纳入防止返贫致贫监测对象3户6人" in text
    assert "东关村" in text and "西街村" in text
    assert "柳庄村" not in text and "横水镇" not in text
    assert _table(document, "村", "问题数") == [["东关村", "1", "0", "1", "0"], ["西街村", "1", "1", "0", "0"],
                                              ["合计", "2", "1", "1", "0"]]  # fmt: skip
    entry = AuditEntry.objects.filter(action="export", model="reports.Briefing").latest("seq")
    assert entry.region_code == TOWNSHIP_A
    for region in (TOWNSHIP_B, COUNTY, VILLAGE_B1):
        assert (
            client.get(reverse("reports:briefing_download"), {**_period(), "region": region}).status_code
            == 404
        )
    village = _download(client, village_cadre)
    assert "纳入防止返贫致贫监测对象2户5人" in _text(village)
    cadre = create_user(username="cadre_x", password=PASSWORD, role=Role.CADRE, region_code=VILLAGE_A1)
    client.force_login(cadre)  # a 帮扶责任人 exports nothing
    assert client.get(reverse("reports:briefing_download"), _period()).status_code == 403
    assert client.get(reverse("reports:briefing")).status_code == 403


def test_dates_that_do_not_fit_are_refused_on_the_page(client, county, county_admin):
    client.force_login(county_admin)
    today = _today()
    response = client.get(reverse("reports:briefing_download"),
                          {"start": f"{today - dt.timedelta(days=5)}", "end": f"{today - dt.timedelta(days=3)}",
                           "last": f"{today}"})  # fmt: skip
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "上次汇报日期不能晚于统计期间的结束日期" in page
    assert not AuditEntry.objects.filter(action="export", model="reports.Briefing").exists()


def _template(*paragraphs: str) -> SimpleUploadedFile:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return SimpleUploadedFile("本县模板.docx", out.getvalue())


@pytest.mark.parametrize(
    ("paragraphs", "message"),
    [
        (("监测户{{ monitored_households }户",), "标签“{{ monitored_households }户”写法有误"),
        (("{%p if children %}", "有下级"), "标签“{% if children %}”缺少对应的结束标签"),
        (
            ("共{{ households_total }}户",),
            "标签“{{ households_total }}”引用了不存在的数据项“households_total”",
        ),
        (("{{ cov.nothing }}",), "引用了不存在的数据项“nothing”"),
    ],
)
def test_a_bad_template_is_refused_with_the_tag_named(client, county, county_admin, paragraphs, message):
    client.force_login(county_admin)
    response = client.post(reverse("reports:briefing"), {"template": _template(*paragraphs)}, follow=True)
    page = response.content.decode()
    assert message in page, page[page.find("messages") : page.find("messages") + 600]
    assert not briefing.uploaded_template().exists()
    assert not list(briefing.uploaded_template().parent.glob("*.docx"))  # the trial copy is gone too
    assert not AuditEntry.objects.filter(model=briefing.TEMPLATE_MODEL).exists()


def test_a_file_that_is_no_word_document_is_refused_by_its_content(client, county, county_admin):
    client.force_login(county_admin)
    fake = SimpleUploadedFile("模板.docx", b"%PDF-1.7 not a word file")
    page = client.post(reverse("reports:briefing"), {"template": fake}, follow=True).content.decode()
    assert "内容不是Word文件（实际是PDF文件）" in page
    other = SimpleUploadedFile("模板.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    assert (
        "请上传 .docx 文件"
        in client.post(reverse("reports:briefing"), {"template": other}, follow=True).content.decode()
    )
    assert not briefing.uploaded_template().exists()


def test_a_good_template_is_used_audited_and_the_default_comes_back(
    client, county, county_admin, township_reviewer
):
    client.force_login(township_reviewer)  # only the county administrator changes the template
    assert client.post(reverse("reports:briefing"), {"template": _template("x")}).status_code == 403
    client.force_login(county_admin)
    template = _template("{{ region_name }}专报：监测户{{ monitored_households }}户，走访逾期{{ overdue.visits }}户。",
                         "{%p for r in children %}", "{{ r.name }}风险未消除{{ r.open }}户", "{%p endfor %}")  # fmt: skip
    page = client.post(reverse("reports:briefing"), {"template": template}, follow=True).content.decode()
    assert "已通过检查" in page and "本县上传的模板" in page
    entry = AuditEntry.objects.get(model=briefing.TEMPLATE_MODEL)
    assert entry.action == "update" and "本县模板.docx" in entry.detail and "SHA-256" in entry.detail
    text = _text(_download(client, county_admin))
    assert "绛县专报：监测户4户，走访逾期3户。" in text
    assert "古绛镇风险未消除2户" in text and "横水镇风险未消除1户" in text
    current = client.get(reverse("reports:briefing_template"), {"current": "1"})
    assert "专报" in _text(docx.Document(io.BytesIO(current.content)))
    client.post(reverse("reports:briefing"), {"reset": "1"})
    assert not briefing.uploaded_template().exists()
    assert AuditEntry.objects.filter(model=briefing.TEMPLATE_MODEL, detail="恢复默认汇报材料模板").exists()
    assert "巩固衔接工作情况汇报" in _text(_download(client, county_admin))
    default = client.get(reverse("reports:briefing_template"))
    assert "{{ monitored_households }}" in _text(docx.Document(io.BytesIO(default.content)))


def test_the_shipped_template_renders_the_sample_and_the_charts_use_the_vendored_font():
    from matplotlib.font_manager import FontProperties

    data = briefing.render(briefing.sample(), briefing.DEFAULT_TEMPLATE, strict=True)
    document = docx.Document(io.BytesIO(data))
    assert "示例县巩固衔接工作情况汇报" in _text(document) and "{{" not in _text(document)
    assert (round(document.sections[0].page_width.mm), round(document.sections[0].page_height.mm)) == (
        210,
        297,
    )
    assert FontProperties.get_file(briefing._font()) == str(briefing.FONT_FILE)
    png = briefing.trend_chart(briefing.sample().trend)
    width = int.from_bytes(png[16:20], "big")
    assert png.startswith(b"\x89PNG") and width == 6 * briefing.DPI  # 6 inches at 150 dpi


def test_the_page_offers_the_scope_the_dates_and_the_template(client, county, county_admin):
    client.force_login(county_admin)
    page = client.get(reverse("reports:briefing"), {"region": TOWNSHIP_A}).content.decode()
    assert "生成汇报材料" in page and "上次汇报日期" in page and "下载默认模板" in page
    assert 'name="template"' in page  # the county administrator may upload
    assert f'value="{TOWNSHIP_A}" selected' in page
    assert views._since() is not None
