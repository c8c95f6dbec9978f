"""Database triggers that refuse UPDATE and DELETE on the audit log (and TRUNCATE on PostgreSQL), and
DELETE of the chain head row; `trigger_problems` tells verify when any of them is missing or altered."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection as default_connection
from django.db import connections

APPEND_ONLY_BODY = " BEGIN RAISE EXCEPTION 'audit log is append-only'; END "
SQLITE = {
    "audit_entry_no_update": "CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "audit_entry_no_delete": "CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "audit_head_no_delete": "CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_chainhead "
    "BEGIN SELECT RAISE(ABORT, 'audit chain head cannot be deleted'); END;",
}
POSTGRES_FUNCTION = (
    f"CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $${APPEND_ONLY_BODY}$$ "
    "LANGUAGE plpgsql;"
)
# name → (CREATE statement, the definition pg_get_triggerdef gives back)
POSTGRES = {
    "audit_entry_no_change": (
        "CREATE OR REPLACE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_auditentry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();",
        "BEFORE DELETE OR UPDATE ON audit_auditentry FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
    ),
    "audit_entry_no_truncate": (
        "CREATE OR REPLACE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();",
        "BEFORE TRUNCATE ON audit_auditentry FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
    ),
    "audit_head_no_delete": (
        "CREATE OR REPLACE TRIGGER audit_head_no_delete BEFORE DELETE OR TRUNCATE ON audit_chainhead "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();",
        "BEFORE DELETE OR TRUNCATE ON audit_chainhead FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
    ),
}
DROP = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_entry_no_change ON audit_auditentry;",
        "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;",
        "DROP TRIGGER IF EXISTS audit_head_no_delete ON audit_chainhead;",
        "DROP FUNCTION IF EXISTS audit_entry_append_only();",
    ],
}


def install(connection: Any) -> None:
    if connection.vendor == "sqlite":
        statements = list(SQLITE.values())
    elif connection.vendor == "postgresql":
        statements = [POSTGRES_FUNCTION, *(create for create, _ in POSTGRES.values())]
    else:
        statements = []
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def ensure_append_only(using: str = "default", **_: Any) -> None:
    connection = connections[using]
    if "audit_auditentry" in connection.introspection.table_names():
        install(connection)


# what each trigger guards, for the problem lines (the audit administrator reads them, not a DBA)
LABELS = {
    "audit_entry_no_update": "禁止修改审计记录的触发器",
    "audit_entry_no_delete": "禁止删除审计记录的触发器",
    "audit_entry_no_change": "禁止修改或删除审计记录的触发器",
    "audit_entry_no_truncate": "禁止清空审计日志的触发器",
    "audit_head_no_delete": "禁止删除审计链头的触发器",
}


def _normal(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip().rstrip(";").strip()


def trigger_problems(connection: Any = default_connection) -> list[str]:
    """Each missing, disabled or altered append-only trigger, as a Chinese problem line."""
    problems: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN ('audit_auditentry', 'audit_chainhead')"
            )
            found = dict(cursor.fetchall())
            for name, create in SQLITE.items():
                if name not in found:
                    problems.append(f"{LABELS[name]}不存在（已被删除，审计记录可被直接改动）")
                elif _normal(found[name]) != _normal(create.replace("IF NOT EXISTS ", "")):
                    problems.append(f"{LABELS[name]}已被改动")
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal "
                "AND c.relname IN ('audit_auditentry', 'audit_chainhead') AND pg_table_is_visible(c.oid)"
            )
            found = {name: (enabled, definition) for name, enabled, definition in cursor.fetchall()}
            for name, (_, expected) in POSTGRES.items():
                if name not in found:
                    problems.append(f"{LABELS[name]}不存在（已被删除，审计记录可被直接改动）")
                    continue
                enabled, definition = found[name]
                if enabled == "D":
                    problems.append(f"{LABELS[name]}已被停用")
                elif _normal(definition.replace("public.", "")) != _normal(
                    f"CREATE TRIGGER {name} {expected}"
                ):
                    problems.append(f"{LABELS[name]}已被改动")
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'audit_entry_append_only'")
            bodies = [row[0] for row in cursor.fetchall()]
            if len(bodies) != 1 or _normal(bodies[0]) != _normal(APPEND_ONLY_BODY):
                problems.append("防篡改触发器调用的函数不存在或已被改动（触发器不再拦截改动）")
    return problems
