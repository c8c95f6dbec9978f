"""A township opens 汇报材料, picks the period and the last briefing's date, downloads the briefing and
the file reads back: A4, its township only, the dashboard's figure, the charts."""

from __future__ import annotations

import datetime as dt

import docx
from playwright.sync_api import expect

from tests.browser.conftest import login


def test_a_township_downloads_its_briefing(page, tmp_path):
    login(page, "zhen_gujiang")
    page.locator("header nav").get_by_role("link", name="统计报表", exact=True).click()
    monitored = page.locator("#count-monitored").inner_text().replace(",", "")
    page.locator("nav.tabs").get_by_role("link", name="汇报材料").click()
    expect(page.locator("h1")).to_contain_text("古绛镇巩固衔接工作情况汇报")
    expect(page.get_by_label("统计范围").locator("option").first).to_have_text("古绛镇")
    today = dt.date.today()
    page.get_by_label("期间开始").fill(f"{today.replace(month=1, day=1)}")
    page.get_by_label("期间结束").fill(f"{today}")
    page.get_by_label("上次汇报日期").fill(f"{today - dt.timedelta(days=30)}")
    expect(page.locator("#template-upload")).to_have_count(0)  # the county administrator's, not a township's
    with page.expect_download() as download:
        page.get_by_role("button", name="生成汇报材料").click()
    assert download.value.suggested_filename == f"古绛镇巩固衔接工作情况汇报_{today:%Y%m%d}.docx"
    path = tmp_path / "briefing.docx"
    download.value.save_as(path)
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "古绛镇巩固衔接工作情况汇报" in text
    assert f"纳入防止返贫致贫监测对象{monitored}户" in text  # the dashboard's figure
    assert f"上次汇报（{today - dt.timedelta(days=30):%Y年%-m月%-d日}）" in text
    assert any(t.rows[0].cells[0].text == "村" for t in document.tables)  # by village of the township
    assert "横水镇" not in text + cells
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert len(document.inline_shapes) == 2
