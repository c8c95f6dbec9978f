"""Account operations: the only place users are created or changed.

The system administrator's operations (`add_user`, `change_user`, `set_active`, `reset_password`) and
everyone's `change_own_password` write one audit entry each, with the page's field names and shown
values (角色: 村级/驻村工作队 → 乡镇业务员), and never the password or its hash: they save with
`QuerySet.update` / `bulk_create`, past the model's audit signal, which would log column names. Other
saves of a user (`create_user` at the command line, the demo) are still captured by that signal.

三员分立, the rules these operations keep:
- only the system administrator (capability `manage_users`) manages accounts, and only business
  accounts (`MANAGED_ROLES`); the system, security and audit administrators' accounts are created,
  changed, disabled and reset only on the server's command line (`fangpin user`, actor None);
- so nobody can make themselves or anyone else a separated administrator through the pages, and the
  system administrator cannot change their own account there (their own password: the change page);
- accounts are never deleted (the log names them), only disabled; a disabled account cannot log in
  and its open sessions end at their next request;
- unlocking a locked account stays the security administrator's (`unlock`); a reset does not unlock.
"""

from __future__ import annotations

import secrets
from typing import Any

from axes.utils import reset
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from fangpin.audit.actions import diff, record
from fangpin.audit.models import Action
from fangpin.regions.models import Level, Region

from .models import User
from .roles import MANAGED_ROLES, REGISTER_ROLES, SEPARATED_ADMINS, Department, Role

# The lowest region level each role can be scoped to.
ROLE_LEVELS: dict[Role, set[Level]] = {
    Role.COUNTY_ADMIN: {Level.COUNTY},
    Role.COUNTY_STAFF: {Level.COUNTY},
    Role.TOWNSHIP: {Level.TOWNSHIP},
    Role.VILLAGE: {Level.VILLAGE},
    Role.CADRE: {Level.TOWNSHIP, Level.VILLAGE},
    Role.SUPERVISOR: {Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP},
}


def placement(role: Role, region_code: str, department: str) -> Region | None:
    """The region a role's account sits in, checked against what the role needs: a village role a
    village, a township role a township, a department data officer a department (and no region)."""
    region = Region.objects.filter(code=region_code).first() if region_code else None
    if region_code and region is None:
        raise ValidationError(f"区划代码 {region_code} 不存在")
    if role in REGISTER_ROLES and region is None:
        raise ValidationError(f"{role.label}必须指定所属区划")
    if region is not None and role in ROLE_LEVELS and Level(region.level) not in ROLE_LEVELS[role]:
        raise ValidationError(f"{role.label}不能设在{Level(region.level).label}级区划")
    if role == Role.DEPARTMENT and not department:
        raise ValidationError("部门数据员必须指定部门")
    if department and department not in Department.values:
        raise ValidationError("部门不在可选范围内")
    return region


def _unsaved(
    *, username: str, role: Role, region_code: str, full_name: str, department: str, unit: str
) -> User:
    """A new account, placed (`placement`) and under a user name no other account has in any case."""
    region = placement(role, region_code, department)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"用户名 {username} 已存在")
    return User(
        username=username,
        role=role,
        region=region,
        full_name=full_name,
        department=department if role == Role.DEPARTMENT else "",
        unit=unit or (str(region) if region else ""),
    )


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    role: Role | str,
    region_code: str = "",
    full_name: str = "",
    department: str = "",
    unit: str = "",
    validate: bool = True,
) -> User:
    user = _unsaved(
        username=username,
        role=Role(role),
        region_code=region_code,
        full_name=full_name,
        department=department,
        unit=unit,
    )
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


def unlock(*, username: str = "", ip_address: str = "") -> int:
    """Clear what locked (the security administrator's decision): an account's failed-login records
    from every address, or an address's records across every account it tried."""
    if not username and not ip_address:
        raise ValidationError("请指定要解除锁定的账号或地址")
    cleared = reset(username=username) if username else reset(ip=ip_address)
    if username:
        record(Action.UNLOCK, model="accounts.User", object_repr=username,
               detail=f"解除账号登录锁定（清除{cleared}条失败记录）")  # fmt: skip
    else:
        record(Action.UNLOCK, model="accounts.User", object_repr=ip_address,
               detail=f"解除地址 {ip_address} 的登录锁定（清除{cleared}条失败记录）")  # fmt: skip
    return cleared


# --- the system administrator's user pages (三员分立: see the module's docstring) ------------------

# unambiguous when read out over the telephone: no 0/O, 1/l/I
_LOWER = "abcdefghijkmnpqrstuvwxyz"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"
_SYMBOLS = "@#%+=?"


def one_time_password(user: User | None = None) -> str:
    """A random password that passes the password policy, FANGPIN_ONE_TIME_PASSWORD_LENGTH long."""
    length = max(settings.FANGPIN_ONE_TIME_PASSWORD_LENGTH, 8)
    pools = [_LOWER, _UPPER, _DIGITS, _SYMBOLS]
    everything = "".join(pools)
    while True:
        chars = [secrets.choice(pool) for pool in pools]
        chars += [secrets.choice(everything) for _ in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        try:
            validate_password(password, user)
        except ValidationError:
            continue
        return password


def may_administer(actor: User | None, target: User | None = None) -> None:
    """Refuse (PermissionDenied) what the rules of 三员分立 do not allow. `actor` None is the server's
    operator at the command line, who may manage every account."""
    if actor is None:
        return
    if not actor.can("manage_users"):
        raise PermissionDenied("只有系统管理员可以管理用户")
    if target is None:
        return
    if target.pk == actor.pk:
        raise PermissionDenied("不能在用户管理中修改本人账号；修改本人密码请使用“修改密码”")
    if target.role in SEPARATED_ADMINS or target.is_superuser:
        raise PermissionDenied(
            "系统管理员、安全管理员、审计管理员的账号只能在服务器上用 fangpin user 命令管理"
        )


def _assignable(actor: User | None, role: Role | str) -> Role:
    if role not in Role.values:
        raise ValidationError("请选择角色")
    role = Role(role)
    if actor is not None and role not in MANAGED_ROLES:
        raise ValidationError(
            "系统管理员、安全管理员、审计管理员的账号只能在服务器上用 fangpin user 命令创建"
        )
    return role


def shown(user: User) -> dict[str, str]:
    """A user as the pages show it, by the pages' field names: the audit entries' before/after."""
    return {
        "用户名": user.username,
        "姓名": user.full_name,
        "角色": user.role_label,
        "所属区划": str(user.region) if user.region_id else "",
        "部门": Department(user.department).label if user.department else "",
        "单位": user.unit,
        "账号状态": "启用" if user.is_active else "停用",
        "须修改密码": "是" if user.must_change_password else "否",
    }


def _said(old: dict[str, Any], new: dict[str, Any]) -> str:
    return "；".join(f"{name}：{old.get(name) or '（空）'} → {new[name] or '（空）'}" for name in new)


def _record(
    action: Action, user: User, detail: str, before: dict | None = None, after: dict | None = None
) -> None:
    record(action, model=User._meta.label, object_id=str(user.pk), object_repr=user.username,
           region_code=user.region.code if user.region_id else "", before=before, after=after,
           detail=detail)  # fmt: skip


def _save(user: User, before: dict[str, str], *fields: str, detail: str) -> dict[str, str]:
    """Write the named columns (past the model's signal) and record the change by the pages' names."""
    User.objects.filter(pk=user.pk).update(**{name: getattr(user, name) for name in fields})
    old, new = diff(before, shown(user))
    if new or "password" in fields:
        _record(Action.UPDATE, user, detail + (f"（{_said(old, new)}）" if new else ""), old, new)
    return new


@transaction.atomic
def add_user(
    *,
    actor: User | None,
    username: str,
    role: Role | str,
    region_code: str = "",
    full_name: str = "",
    department: str = "",
    unit: str = "",
) -> tuple[User, str]:
    """A new account with a one-time password the user must change at first login. Returns the user
    and that password, which is shown once to the administrator and stored nowhere in clear."""
    may_administer(actor)
    role = _assignable(actor, role)
    username = username.strip()
    if not username:
        raise ValidationError("请填写用户名")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise ValidationError("用户名只能包含字母、数字和 @ . + - _ 符号") from exc
    if len(username) > User._meta.get_field("username").max_length:
        raise ValidationError("用户名太长")
    user = _unsaved(
        username=username,
        role=role,
        region_code=region_code,
        full_name=full_name.strip(),
        department=department,
        unit=unit.strip(),
    )
    user.must_change_password = True
    password = one_time_password(user)
    user.set_password(password)
    User.objects.bulk_create([user])  # past the audit signal: recorded once, below, by the pages' names
    after = {name: value for name, value in shown(user).items() if value}
    _record(Action.CREATE, user, f"新建用户 {username}（{role.label}），已发放一次性密码", after=after)
    return user, password


@transaction.atomic
def change_user(
    *,
    actor: User | None,
    user: User,
    role: Role | str,
    region_code: str = "",
    full_name: str = "",
    department: str = "",
    unit: str = "",
) -> dict[str, str]:
    """Change an account's name, unit, role and place. Returns what changed (field name → new value)."""
    may_administer(actor, user)
    role = _assignable(actor, role)
    region = placement(role, region_code, department)
    before = shown(user)
    user.role, user.region = role, region
    user.full_name, user.unit = full_name.strip(), unit.strip()
    user.department = department if role == Role.DEPARTMENT else ""
    fields = ("role", "region", "full_name", "unit", "department")
    return _save(user, before, *fields, detail=f"修改用户 {user.username}")


@transaction.atomic
def set_active(*, actor: User | None, user: User, active: bool, reason: str = "") -> None:
    """Disable an account (it can no longer log in; its sessions end) or enable it again. Never delete."""
    may_administer(actor, user)
    if user.is_active == active:
        return
    before = shown(user)
    user.is_active = active
    verb = "启用" if active else "停用"
    detail = f"{verb}账号 {user.username}" + (f"，原因：{reason.strip()}" if reason.strip() else "")
    _save(user, before, "is_active", detail=detail[:480])


@transaction.atomic
def reset_password(*, actor: User | None, user: User) -> str:
    """A new one-time password (returned, shown once) that the user must change at the next login."""
    may_administer(actor, user)
    before = shown(user)
    password = one_time_password(user)
    user.set_password(password)
    user.must_change_password = True
    _save(user, before, "password", "must_change_password",
          detail=f"重置用户 {user.username} 的密码：已发放一次性密码，须在下次登录后修改")  # fmt: skip
    return password


@transaction.atomic
def change_own_password(*, user: User, current: str, new: str) -> None:
    """Every user's own change: the current password first, then the password policy."""
    if not user.check_password(current):
        raise ValidationError({"current": "当前密码不正确"})
    if new == current:
        raise ValidationError({"new": "新密码不能与当前密码相同"})
    try:
        validate_password(new, user)
    except ValidationError as exc:
        raise ValidationError({"new": exc.error_list}) from exc  # every refusal names its field
    before = shown(user)
    user.set_password(new)
    user.must_change_password = False
    _save(user, before, "password", "must_change_password", detail=f"{user.username} 修改了本人密码")
