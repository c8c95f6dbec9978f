"""The system administrator creates a village cadre; the cadre logs in with the one-time password, must
choose their own, and then sees only their village."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.cli_helpers import fangpin


def _demo_village(demo_server) -> tuple[str, str]:
    """The township and village of the demo's village account (the village with households)."""
    code = ("from fangpin.accounts.models import User; v = User.objects.get(username='cun_demo').region; "
            "print(v.parent.name + '|' + v.name)")  # fmt: skip
    line = fangpin(demo_server["data"], "shell", "-c", code).stdout.strip().splitlines()[-1]
    township, village = line.split("|")
    return township, village


def _settled(page, appeared: str) -> None:
    """Wait until HTMX has swapped in the redrawn picker (its new select showing) and processed it."""
    expect(page.get_by_label(appeared, exact=True)).to_be_visible()
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")).to_have_count(0)


def test_a_new_village_cadre_must_change_the_password_and_sees_only_the_village(page, demo_server):
    township, village = _demo_village(demo_server)
    login(page, "sys_admin")
    page.get_by_role("link", name="用户管理").click()
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("用户名").fill("cun_xinren")
    page.get_by_label("姓名").fill("赵新仁")
    page.get_by_label("角色").select_option(label="村级/驻村工作队")
    _settled(page, "乡镇")
    # the picker redraws for the role: the township first, then its villages
    page.get_by_label("乡镇", exact=True).select_option(label=township)
    _settled(page, "村")
    page.get_by_label("村", exact=True).select_option(label=village)
    page.get_by_role("button", name="建立并生成一次性密码").click()
    password = page.locator("#one-time-password").inner_text().strip()
    assert len(password) >= 10
    page.get_by_role("link", name="返回用户管理").click()
    page.get_by_placeholder("用户名或姓名").fill("cun_xinren")
    page.get_by_role("button", name="查询").click()
    row = page.locator("#user-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(village)
    expect(row).to_contain_text("待修改密码")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login/**")

    page.get_by_label("用户名").fill("cun_xinren")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#must-change")).to_be_visible()
    page.goto(page.base + "/registry/households/")  # every page leads back to the change
    expect(page.locator("#must-change")).to_be_visible()
    page.get_by_label("当前密码").fill(password)
    page.get_by_label("新密码", exact=True).fill("abc")
    page.get_by_label("再次输入新密码").fill("abc")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("#password-form")).to_contain_text("密码长度不能少于10位。")
    page.get_by_label("当前密码").fill(password)
    page.get_by_label("新密码", exact=True).fill("Shanlu#2027qz")
    page.get_by_label("再次输入新密码").fill("Shanlu#2027qz")
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url(page.base + "/")
    expect(page.locator(".messages")).to_contain_text("密码已修改")

    page.get_by_role("link", name="农户台账").click()
    villages = page.locator("#household-table tbody tr td:nth-child(3)").all_inner_texts()
    assert villages and set(villages) == {village}, set(villages)
    expect(page.get_by_role("link", name="用户管理")).to_have_count(0)
