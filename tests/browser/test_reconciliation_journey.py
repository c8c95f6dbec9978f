"""账账比对 in the browser: the county exports its register in the national layout (the shape of the
national system's 户成员信息), the "national system" differs from it in three known ways, the county
uploads that file, waits for the job, reads the counts per township, opens a household's differences,
marks it 已核对 and downloads the differences table (read back)."""

from __future__ import annotations

import datetime as dt

import openpyxl
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.builders import pid

NEW_HEAD = "孙立新"


def _export_register(page, tmp_path) -> openpyxl.Workbook:
    page.goto(page.base + "/registry/export/")
    page.get_by_label("格式").select_option(label="户成员信息")
    page.get_by_label("包含完整证件号码和电话").check()
    page.get_by_role("button", name="开始导出").click()
    expect(page.locator("#job-status")).to_have_text("已完成", timeout=60000)
    with page.expect_download() as download:
        page.locator("#download").click()
    path = tmp_path / "台账.xlsx"
    download.value.save_as(path)
    return openpyxl.load_workbook(path)


def _national_file(workbook: openpyxl.Workbook, path) -> dict[str, str]:
    """The register with three differences, as the national system might hold it: one household's
    监测对象类别 set, one member missing, one household that fangpin does not have. Returns the household
    numbers of each, by kind."""
    sheet = workbook.active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if r and "证件号码" in r)
    header = rows[at]
    col = {name: header.index(name) for name in header if name}
    body = rows[at + 1 :]
    by_household: dict[str, list[list]] = {}
    for row in body:
        by_household.setdefault(row[col["户编号"]], []).append(row)
    ids = [r[col["证件号码"]] for r in body]
    # households whose members' IDs are each unique in the file (not the twins whose damaged number is
    # one), in file order, so the choice is the same on every run
    plain = [
        no for no, members in by_household.items() if all(ids.count(m[col["证件号码"]]) == 1 for m in members)
    ]
    category = next(no for no in plain if not by_household[no][0][col["监测对象类别"]])
    member = next(no for no in plain if no != category and len(by_household[no]) >= 3)
    for row in by_household[category]:
        row[col["监测对象类别"]] = "边缘易致贫户"
    dropped = by_household[member][-1]
    dropped_name = dropped[col["姓名"]]
    template = by_household[category][0]
    new_no = template[col["户编号"]][:12] + "999999"
    new_row = list(template)
    new_row[col["户编号"]], new_row[col["姓名"]], new_row[col["与户主关系"]] = new_no, NEW_HEAD, "户主"
    new_row[col["证件号码"]] = pid(97, dt.date(1968, 4, 4))
    new_row[col["监测对象类别"]] = ""
    for name, value in (("人口编号", new_no + "01"), ("年度家庭人口数", 1), ("联系电话", "")):
        if name in col:
            new_row[col[name]] = value
    out = openpyxl.Workbook()
    target = out.active
    target.append(["（自定义）户成员信息"])
    target.append(header)
    for row in body:
        if row is not dropped:
            target.append(row)
    target.append(new_row)
    out.save(path)
    return {"category": category, "members": member, "household": new_no, "dropped": dropped_name}


def test_a_county_reconciles_a_national_export_checks_a_household_and_exports_the_differences(page, tmp_path):
    login(page, "xian_admin")
    changed = _national_file(_export_register(page, tmp_path), tmp_path / "国家系统户成员信息.xlsx")
    page.goto(page.base + "/reconciliation/upload/")
    page.get_by_label("国家系统导出文件").set_input_files(str(tmp_path / "国家系统户成员信息.xlsx"))
    page.get_by_label("人均纯收入容差（元/人）").fill("1")
    page.get_by_role("button", name="开始比对").click()
    expect(page.locator("#job-status")).to_have_text("已完成", timeout=60000)
    expect(page.locator("#job-progress")).to_contain_text("户有差异")
    page.locator("#next-step").click()

    # counts per township: the rows add up to the total, and the three changed households are among them
    counts = page.locator("#counts-table")
    expect(counts.locator("thead")).to_contain_text("乡镇")
    per_township = [
        int(t.replace(",", "")) for t in counts.locator("tbody tr td:nth-child(2)").all_inner_texts()
    ]
    total = int(counts.locator("tfoot th").nth(1).inner_text().replace(",", ""))
    assert sum(per_township) == total
    assert int(counts.locator("tfoot th").nth(4).inner_text()) == 1  # 仅国家系统有
    # beyond the three, only households whose exported 人均纯收入 differs from fangpin's computation (a
    # seeded fault of the demo, flagged by the import too); in particular twins sharing one damaged ID
    # number (which the register keys by 人口编号) are the same people on both sides
    page.goto(page.base + "/reconciliation/?group=income")
    rows = page.locator("#entries-table tbody tr")
    income = {rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator("td").nth(3).inner_text()
              for i in range(rows.count())}  # fmt: skip
    # the household given a category may also be one whose income an earlier journey changed (the journeys
    # share one demo county): it is then among these too, with both differences
    if changed["category"] in income:
        assert income.pop(changed["category"]) == "监测对象类别、人均纯收入（元）"
    assert all(labels == "人均纯收入（元）" for labels in income.values()), income
    assert total == 3 + len(income)
    page.goto(page.base + "/reconciliation/")

    # each changed household, by its kind of difference
    expected = {"category": ("监测对象类别", "（空）", "边缘易致贫户"), "members": ("家庭成员", None, "（无此人）"),
                "household": ("农户", "（无此户）", "有此户（1人）")}  # fmt: skip
    dropped = changed.pop("dropped")
    for kind, number in changed.items():
        page.get_by_label("搜索").fill(number)
        page.get_by_role("button", name="查询").click()
        page.locator("#entries-table tbody").get_by_role("link", name=number, exact=True).click()
        label, ours, theirs = expected[kind]
        row = page.locator("#differences-table tbody tr").filter(has_text=label).first
        cells = row.locator("td").all_inner_texts()
        assert cells[0] == label and cells[2] == theirs and cells[1] == (ours or cells[1]), (kind, cells)
        if kind == "members":
            assert cells[1].startswith(dropped + "（") and "**********" in cells[1]  # the person, masked
        if kind == "category":
            page.get_by_label("核对说明").fill("国家系统待更新")
            page.locator("#mark-checked").click()
            expect(page.locator("#check-mark")).to_contain_text("已核对")
            expect(page.locator("#check-mark")).to_contain_text("国家系统待更新")
        page.goto(page.base + "/reconciliation/")
    expect(page.locator("#counts-table tfoot th").nth(3)).to_have_text("1")  # 已核对
    page.get_by_label("核对情况").select_option(label="已核对")
    page.get_by_role("button", name="查询").click()
    assert page.locator("#entries-table tbody tr").all_inner_texts()[0].startswith(changed["category"])
    assert page.locator("#entries-table tbody tr").count() == 1

    # the differences table of the whole county, read back
    page.goto(page.base + "/reconciliation/")
    page.locator("#export-differences").click()
    expect(page.locator("#job-status")).to_have_text("已完成", timeout=60000)
    with page.expect_download() as download:
        page.locator("#download").click()
    path = tmp_path / "差异表.xlsx"
    download.value.save_as(path)
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert (
        rows[0][0] == "防返贫监测对象账账比对差异表"
        and "填报单位" in rows[1][0]
        and "统计截止日期" in rows[1][0]
    )
    body = [r for r in rows[3:] if isinstance(r[0], int | float)]
    assert len({r[3] for r in body}) == total  # one household per difference row group, as on the page
    found = {(r[3], r[5]): r for r in body}
    assert found[(changed["category"], "监测对象类别")][6:9] == ("（空）", "边缘易致贫户", "已核对")
    assert found[(changed["members"], "家庭成员")][7] == "（无此人）"
    assert (
        found[(changed["household"], "农户")][4] == NEW_HEAD
        and found[(changed["household"], "农户")][8] == "待核对"
    )
    assert not any(str(pid(97, dt.date(1968, 4, 4))) in str(r) for r in rows)  # the new head only masked
