"""Fast inserts for imports: Django's bulk_create spends most of its time compiling SQL value by
value; here each field's adapter is chosen once and rows go through `executemany`.

Primary keys are allocated up front (the import holds the write lock: SQLite's IMMEDIATE
transaction, or the PostgreSQL sequence), so the caller has them for foreign keys and the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

Adapter = Callable[[Any], Any]


def _adapter(field: models.Field, wrapper: BaseDatabaseWrapper) -> Adapter | None:
    """None means the driver takes the Python value as it is (str, int, bool, Decimal).

    `wrapper` is the connection itself, not django.db.connection: every attribute read through that
    proxy looks the connection up again (a context-local lookup), once per value of a 500,000-row file."""
    if isinstance(field, models.JSONField | models.DateTimeField | models.DateField):
        return lambda value, f=field: f.get_db_prep_save(value, wrapper)
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


def insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], batch_size: int = 1000
) -> list[int]:
    """Insert plain dicts (attname → value) and return their new ids, in order."""
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    wrapper = connections[DEFAULT_DB_ALIAS]
    adapters = [
        (f.attname, _adapter(f, wrapper), f.get_default() if f.has_default() else None) for f in fields
    ]
    ids = allocate_ids(model, len(rows))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [model._meta.pk, *fields])
    placeholders = ", ".join(["%s"] * (len(fields) + 1))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = []
            for pk, row in zip(
                ids[start : start + batch_size], rows[start : start + batch_size], strict=True
            ):
                values = [pk]
                for attname, adapt, default in adapters:
                    value = row.get(attname, default)
                    values.append(adapt(value) if adapt is not None and value is not None else value)
                batch.append(values)
            cursor.executemany(sql, batch)
        if connection.vendor == "sqlite":  # keep AUTOINCREMENT's counter ahead of the ids we assigned
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s",
                [ids[-1], model._meta.db_table],
            )
    return ids


def fast_insert(model: type[models.Model], objects: Sequence[models.Model], batch_size: int = 1000) -> None:
    """Insert unsaved instances and set their pk. Runs `pre_save` (auto_now and friends) but sends
    no signals: callers write their own audit entries."""
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    auto_now = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    attnames = [f.attname for f in fields]
    for obj in objects:
        for field in auto_now:
            field.pre_save(obj, add=True)
    rows = [{name: getattr(obj, name) for name in attnames} for obj in objects]
    for obj, pk in zip(objects, insert_rows(model, rows, batch_size), strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
