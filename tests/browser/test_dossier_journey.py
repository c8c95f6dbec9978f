"""A village cadre opens a household, prints its dossier and downloads its archive, then prints the whole
village's dossiers as one job and downloads the PDF from the job page (Chromium, a real server and worker)."""

from __future__ import annotations

import io
import re
import zipfile

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import login

A4_POINTS = (595, 842)


def _read(path: str) -> tuple[PdfReader, str]:
    reader = PdfReader(path)
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4_POINTS
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_a_village_cadre_prints_a_households_dossier_and_the_whole_village(page, demo_server):
    login(page, "cun_demo")
    page.get_by_role("link", name="农户台账").click()
    page.locator("#household-table tbody tr a").first.click()
    head = re.sub(r"户.*$", "", page.locator("h1").inner_text().split()[0])
    expect(page.get_by_role("link", name="打印含完整证件号码的档案（记入审计日志）")).to_have_count(0)

    with page.expect_download() as download:
        page.locator("#print-dossier").click()
    assert download.value.suggested_filename == f"{head}户一户一档.pdf"
    reader, text = _read(download.value.path())
    assert f"{head}户一户一档" in text and "家庭成员" in text and "证件号码和联系电话已脱敏" in text
    household_no = re.search(r"户编号 (\S+)", text).group(1)  # 18 digits too, but no person's number
    assert "**********" in text  # the members' IDs, masked as on the page, and none in clear
    assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", text.replace(household_no, "").replace(" ", ""))
    font = reader.pages[0]["/Resources"]["/Font"]
    assert any(
        "/FontFile2" in d.get_object()["/FontDescriptor"].get_object()
        for f in font.values()
        for d in [f.get_object()]
        if "/FontDescriptor" in d.get_object()
    )

    with page.expect_download() as download:
        page.locator("#download-archive").click()
    assert download.value.suggested_filename.endswith("档案包.zip")
    with open(download.value.path(), "rb") as fh:
        names = zipfile.ZipFile(io.BytesIO(fh.read())).namelist()
    assert f"{head}户一户一档.pdf" in names

    page.locator("header nav").get_by_role("link", name="统计报表", exact=True).click()
    page.get_by_role("link", name="一户一档", exact=True).click()
    page.get_by_role("button", name="批量打印本村档案").click()
    expect(page.locator("#job-status")).to_have_text("已完成", timeout=120_000)
    with page.expect_download() as download:
        page.locator("#download").click()
    assert download.value.suggested_filename.endswith("村一户一档.pdf")  # the cadre's own village
    reader, text = _read(download.value.path())
    assert f"{head}户一户一档" in text and len(reader.pages) >= 2
