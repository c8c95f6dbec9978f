"""The monitoring loop in Chromium, each step by the user who owns it: a village user verifies a warning at
home and opens a case; the county compares; the village appraises and runs the notice (an objection
recorded and answered, the PDF downloaded); the township reviews; the county approves; the township pairs
a cadre, the village adds a measure, the cadre records a visit; an elimination is refused for a stated
reason, passes after a visit changes the facts, and is approved along the same path."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.cli_helpers import fangpin


def shell(demo_server, code: str) -> str:
    return fangpin(demo_server["data"], "shell", "-c", code).stdout.strip().splitlines()[-1]


def notice_period_passes(demo_server, case_id: str) -> None:
    """Five days go by (the server's clock is real, so the notice start is moved back instead)."""
    shell(demo_server, "import datetime as dt; from fangpin.monitoring.models import Case; "
                       f"c = Case.objects.get(pk={case_id}); "
                       "Case.objects.filter(pk=c.pk).update(step_started_at=c.step_started_at - dt.timedelta(days=6)); print('ok')")  # fmt: skip


def complete_step(page, expected_next: str = "") -> None:
    """Tick the whole evidence checklist and finish the step; the case should then be at expected_next."""
    form = page.locator("#advance-form")
    for box in form.locator("input[type=checkbox]").all():
        box.check()
    form.get_by_role("button", name="完成本环节").click()
    if expected_next:
        expect(page.locator("#case-status")).to_have_text(expected_next)


def as_user(page, username: str, url: str) -> None:
    page.context.clear_cookies()
    login(page, username)
    page.goto(url)


def test_from_warning_to_identification_assistance_and_elimination(page, demo_server):
    base = demo_server["url"]
    # 1. the village verifies a warning at home and opens a case
    login(page, "cun_demo")
    page.get_by_role("link", name="线索库").click()
    row = page.locator("#warning-table tbody tr", has_text="未纳入监测").first
    head = row.locator("td").first.inner_text()
    row.get_by_role("button", name="入户核查").click()
    form = page.locator("#verify-form")
    form.get_by_label("核查结果").select_option(label="确认有风险")
    form.get_by_label("核查情况").fill("入户核实：户主患慢性病，务工收入减少，人均纯收入低于监测范围")
    form.locator("select[name$='-health']").first.select_option("长期慢性病")
    form.get_by_role("button", name="保存核查结果").click()
    expect(page.locator("#clue-outcome")).to_contain_text("确认有风险")
    page.locator("#open-case").click()
    page.get_by_label("拟认定类别").select_option("边缘易致贫户")
    page.get_by_label("因病").check()
    page.get_by_role("button", name="发起").click()
    expect(page.locator("#case-status")).to_have_text("信息比对")
    case_url = page.url
    assert re.search(r"/cases/(\d+)/", case_url), case_url
    case_id = re.search(r"/cases/(\d+)/", case_url).group(1)
    expect(page.locator("#waiting")).to_contain_text("县级业务员")  # not the village's step
    expect(page.locator("#advance-form")).to_have_count(0)

    # 2. the county compares
    as_user(page, "xian_staff", case_url)
    complete_step(page, "村民主评议")

    # 3. the village appraises and runs the notice; an objection is recorded and answered
    as_user(page, "cun_demo", case_url)
    complete_step(page, "村内公示")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.get_by_label("异议内容").fill("反映该户家中有货车")
    page.get_by_role("button", name="登记异议").click()
    page.locator(".answer-form textarea").fill("经核实，货车已于去年出售，有交易凭证")
    page.locator(".answer-form").get_by_role("button", name="答复").click()
    expect(page.locator("#objections")).to_contain_text("货车已于去年出售")
    complete_step(page)
    expect(page.locator(".messages")).to_contain_text("不少于5天")
    notice_period_passes(demo_server, case_id)
    page.reload()
    complete_step(page, "乡镇审核")

    # 4. the township reviews, 5. the county approves
    as_user(page, "zhen_gujiang", case_url)
    complete_step(page, "县级审定")
    as_user(page, "xian_staff", case_url)
    complete_step(page, "已办结")
    page.get_by_role("link", name=re.compile(head)).first.click()
    expect(page.locator("h1 .tag.warn")).to_have_text("边缘易致贫户")
    expect(page.locator("#timeline")).to_contain_text("纳入监测")
    household_url = page.url
    household_id = re.search(r"/households/(\d+)/", household_url).group(1)
    assistance_url = f"{base}/cases/households/{household_id}/"

    # 6. the township pairs a cadre, the village adds a measure, the cadre records a visit
    as_user(page, "zhen_gujiang", assistance_url)
    cadre = page.locator("#pairing select option", has_text="帮扶责任人（帮扶责任人，")
    expect(cadre).to_contain_text(re.compile(r"已结对\d+户"))  # the cadre's load is shown
    page.locator("#pairing select").select_option(cadre.get_attribute("value"))
    page.locator("#pairing").get_by_role("button", name="安排").click()
    expect(page.locator("#pairing")).to_contain_text("帮扶责任人")
    as_user(page, "cun_demo", assistance_url)
    expect(page.locator("#problems")).to_contain_text("因病")  # the risk has no measure yet
    page.locator("#measure-form").get_by_label("帮扶措施").select_option("健康帮扶|医疗救助")
    page.locator("#measure-form").get_by_label("资金（元）").fill("3000")
    page.locator("#measure-form").get_by_role("button", name="保存措施").click()
    expect(page.locator("#measure-table")).to_contain_text("医疗救助")
    expect(page.locator("#problems")).not_to_contain_text("风险“因病”")
    as_user(page, "bangfu_demo", assistance_url)
    page.locator("#new-visit").click()
    page.get_by_label("走访记录（宣传政策、了解需求、帮办事项）").fill("宣传医疗救助政策，了解就业意愿")
    page.get_by_role("button", name="保存走访").click()
    expect(page.locator("#visits")).to_contain_text("宣传医疗救助政策")

    # 7. an elimination fails for a stated reason, passes after a visit, and is approved
    ready_id = shell(demo_server, "from fangpin.registry.models import Household; from fangpin.accounts.models import User; "
                                  "v = User.objects.get(username='cun_demo').region; "
                                  "print(Household.objects.filter(region_code=v.code, safe_drinking_water=False, risk_eliminated=False)"
                                  ".exclude(monitoring_category='').exclude(identified_month__startswith='2026').first().pk)")  # fmt: skip
    ready_url = f"{base}/cases/households/{ready_id}/"
    as_user(page, "cun_demo", ready_url)
    expect(page.locator("#elimination")).to_contain_text("不符合")
    page.locator("#eliminate-form").get_by_role("button", name="发起风险消除").click()
    expect(page.locator(".messages")).to_contain_text("饮水安全存在问题")
    page.locator("#new-visit").click()
    page.locator("select[name='h-safe_drinking_water']").select_option("true")
    page.get_by_label("家庭情况有何变化").fill("自来水管道已修复")
    page.get_by_label("走访记录（宣传政策、了解需求、帮办事项）").fill("查看供水入户正常")
    page.get_by_role("button", name="保存走访").click()
    expect(page.locator("#elimination")).not_to_contain_text("不符合")
    page.locator("#eliminate-form").get_by_role("button", name="发起风险消除").click()
    expect(page.locator("#case-status")).to_have_text("入户核实")
    elimination_url = page.url
    elimination_id = re.search(r"/cases/(\d+)/", elimination_url).group(1)
    complete_step(page, "村民主评议")
    complete_step(page, "村内公示")
    notice_period_passes(demo_server, elimination_id)
    page.reload()
    complete_step(page, "乡镇审核（验收）")
    as_user(page, "zhen_gujiang", elimination_url)
    complete_step(page, "县级审定")
    as_user(page, "xian_staff", elimination_url)
    complete_step(page, "已办结")
    page.goto(ready_url)
    expect(page.locator("h1")).to_contain_text("风险已消除")

    # each user sees only their own region
    other = shell(demo_server, "from fangpin.registry.models import Household; from fangpin.accounts.models import User; "
                               "v = User.objects.get(username='cun_demo').region; "
                               "print(Household.objects.exclude(region_code=v.code).exclude(monitoring_category='').first().pk)")  # fmt: skip
    as_user(page, "cun_demo", f"{base}/cases/households/{other}/")
    expect(page.locator("body")).not_to_contain_text("帮扶计划政策核验")
    page.goto(f"{base}/cases/monitored/?state=all")
    village = page.locator(".who span").inner_text().split("·")[-1].strip()
    names = page.locator("#monitored-table tbody tr td:nth-child(2)").all_inner_texts()
    assert names and all(village.endswith(n) for n in names), (village, set(names))
