from __future__ import annotations

import re

from playwright.sync_api import expect
from python_calamine import CalamineWorkbook

from tests.browser.conftest import login

MASKED_ID = re.compile(r"^\d{4}\*{10}[\dX]{4}$")


def demo_people(data_dir):
    """(name, id number, township, village) of the demo member file."""
    path = next((data_dir / "demo").glob("户成员信息_*.xlsx"))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header = rows[2]
    index = {name: header.index(name) for name in ("姓名", "证件号码", "乡", "村", "户编号")}
    return [{k: row[i] for k, i in index.items()} for row in rows[3:]]


def test_a_village_user_searches_opens_a_household_and_sees_masked_ids(page, demo_server):
    login(page, "cun_demo")
    village = page.locator(".who span").inner_text().split("·")[-1].strip()
    page.get_by_role("link", name="农户台账").click()
    rows = page.locator("#household-table tbody tr")
    expect(rows.first).to_be_visible()
    head_name = rows.first.locator("td").nth(1).inner_text()
    page.get_by_placeholder("姓名、户编号或完整证件号码").fill(head_name)
    page.get_by_role("button", name="查询").click()
    expect(rows.first.locator("td").nth(1)).to_have_text(head_name)
    rows.first.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text(head_name)
    expect(page.locator(".crumbs")).to_contain_text(village)
    ids = page.locator("#member-table .masked").all_inner_texts()
    assert ids and all(MASKED_ID.match(text) for text in ids), ids
    # the village may see a full number on purpose; it is logged
    page.locator("#member-table button", has_text="显示").first.click()
    expect(page.locator("#member-table .revealed").first).to_have_text(re.compile(r"^\d{17}[\dX]$"))


def test_a_village_user_cannot_find_a_household_of_another_village(page, demo_server):
    people = demo_people(demo_server["data"])
    login(page, "cun_demo")
    village = page.locator(".who span").inner_text().split("·")[-1].strip()
    outsider = next(p for p in people if not village.endswith(p["村"]))
    page.goto(page.base + "/registry/households/?q=" + outsider["证件号码"])
    expect(page.locator("#household-table .empty")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("共 0 户")


def test_a_county_user_finds_anyone_by_full_id_and_sees_counts(page, demo_server):
    people = demo_people(demo_server["data"])
    login(page, "xian_admin")
    expect(page.locator("#count-people")).to_have_text(re.compile(r"^[\d,]+$"))
    assert int(page.locator("#count-people").inner_text().replace(",", "")) == len(people)
    person = people[len(people) // 2]
    page.get_by_role("link", name="农户台账").click()
    page.get_by_placeholder("姓名、户编号或完整证件号码").fill(person["证件号码"])
    page.get_by_role("button", name="查询").click()
    expect(page.locator("h1")).to_contain_text("共 1 户")
    page.locator("#household-table tbody tr a").first.click()
    expect(page.locator("#member-table")).to_contain_text(person["姓名"])
    expect(page.locator("#member-table")).not_to_contain_text(person["证件号码"])
    masked = person["证件号码"][:4] + "*" * 10 + person["证件号码"][-4:]
    expect(page.locator("#member-table")).to_contain_text(masked)


def test_a_county_user_imports_a_file_and_watches_the_job_to_its_error_report(page, demo_server, tmp_path):
    from tests import builders

    rows = builders.standard_rows()
    for row in rows:
        row["乡"], row["村"] = "古绛镇", "不存在村"
    path = builders.write_csv(tmp_path / "名单.csv", rows, encoding="gbk")
    login(page, "xian_staff")
    page.get_by_role("link", name="导入").click()
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="开始导入").click()
    expect(page.locator("#job-status")).to_have_text("未通过校验", timeout=60000)
    expect(page.locator(".problems")).to_contain_text("不在行政区划表中")
    with page.expect_download() as download:
        page.locator("#download").click()
    assert download.value.suggested_filename == "名单_错误说明.xlsx"


def test_a_warning_is_followed_to_its_evidence_and_household_and_verified(page, demo_server):
    login(page, "xian_staff")
    page.get_by_role("link", name="预警线索", exact=True).click()
    rows = page.locator("#finding-table tbody tr")
    expect(rows.first).to_be_visible()
    message = rows.first.locator("td").nth(5).inner_text()
    rows.first.locator("td").nth(5).locator("a").click()
    expect(page.locator("h1")).to_have_text(message)
    expect(page.locator("#evidence")).to_be_visible()
    finding_url = page.url
    page.locator("#evidence a").first.click()
    expect(page.locator("#findings")).to_contain_text(message)
    page.goto(finding_url)
    page.get_by_label("确认有风险").check()
    page.get_by_label("核实情况").fill("入户核实：情况属实，已启动识别程序")
    page.get_by_role("button", name="记录核实结果").click()
    expect(page.locator("#outcome")).to_have_text("确认有风险")
