"""Database triggers that refuse UPDATE and DELETE on the audit log (and TRUNCATE on PostgreSQL)."""

from __future__ import annotations

from typing import Any

from django.db import connections

SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
]
POSTGRES = [
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$ LANGUAGE plpgsql;",
    "CREATE OR REPLACE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_auditentry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();",
    "CREATE OR REPLACE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();",
]
DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_entry_no_update;",
        "DROP TRIGGER IF EXISTS audit_entry_no_delete;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_entry_no_change ON audit_auditentry;",
        "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;",
        "DROP FUNCTION IF EXISTS audit_entry_append_only();",
    ],
}


def install(connection: Any) -> None:
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def ensure_append_only(using: str = "default", **_: Any) -> None:
    connection = connections[using]
    if "audit_auditentry" in connection.introspection.table_names():
        install(connection)
