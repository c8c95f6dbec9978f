"""Fast inserts for imports: Django's bulk_create spends most of its time compiling SQL value by
value; here each field's adapter is chosen once and rows go through `executemany`.

Primary keys are allocated up front (the import holds the write lock: SQLite's IMMEDIATE
transaction, or the PostgreSQL sequence), so the caller has them for foreign keys and the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

Adapter = Callable[[Any], Any]


def _adapter(field: models.Field) -> Adapter | None:
    """None means the driver takes the Python value as it is (str, int, bool, Decimal)."""
    if isinstance(field, models.JSONField | models.DateTimeField | models.DateField):
        return lambda value, f=field: f.get_db_prep_save(value, connection)
    return None


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        start = cursor.fetchone()[0] + 1
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(start, (row[0] + 1) if row else 1)
        return list(range(start, start + count))


def fast_insert(model: type[models.Model], objects: Sequence[models.Model], batch_size: int = 1000) -> None:
    """Insert unsaved instances and set their pk. Runs `pre_save` (auto_now and friends) but sends
    no signals: callers write their own audit entries."""
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    adapters = [_adapter(f) for f in fields]
    auto_now = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj, pk in zip(objects, allocate_ids(model, len(objects)), strict=True):
        obj.pk = pk
        for field in auto_now:
            field.pre_save(obj, add=True)
        obj._state.adding = False
        obj._state.db = connection.alias
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [model._meta.pk, *fields])
    placeholders = ", ".join(["%s"] * (len(fields) + 1))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    attnames = [f.attname for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(objects), batch_size):
            rows = []
            for obj in objects[start : start + batch_size]:
                row = [obj.pk]
                for attname, adapt in zip(attnames, adapters, strict=True):
                    value = getattr(obj, attname)
                    row.append(adapt(value) if adapt is not None and value is not None else value)
                rows.append(row)
            cursor.executemany(sql, rows)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # keep AUTOINCREMENT's counter ahead of the ids we assigned
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s",
                [objects[-1].pk, model._meta.db_table],
            )
