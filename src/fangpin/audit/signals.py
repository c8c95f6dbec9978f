"""Audit capture for ordinary saves and deletes of the models registered with `audited`.

Bulk paths (imports) do not pass through here: they build their entries themselves and append
them in the same transaction (see registry.importer).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from . import actions
from .models import Action

_AUDITED: dict[type[models.Model], dict[str, Any]] = {}
REDACTED = "***"


def audited(*, exclude: tuple[str, ...] = (), redact: tuple[str, ...] = (), m2m: tuple[str, ...] = ()):
    """Class decorator: every save/delete of this model is written to the audit log.

    `redact` fields show only that they changed (a password hash); `m2m` names many-to-many fields
    whose additions and removals are logged too (a user's groups). The model may define
    `audit_household_id()` and `audit_region_code()` to file the entry under a household and a region."""

    def register(model: type[models.Model]) -> type[models.Model]:
        _AUDITED[model] = {"exclude": exclude, "redact": redact}
        pre_save.connect(_remember_before, sender=model, dispatch_uid=f"audit-pre-{model._meta.label}")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"audit-post-{model._meta.label}")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"audit-del-{model._meta.label}")
        for name in m2m:
            through = getattr(model, name).through
            m2m_changed.connect(
                _m2m_changed, sender=through, dispatch_uid=f"audit-m2m-{model._meta.label}-{name}"
            )
            _M2M[through] = name
        return model

    return register


_M2M: dict[type[models.Model], str] = {}


def _snapshot(instance: models.Model) -> dict[str, Any]:
    """Unredacted, held in memory only: a changed password hash must still show up in the diff."""
    return actions.snapshot(instance, exclude=_AUDITED[type(instance)]["exclude"])


def _redacted(instance: models.Model, data: dict[str, Any]) -> dict[str, Any]:
    for name in _AUDITED[type(instance)]["redact"]:
        if data.get(name):
            data[name] = REDACTED
    return data


def _filing(instance: models.Model) -> dict[str, Any]:
    household = getattr(instance, "audit_household_id", None)
    region = getattr(instance, "audit_region_code", None)
    return {
        "model": instance._meta.label,
        "object_id": str(instance.pk),
        "object_repr": str(instance),
        "household_id": household() if household else None,
        "region_code": (region() if region else "") or "",
    }


def _remember_before(sender: type[models.Model], instance: models.Model, raw: bool = False, **_: Any) -> None:
    instance._audit_before = None
    if raw or instance.pk is None:
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = _snapshot(old) if old is not None else None


def _after_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **_: Any
) -> None:
    if raw:
        return
    after = _snapshot(instance)
    before = getattr(instance, "_audit_before", None)
    if created or before is None:
        after = {k: v for k, v in after.items() if v not in (None, "", {}, [])}
        actions.record(Action.CREATE, after=_redacted(instance, after), **_filing(instance))
        return
    old, new = actions.diff(before, after)
    if new:
        old, new = _redacted(instance, old), _redacted(instance, new)
        actions.record(Action.UPDATE, before=old, after=new, **_filing(instance))


def _after_delete(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    actions.record(Action.DELETE, before=_redacted(instance, _snapshot(instance)), **_filing(instance))


def _m2m_changed(
    sender: type[models.Model], instance: models.Model, action: str, reverse: bool, model: Any,
    pk_set: set[Any] | None, **_: Any,
) -> None:  # fmt: skip
    """Log the relation as a whole, before and after, by name: `groups: [甲] → [甲, 乙]`."""
    name = _M2M[sender]
    if reverse:
        # changed from the other side (group.user_set.add(user)): log it on each user it touched
        if action in {"post_add", "post_remove"}:
            for owner in model._base_manager.filter(pk__in=pk_set or ()):
                change = {name: [str(instance)]}
                before, after = ({}, change) if action == "post_add" else (change, {})
                actions.record(Action.UPDATE, before=before, after=after, **_filing(owner))
        return
    if action in {"pre_add", "pre_remove", "pre_clear"}:
        instance._audit_m2m_before = sorted(str(o) for o in getattr(instance, name).all())
        return
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    before = getattr(instance, "_audit_m2m_before", [])
    after = sorted(str(o) for o in getattr(instance, name).all())
    if before != after:
        actions.record(Action.UPDATE, before={name: before}, after={name: after}, **_filing(instance))


# --- security events ----------------------------------------------------------------------------
from axes.signals import user_locked_out  # noqa: E402
from django.contrib.auth.signals import user_logged_in, user_login_failed  # noqa: E402


def _on_login(sender: Any, request: Any, user: Any, **_: Any) -> None:
    actions.record_soon(
        Action.LOGIN, model="accounts.User", object_id=str(user.pk), object_repr=user.username
    )


def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **_: Any) -> None:
    actions.record_soon(Action.LOGIN_FAILED, object_repr=str(credentials.get("username", ""))[:150])


def _on_lockout(sender: Any, request: Any, username: str, ip_address: str, **_: Any) -> None:
    actions.record_soon(
        Action.LOCKOUT, object_repr=username or "", detail=f"连续登录失败，账号已锁定（IP {ip_address}）"
    )


user_logged_in.connect(_on_login, dispatch_uid="audit-login")
user_login_failed.connect(_on_login_failed, dispatch_uid="audit-login-failed")
user_locked_out.connect(_on_lockout, dispatch_uid="audit-lockout")
