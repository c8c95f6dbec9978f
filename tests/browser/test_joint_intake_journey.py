"""Joint intake in Chromium (the 2026 regime, in force on the server's day): a village user verifies a clue
at home, sees the 收支核算 with its suggested 低保边缘 referral, ticks 纳入监测 and 转介民政 and saves once,
then opens the identification case; 民政's data officer records 已纳入低保边缘; the township sees the count
on the 转介民政 page of its 线索库."""

from __future__ import annotations

import json
import os

from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, login
from tests.cli_helpers import fangpin

SHOTS = os.environ.get("FANGPIN_SCREENSHOTS", "")

# a household of the demo village with 8,500 元 per person: below the 低保边缘 line (6,600 × 1.5), above 低保
SETUP = """
import json
from decimal import Decimal
from fangpin.accounts.actions import create_user
from fangpin.accounts.models import User
from fangpin.accounts.roles import Department, Role
from fangpin.monitoring.actions import report_clue
from fangpin.registry.facts import _recompute
from fangpin.registry.models import INCOME_COMPONENTS, Household
village = User.objects.get(username="cun_demo")
household = (Household.objects.in_region(village.region).filter(monitoring_category="", cases__isnull=True,
             incomes__isnull=False, referrals__isnull=True, members__labour_skill="普通劳动力")
             .order_by("household_no").first())
household.expenditures.all().delete()
household.members.update(dibao=False, tekun=False)
record = household.incomes.order_by("-year").first()
for name in INCOME_COMPONENTS:
    setattr(record, name, None)
_recompute(household, record)
record.wage = Decimal(8500) * record.divisor_size
_recompute(household, record)
record.save()
clue = report_clue(user=village, household=household, source="hotline", summary="热线反映：户主务工受伤，收入减少")
if not User.objects.filter(username="minzheng_demo").exists():
    create_user(username="minzheng_demo", password="%s", role=Role.DEPARTMENT, department=Department.CIVIL,
                region_code="", full_name="民政局数据员")
print(json.dumps({"clue": clue.pk, "household": household.pk, "township": household.region.parent.name}))
"""


def shot(page, name: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_one_verification_includes_in_monitoring_and_refers_to_civil_affairs(page, demo_server):
    base = demo_server["url"]
    made = json.loads(
        fangpin(demo_server["data"], "shell", "-c", SETUP % DEMO_PASSWORD).stdout.strip().splitlines()[-1]
    )
    page.set_viewport_size({"width": 1366, "height": 900})

    # 1. the village verifies at home: the accounting suggests 低保边缘, pre-ticked with its reason
    login(page, "cun_demo")
    page.get_by_role("link", name="线索库").click()
    page.locator(f"a[href='/cases/clues/{made['clue']}/']").click()
    preview = page.locator("#accounting-preview")
    expect(preview.locator("tr.test-dibao_edge")).to_contain_text("是")
    expect(preview).to_contain_text("待核实")
    intake = page.locator("#joint-intake")
    expect(intake.locator("input[value='低保边缘']")).to_be_checked()
    expect(intake).to_contain_text("收支核算建议：人均可支配收入8,500 元低于低保边缘标准")
    expect(intake.locator("input[value='低保']")).not_to_be_checked()
    shot(page, "joint-intake-verify")
    form = page.locator("#verify-form")
    form.get_by_label("核查结果").select_option(label="确认有风险")
    form.get_by_label("核查情况").fill("入户核实：户主务工受伤，收入减少，医疗自付1,200元")
    form.locator("input[name='e-medical']").fill("1200")
    page.locator("#id_monitor").check()
    expect(page.locator("#id_refer")).to_be_checked()
    form.get_by_role("button", name="保存核查结果").click()

    # 2. saved once; straight on to the identification case from the same verification
    expect(page.locator(".messages")).to_contain_text("入户核查已记录，已转介民政")
    page.get_by_label("拟认定类别").select_option("边缘易致贫户")
    page.get_by_label("因意外事故").check()
    page.get_by_role("button", name="发起").click()
    expect(page.locator("#case-status")).to_have_text("信息比对")
    page.goto(f"{base}/cases/clues/{made['clue']}/")
    expect(page.locator("#clue-referrals")).to_contain_text("待民政审核")
    expect(page.locator(".accounting").first).to_contain_text("2026.1")
    shot(page, "joint-intake-clue")
    page.goto(f"{base}/registry/households/{made['household']}/")
    card = page.locator("#household-accounting")
    expect(card).to_contain_text("人均纯收入（防止返贫致贫监测口径")
    expect(card).to_contain_text("人均可支配收入")
    expect(card).to_contain_text("转介民政：低保边缘")
    shot(page, "joint-intake-household")

    # 3. 民政's data officer records 已纳入低保边缘
    page.context.clear_cookies()
    login(page, "minzheng_demo")
    page.locator("#civil-referrals").click()
    row = page.locator("#referral-table tbody tr", has_text="低保边缘").first
    expect(row).to_contain_text("待民政审核")
    shot(page, "joint-intake-civil-form")
    row.locator("select[name$='-result']").select_option(label="已纳入低保边缘")
    row.get_by_role("button", name="录入结果").click()
    expect(page.locator(".messages")).to_contain_text("已录入民政审核结果")
    shot(page, "joint-intake-civil")

    # 4. the township sees the count on its 线索库's 转介民政 tab
    page.context.clear_cookies()
    login(page, "zhen_gujiang")
    page.get_by_role("link", name="线索库").click()
    page.locator("#referrals-tab").click()
    counts = page.locator("#referral-counts tbody tr", has_text=made["township"]).first
    cells = counts.locator("td").all_inner_texts()
    headers = page.locator("#referral-counts thead th").all_inner_texts()
    assert int(cells[headers.index("已纳入低保边缘")]) >= 1 and int(cells[headers.index("转介户数")]) >= 1, (
        cells
    )
    page.locator("#referral-filters select[name=status]").select_option(label="已纳入")
    page.locator("#referral-filters").get_by_role("button", name="筛选").click()
    expect(page.locator("#referral-table")).to_contain_text("已纳入低保边缘")
    shot(page, "joint-intake-township")
    # the top menu stays on one line at 1366 px
    heights = page.evaluate("[...document.querySelectorAll('header.topbar nav a')].map(a => a.offsetTop)")
    assert len(set(heights)) == 1, heights
