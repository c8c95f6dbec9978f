"""Account operations: the only place users are created or changed."""

from __future__ import annotations

from axes.utils import reset
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from fangpin.audit.actions import record
from fangpin.audit.models import Action
from fangpin.regions.models import Level, Region

from .models import User
from .roles import REGISTER_ROLES, Role

# The lowest region level each role can be scoped to.
ROLE_LEVELS: dict[Role, set[Level]] = {
    Role.COUNTY_ADMIN: {Level.COUNTY},
    Role.COUNTY_STAFF: {Level.COUNTY},
    Role.TOWNSHIP: {Level.TOWNSHIP},
    Role.VILLAGE: {Level.VILLAGE},
    Role.CADRE: {Level.TOWNSHIP, Level.VILLAGE},
    Role.SUPERVISOR: {Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP},
}


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
    role = Role(role)
    region = Region.objects.filter(code=region_code).first() if region_code else None
    if region_code and region is None:
        raise ValidationError(f"区划代码 {region_code} 不存在")
    if role in REGISTER_ROLES and region is None:
        raise ValidationError(f"{role.label}必须指定所属区划")
    if region is not None and role in ROLE_LEVELS and Level(region.level) not in ROLE_LEVELS[role]:
        raise ValidationError(f"{role.label}不能设在{Level(region.level).label}级区划")
    if role == Role.DEPARTMENT and not department:
        raise ValidationError("部门数据员必须指定部门")
    if User.objects.filter(username=username).exists():
        raise ValidationError(f"用户名 {username} 已存在")
    user = User(
        username=username,
        role=role,
        region=region,
        full_name=full_name,
        department=department if role == Role.DEPARTMENT else "",
        unit=unit or (str(region) if region else ""),
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
