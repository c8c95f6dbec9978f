"""Users in the UI (用户管理) under 三员分立: the system administrator creates, edits, disables and resets
business accounts; everyone changes their own password; every change is audited by the pages' names."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from fangpin.accounts import actions
from fangpin.accounts.actions import create_user
from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.audit.actions import verify
from fangpin.audit.models import Action, AuditEntry
from tests import builders
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# the region picker's levels for 东关村: 山西省 → 运城市 → 绛县 are fixed (the only ones), then 乡镇, 村
VILLAGE_CHAIN = [builders.COUNTY, builders.TOWNSHIP_A, builders.VILLAGE_A1]
NEW_CADRE = {
    "username": "cun_dongguan",
    "full_name": "刘春花",
    "role": "village",
    "unit": "",
    "region": VILLAGE_CHAIN,
}


def _log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def _one_time_password(response) -> str:
    found = re.search(r'id="one-time-password">([^<]+)<', response.content.decode())
    assert found, response.content.decode()[:2000]
    return found.group(1)


def _entries(user: User) -> list[AuditEntry]:
    changes = AuditEntry.objects.filter(action__in=[Action.CREATE, Action.UPDATE], model="accounts.User")
    return list(changes.filter(object_id=str(user.pk)).order_by("seq"))


def _assert_no_password_in_log(*secrets: str) -> None:
    for entry in AuditEntry.objects.all():
        text = json.dumps([entry.before, entry.after, entry.detail, entry.object_repr], ensure_ascii=False)
        assert "argon2" not in text, entry
        assert not any(secret in text for secret in secrets), entry


@pytest.fixture
def separated(regions) -> dict[str, User]:
    return {
        role: create_user(username=role, password=PASSWORD, role=role)
        for role in ("security_admin", "audit_admin")
    }


# --- create, edit, disable, reset -------------------------------------------------------------------


def test_the_system_administrator_creates_a_village_cadre_who_must_change_the_password(client, system_admin):
    client.force_login(system_admin)
    response = client.post(reverse("accounts:user_new"), NEW_CADRE)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = _one_time_password(response)
    cadre = User.objects.get(username="cun_dongguan")
    assert cadre.role == Role.VILLAGE and cadre.region.code == builders.VILLAGE_A1
    assert cadre.must_change_password and cadre.check_password(password)
    assert cadre.unit == str(cadre.region)  # the unit defaults to the region's name

    (created,) = _entries(cadre)
    assert created.action == Action.CREATE and created.username == "sys_admin"
    assert created.after["角色"] == "村级/驻村工作队" and created.after["须修改密码"] == "是"
    assert created.after["所属区划"] == str(cadre.region) and created.region_code == builders.VILLAGE_A1
    assert "新建用户 cun_dongguan" in created.detail
    _assert_no_password_in_log(password, cadre.password)
    assert verify().ok


def test_a_role_is_placed_at_the_level_it_needs(client, system_admin):
    client.force_login(system_admin)
    at_township = NEW_CADRE | {"region": [builders.COUNTY, builders.TOWNSHIP_A]}
    page = client.post(reverse("accounts:user_new"), at_township).content.decode()
    assert "村级/驻村工作队不能设在乡镇级区划" in page
    page = client.post(
        reverse("accounts:user_new"), NEW_CADRE | {"role": "township", "region": VILLAGE_CHAIN}
    )
    assert "乡镇业务员不能设在村级区划" in page.content.decode()
    page = client.post(reverse("accounts:user_new"), NEW_CADRE | {"role": "department", "region": []})
    assert "部门数据员必须指定部门" in page.content.decode()
    # a village left over from another township is refused, never guessed
    stale = NEW_CADRE | {"region": [builders.COUNTY, builders.TOWNSHIP_B, builders.VILLAGE_A1]}
    assert "各级选择不一致" in client.post(reverse("accounts:user_new"), stale).content.decode()
    assert not User.objects.filter(username="cun_dongguan").exists()

    officer = client.post(reverse("accounts:user_new"), NEW_CADRE | {"username": "yibao2", "role": "department",
                                                                    "region": [], "department": "医保"})  # fmt: skip
    assert officer.status_code == 200
    assert User.objects.get(username="yibao2").department == "医保"


def test_the_region_picker_offers_what_the_role_needs_under_what_was_chosen(client, system_admin):
    client.force_login(system_admin)
    url = reverse("accounts:region_picker")
    village = client.get(url, {"role": "village"}).content.decode()
    assert "请选择乡镇" in village and "古绛镇" in village and "横水镇" in village and "东关村" not in village
    village = client.get(
        url, {"role": "village", "region": [builders.COUNTY, builders.TOWNSHIP_A]}
    ).content.decode()
    assert "东关村" in village and "西街村" in village and "柳庄村" not in village
    township = client.get(url, {"role": "township", "region": VILLAGE_CHAIN}).content.decode()
    assert "古绛镇" in township and "请选择村" not in township and "东关村" not in township
    county = client.get(url, {"role": "county_admin"}).content.decode()
    assert "绛县" in county and "请选择乡镇" not in county
    department = client.get(url, {"role": "department"}).content.decode()
    assert 'name="department"' in department and "医保局" in department and 'name="region"' not in department


def test_editing_a_user_records_before_and_after_by_the_pages_names(client, system_admin, village_cadre):
    client.force_login(system_admin)
    edit = reverse("accounts:user_edit", args=[village_cadre.pk])
    opened = client.get(edit).content.decode()  # the picker opens on the saved village and its township
    assert f'value="{builders.TOWNSHIP_A}" selected>古绛镇' in opened
    assert f'value="{builders.VILLAGE_A1}" selected>东关村' in opened
    response = client.post(edit, {"full_name": "王小红", "role": "township", "unit": "古绛镇人民政府",
                                  "region": [builders.COUNTY, builders.TOWNSHIP_A]})  # fmt: skip
    assert response.status_code == 302
    village_cadre.refresh_from_db()
    assert village_cadre.role == Role.TOWNSHIP and village_cadre.region.code == builders.TOWNSHIP_A
    changed = _entries(village_cadre)[-1]
    assert changed.action == Action.UPDATE and changed.username == "sys_admin"
    assert changed.before == {
        "姓名": "",
        "角色": "村级/驻村工作队",
        "所属区划": "绛县古绛镇东关村",
        "单位": "绛县古绛镇东关村",
    }
    assert changed.after == {
        "姓名": "王小红",
        "角色": "乡镇业务员",
        "所属区划": "绛县古绛镇",
        "单位": "古绛镇人民政府",
    }
    assert "角色：村级/驻村工作队 → 乡镇业务员" in changed.detail
    # the new scope applies at once: the township now sees its other village too
    client.force_login(village_cadre)
    assert client.get(reverse("registry:household_list")).status_code == 200


def test_a_disabled_user_cannot_log_in_and_loses_the_open_session(client, system_admin, village_cadre):
    from django.test import Client

    cadre_browser = Client()
    assert _log_in(cadre_browser, "village_a1", PASSWORD).status_code == 302
    assert cadre_browser.get(reverse("home")).status_code == 200

    client.force_login(system_admin)
    status = reverse("accounts:user_status", args=[village_cadre.pk])
    assert client.post(status, {"active": "0", "reason": "调离"}).status_code == 302
    village_cadre.refresh_from_db()
    assert not village_cadre.is_active and User.objects.filter(pk=village_cadre.pk).exists()  # never deleted
    assert cadre_browser.get(reverse("home")).status_code == 302  # logged out at the next request
    refused = _log_in(Client(), "village_a1", PASSWORD)
    assert refused.status_code == 200 and "用户名或密码错误" in refused.content.decode()
    disabled = _entries(village_cadre)[-1]
    assert (disabled.before, disabled.after) == ({"账号状态": "启用"}, {"账号状态": "停用"})
    assert "停用账号 village_a1，原因：调离" in disabled.detail
    assert "停用" in client.get(reverse("accounts:users"), {"status": "disabled"}).content.decode()

    assert client.post(status, {"active": "1"}).status_code == 302
    assert _log_in(Client(), "village_a1", PASSWORD).status_code == 302
    assert _entries(village_cadre)[-1].after == {"账号状态": "启用"}


def test_a_reset_password_replaces_the_old_one_and_forces_a_change_at_login(
    client, system_admin, village_cadre
):
    client.force_login(system_admin)
    response = client.post(reverse("accounts:user_reset", args=[village_cadre.pk]))
    password = _one_time_password(response)
    assert "no-store" in response["Cache-Control"]
    assert _log_in(client.__class__(), "village_a1", PASSWORD).status_code == 200  # the old one is gone
    reset = _entries(village_cadre)[-1]
    assert reset.after == {"须修改密码": "是"} and "重置用户 village_a1 的密码" in reset.detail

    client.logout()
    assert _log_in(client, "village_a1", password).status_code == 302
    change = reverse("accounts:password")
    for path in (reverse("home"), reverse("registry:household_list"), reverse("monitoring:inbox")):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == change, path
    assert client.get(reverse("registry:household_list"), HTTP_HX_REQUEST="true")["HX-Redirect"] == change
    assert client.get("/api/households").status_code == 403
    page = client.get(change).content.decode()
    assert 'id="must-change"' in page and "一次性密码" in page

    response = client.post(change, {"current": password, "new": "Dongguan#2027", "repeat": "Dongguan#2027"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200  # this session stays logged in
    village_cadre.refresh_from_db()
    assert not village_cadre.must_change_password and village_cadre.check_password("Dongguan#2027")
    changed = _entries(village_cadre)[-1]
    assert changed.username == "village_a1" and changed.after == {"须修改密码": "否"}
    assert changed.detail == "village_a1 修改了本人密码（须修改密码：是 → 否）"
    _assert_no_password_in_log(password, "Dongguan#2027", PASSWORD, village_cadre.password)


# --- every user's own password ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("Ab1#", "密码长度不能少于10位。"),
        ("abcdefghijkl", "密码须至少包含小写字母、大写字母、数字、符号中的三类。"),
        ("1357924680135", "密码只包含数字。"),
        ("Password123", "这个密码太常见了。"),
        ("village_a1A#", "密码跟 用户名 太相似了。"),
        (PASSWORD, "新密码不能与当前密码相同"),
    ],
)
def test_the_password_policy_refuses_in_chinese(client, village_cadre, new, message):
    client.force_login(village_cadre)
    response = client.post(reverse("accounts:password"), {"current": PASSWORD, "new": new, "repeat": new})
    assert response.status_code == 200 and message in response.content.decode()
    village_cadre.refresh_from_db()
    assert village_cadre.check_password(PASSWORD)


def test_the_current_password_is_required_and_the_new_one_typed_twice(client, village_cadre):
    client.force_login(village_cadre)
    url = reverse("accounts:password")
    wrong = client.post(url, {"current": "Wrong@2026pass", "new": "Dongguan#2027", "repeat": "Dongguan#2027"})
    assert "当前密码不正确" in wrong.content.decode()
    typo = client.post(url, {"current": PASSWORD, "new": "Dongguan#2027", "repeat": "Dongguan#2028"})
    assert "两次输入的新密码不一致" in typo.content.decode()
    village_cadre.refresh_from_db()
    assert village_cadre.check_password(PASSWORD)
    assert "修改本人密码" not in " ".join(e.detail for e in _entries(village_cadre))


def test_every_role_changes_its_own_password(client, system_admin, separated, county_admin):
    for index, user in enumerate([system_admin, *separated.values(), county_admin]):
        client.force_login(user)
        new = f"Changed#2027x{index}"
        response = client.post(reverse("accounts:password"), {"current": PASSWORD, "new": new, "repeat": new})
        assert response.status_code == 302, user.username
        user.refresh_from_db()
        assert user.check_password(new)


# --- 三员分立 and who may open the pages ------------------------------------------------------------------


def _user_admin_urls(target: User, *, of_one_user: bool = False) -> list[str]:
    """Every URL of the user pages (the own password page excepted), read from the URL list itself."""
    from fangpin.accounts import urls

    found = []
    for pattern in urls.urlpatterns:
        takes_user = "user_id" in pattern.pattern.converters
        if pattern.name != "password" and (takes_user or not of_one_user):
            found.append(
                reverse(f"accounts:{pattern.name}", kwargs={"user_id": target.pk} if takes_user else {})
            )
    return found


def test_other_roles_get_403_on_every_user_admin_url(
    client, county_admin, township_reviewer, village_cadre, supervisor, department_officer, separated
):
    for user in [
        county_admin,
        township_reviewer,
        village_cadre,
        supervisor,
        department_officer,
        *separated.values(),
    ]:
        client.force_login(user)
        for url in _user_admin_urls(village_cadre):
            assert client.get(url).status_code == 403, (user.username, url)
            assert client.post(url, {"active": "0", "role": "county_admin"}).status_code == 403, (
                user.username,
                url,
            )
    village_cadre.refresh_from_db()
    assert village_cadre.is_active and village_cadre.role == Role.VILLAGE
    assert not AuditEntry.objects.filter(action=Action.UPDATE, model="accounts.User").exists()


def test_the_nav_shows_user_admin_to_the_system_administrator_only(client, system_admin, county_admin):
    client.force_login(system_admin)
    assert "用户管理" in client.get(reverse("home")).content.decode()
    client.force_login(county_admin)
    page = client.get(reverse("home")).content.decode()
    assert "用户管理" not in page and reverse("accounts:password") in page


def test_a_system_administrator_cannot_open_household_pages(client, register, system_admin):
    from fangpin.registry.models import Household

    household = Household.objects.get(household_no="H001")
    client.force_login(system_admin)
    for url in (reverse("registry:household_list"), reverse("registry:household_detail", args=[household.pk]),
                reverse("registry:export"), reverse("monitoring:inbox"), reverse("rules:findings"),
                reverse("monitoring:case", args=[1])):  # fmt: skip
        assert client.get(url).status_code in (403, 404), url
    assert client.get("/api/households").status_code == 403
    # and nothing on the user pages names a household or a person of the register
    listing = client.get(reverse("accounts:users")).content.decode()
    assert "张建国" not in listing and "H001" not in listing


def test_separated_administrators_accounts_are_out_of_the_pages_reach(
    client, system_admin, separated, regions
):
    other_system_admin = create_user(username="sys_admin2", password=PASSWORD, role=Role.SYSTEM_ADMIN)
    client.force_login(system_admin)
    for target in [system_admin, other_system_admin, *separated.values()]:
        for url in _user_admin_urls(target, of_one_user=True):  # edit, status, reset
            assert (
                client.post(url, {"active": "0", "role": "village", "region": VILLAGE_CHAIN}).status_code
                == 403
            )
        target.refresh_from_db()
        assert target.is_active and target.role in {"system_admin", "security_admin", "audit_admin"}
    for role in ("security_admin", "audit_admin", "system_admin"):
        page = client.post(
            reverse("accounts:user_new"), NEW_CADRE | {"role": role, "region": []}
        ).content.decode()
        assert "选择一个有效的选项" in page, role
    assert not User.objects.filter(username="cun_dongguan").exists()
    listing = client.get(reverse("accounts:users")).content.decode()
    assert listing.count("命令行管理") == 3 and "本人" in listing
    # the same rules hold below the pages
    with pytest.raises(ValidationError, match="命令创建"):
        actions.add_user(actor=system_admin, username="x", role=Role.AUDIT_ADMIN)
    with pytest.raises(PermissionDenied, match="本人"):
        actions.change_user(actor=system_admin, user=system_admin, role=Role.COUNTY_ADMIN,
                            region_code=builders.COUNTY)  # fmt: skip
    with pytest.raises(PermissionDenied):
        actions.reset_password(actor=separated["security_admin"], user=separated["audit_admin"])


def test_the_command_line_operator_manages_the_separated_administrators(separated):
    from argparse import Namespace

    from fangpin.cli import cmd_user

    auditor = separated["audit_admin"]
    args = Namespace(action="disable", username="audit_admin", reason="离职")
    assert cmd_user(args) == 0
    auditor.refresh_from_db()
    assert not auditor.is_active
    entry = _entries(auditor)[-1]
    assert entry.source == "cli" and entry.username.startswith("os:") and "原因：离职" in entry.detail
    assert cmd_user(Namespace(action="reset-password", username="audit_admin", reason="")) == 0
    auditor.refresh_from_db()
    assert auditor.must_change_password and not auditor.check_password(PASSWORD)


def test_one_time_passwords_pass_the_policy_and_differ(regions):
    from django.contrib.auth.password_validation import validate_password

    passwords = {actions.one_time_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        validate_password(password)
        assert not set(password) & set("0O1lI")


# --- the list ----------------------------------------------------------------------------------------


def test_the_list_filters_by_role_region_and_status_and_pages_by_key(client, system_admin, regions):
    from fangpin.regions.models import Region

    villages = {code: Region.objects.get(code=code) for code in (builders.VILLAGE_A1, builders.VILLAGE_B1)}
    User.objects.bulk_create([
        User(username=f"cun{n:03d}", role=Role.VILLAGE, region=villages[builders.VILLAGE_A1 if n % 2 else builders.VILLAGE_B1],
             is_active=n % 10 != 0)
        for n in range(70)
    ])  # fmt: skip
    client.force_login(system_admin)
    url = reverse("accounts:users")
    first = client.get(url, {"role": "village"}).content.decode()
    rows = re.findall(r"<tr><td>(cun\d{3})</td>", first)
    assert rows == [f"cun{n:03d}" for n in range(50)]
    after = re.search(r'class="next-page" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(f"{url}?{after}").content.decode()
    assert re.findall(r"<tr><td>(cun\d{3})</td>", second) == [f"cun{n:03d}" for n in range(50, 70)]

    township_b = client.get(url, {"region": builders.TOWNSHIP_B}).content.decode()
    assert re.findall(r"<tr><td>(cun\d{3})</td>", township_b) == [f"cun{n:03d}" for n in range(0, 70, 2)][:50]
    disabled = client.get(url, {"status": "disabled"}).content.decode()
    assert re.findall(r"<tr><td>(cun\d{3})</td>", disabled) == [f"cun{n:03d}" for n in range(0, 70, 10)]
    assert "sys_admin" in client.get(url, {"q": "sys"}).content.decode()
