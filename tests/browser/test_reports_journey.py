"""The county opens the dashboard, drills down to a township, a village and one of its households, then
builds a cross-tab and exports it (the file read back)."""

from __future__ import annotations

import openpyxl
from playwright.sync_api import expect

from tests.browser.conftest import login


def test_the_county_drills_down_to_a_household_and_exports_a_crosstab(page, tmp_path):
    login(page, "xian_admin")
    page.locator("header nav").get_by_role("link", name="统计报表", exact=True).click()
    expect(page.locator("h1")).to_contain_text("工作驾驶舱")
    monitored = int(page.locator("#count-monitored").inner_text().replace(",", ""))
    assert monitored > 0
    page.locator("#chart-category svg").first.wait_for()  # ECharts drew from the page's JSON (CSP intact)
    # county → township → village: the village's monitored households add up to the table's figure
    page.locator("#table-children tbody tr").first.locator("td").first.get_by_role("link").click()
    expect(page.locator("#crumbs")).to_contain_text("›")
    village_row = (
        page.locator("#table-children tbody tr")
        .filter(has=page.locator("td:nth-child(2) a:not(:text-is('0'))"))
        .first
    )
    expected = village_row.locator("td").nth(1).inner_text()
    village_row.locator("td").first.get_by_role("link").click()
    expect(page.locator("#count-monitored")).to_have_text(expected)
    page.locator("#count-monitored").click()
    expect(page.locator("#households-total")).to_have_text(expected)
    first = page.locator("#households-table tbody tr").first.locator("td").first.get_by_role("link")
    number = first.inner_text()
    first.click()
    expect(page.locator("body")).to_contain_text(number)
    # a cross-tab of the county: townships × categories, in people, exported
    page.goto(page.base + "/reports/crosstab/")
    page.get_by_label("行").select_option(label="乡镇")
    page.get_by_label("列").select_option(label="监测对象类别")
    page.get_by_label("统计口径").select_option(label="人数")
    page.get_by_role("button", name="统计").click()
    total = page.locator("#crosstab-total").inner_text().replace(",", "")
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    path = tmp_path / "crosstab.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].endswith("乡镇×监测对象类别交叉统计表") and "单位：人" in rows[1][0]
    totals = next(r for r in rows[3:] if r[0] == "合计")
    assert totals[-1] == int(total)
