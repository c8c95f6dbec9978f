"""Issue 13's journey: a file with faults of values goes in whole after the user reads what was found,
and a village corrects a damaged ID from the 户口簿 so that its finding is gone at the next screening.

Named to run last among the browser tests: it adds a household to the shared demo county."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from fangpin.common.idnumber import make_id
from tests import builders
from tests.browser.conftest import login
from tests.browser.test_register_journeys import demo_people

TRUE_ID = make_id("140826", dt.date(1968, 4, 12), 731)
WRONG_CHECK = TRUE_ID[:17] + ("0" if TRUE_ID[17] != "0" else "1")


def as_user(page, username: str) -> None:
    page.context.clear_cookies()
    login(page, username)


def _screen(page) -> None:
    page.goto(page.base + "/rules/screening/")
    page.get_by_role("button", name="开始筛查").click()
    expect(page.locator("#job-status")).to_have_text("已完成", timeout=120_000)


def test_a_file_with_value_faults_is_read_confirmed_imported_and_an_id_corrected(page, demo_server, tmp_path):
    login(page, "cun_demo")
    region = page.locator(".who span").inner_text().split("·")[-1].strip()
    own = next(p for p in demo_people(demo_server["data"]) if region.endswith(p["村"]))
    township, village = own["乡"], own["村"]

    head = {
        "姓名": "试导入",
        "证件号码": WRONG_CHECK,
        "与户主关系": "户主",
        "性别": "男",
        "出生日期": "1968-04-12",
    }
    spouse = {"姓名": "试配偶", "证件号码": make_id("140826", dt.date(1970, 2, 2), 842), "与户主关系": "配偶",
              "性别": "女", "出生日期": "1970-02-02"}  # fmt: skip
    rows = []
    for n, person in enumerate((head, spouse), start=1):
        rows.append({"县": "绛县", "乡": township, "村": village, "户编号": "1408269990001", "人口编号": f"BR{n:03d}",
                     **person, "证件类型": "身份证", "健康状况": "健康", "劳动技能": "普通劳动力",
                     "家庭成员联系电话": "12345" if n == 1 else "", "户类型": "一般农户"})  # fmt: skip
    path = builders.write_xlsx(tmp_path / "新增户.xlsx", rows)

    as_user(page, "xian_admin")
    page.goto(page.base + "/registry/import/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="开始导入").click()
    expect(page.locator("#job-status")).to_have_text("待确认", timeout=60_000)
    counts = page.locator("#fault-counts")
    expect(counts).to_contain_text("证件号码校验位错误")
    expect(counts).to_contain_text("联系电话不是手机号码或固定电话")
    expect(page.locator("#job-progress")).to_contain_text("台账尚未改动")
    page.screenshot(path=str(demo_server["data"] / "import-awaiting.png"), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#job-status")).to_have_text("已完成", timeout=60_000)
    expect(page.locator("#job-progress")).to_contain_text("2处数据疑点已按原值导入")
    _screen(page)

    as_user(page, "cun_demo")
    page.goto(page.base + "/rules/findings/?family=数据质量&rule=DQ_ID_CHECKSUM")
    expect(page.locator("#finding-table")).to_contain_text("试导入")
    page.locator("#id-corrections-link").click()
    row = page.locator("#id-corrections tbody tr", has_text="试导入")
    expect(row).to_contain_text("证件号码校验位错误")
    row.get_by_placeholder("18位证件号码").fill(WRONG_CHECK)
    row.get_by_role("button", name="更正").click()
    expect(page.locator(".messages")).to_contain_text("校验位错误")
    row = page.locator("#id-corrections tbody tr", has_text="试导入")
    row.get_by_placeholder("18位证件号码").fill(TRUE_ID)
    row.get_by_role("button", name="更正").click()
    expect(page.locator(".messages")).to_contain_text(
        re.compile(r"已更正试导入的证件号码（1408\*+\d{3}[\dX]）")
    )
    expect(page.locator("#id-corrections")).not_to_contain_text("试导入")

    as_user(page, "xian_admin")
    _screen(page)
    as_user(page, "cun_demo")
    page.goto(page.base + "/rules/findings/?family=数据质量&rule=DQ_ID_CHECKSUM")
    expect(page.locator("#finding-table")).not_to_contain_text("试导入")
    page.goto(page.base + "/rules/findings/?family=数据质量&rule=DQ_PHONE_INVALID")
    expect(page.locator("#finding-table")).to_contain_text("试导入")
