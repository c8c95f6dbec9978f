from __future__ import annotations

from playwright.sync_api import expect

from tests import builders
from tests.browser.conftest import login

ROWS = [
    {"序号": 1, "问题描述": "古绛镇部分监测户帮扶措施与风险类型不匹配", "涉及乡镇": "古绛镇", "责任单位": "古绛镇人民政府",
     "责任人": "王镇长", "整改时限": "2030-12-31", "整改措施": "逐户核对"},
    {"序号": 2, "问题描述": "横水镇驻村工作队入户走访不到位", "涉及乡镇": "横水镇", "责任单位": "横水镇人民政府",
     "责任人": "李镇长", "整改时限": "2030-12-31", "整改措施": "集中排查"},
    {"序号": 3, "问题描述": "县级数据比对机制不健全", "涉及乡镇": "", "责任单位": "县农业农村局",
     "责任人": "张局长", "整改时限": "2030-12-31", "整改措施": "建立月度比对"},
]  # fmt: skip


def logout(page) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login/**")


def test_import_work_apply_and_close_an_item_moves_the_cleared_figure(page, demo_server, tmp_path):
    path = builders.write_xlsx(tmp_path / "督导组反馈问题清单.xlsx", ROWS, titles=("督导组反馈问题清单",))
    evidence = tmp_path / "整改照片.jpg"  # evidence is checked by its content: a JPEG's own first bytes
    evidence.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9")

    login(page, "xian_staff")
    page.get_by_role("link", name="整改台账").click()
    page.get_by_role("link", name="新建问题批次（可导入问题清单）").click()
    page.get_by_label("批次名称").fill("浏览器测试督导反馈")
    page.get_by_label("问题来源").select_option(label="督导调研")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="建立").click()
    # the worker reads the list: its job page polls and leads on, to the mapping, then to the batch
    page.locator("#next-step").click(timeout=60_000)
    expect(page.locator("#mapping-form")).to_be_visible()
    page.get_by_role("button", name="确认并导入").click()
    page.locator("#next-step").click(timeout=60_000)
    expect(page.locator("#item-table")).to_contain_text("县级数据比对机制不健全")
    expect(page.locator("#cleared")).to_have_text("0.0%")
    batch_url = page.url
    logout(page)

    login(page, "zhen_gujiang")
    page.goto(batch_url)
    expect(page.locator("#item-table")).not_to_contain_text("横水镇驻村工作队")
    page.get_by_role("link", name="古绛镇部分监测户帮扶措施与风险类型不匹配").click()
    page.get_by_label("整改进展").fill("已核对全部监测户，补齐健康帮扶措施")
    page.set_input_files("#progress-form input[type=file]", str(evidence))
    page.get_by_role("button", name="报送进展").click()
    expect(page.locator("#item-status")).to_have_text("整改中")
    page.get_by_label("完成情况").fill("措施已全部补齐")
    page.get_by_role("button", name="申请销号").click()
    expect(page.locator("#item-status")).to_have_text("申请销号")
    item_url = page.url
    logout(page)

    login(page, "xian_staff")
    page.goto(item_url)
    page.get_by_label("同意销号").check()
    page.get_by_role("button", name="提交审核意见").click()
    expect(page.locator("#item-status")).to_have_text("已销号")
    page.goto(batch_url)
    expect(page.locator("#cleared")).to_have_text("33.3%")
