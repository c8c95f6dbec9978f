"""Fast inserts and updates for imports: Django's bulk_create and bulk_update spend most of their time
compiling SQL value by value; here each field's adapter is chosen once and rows go through `executemany`.

The work is split so that an import can do all of it but the executing outside its write transaction:
`insert_values` and `update_values` turn objects into ready parameter rows (pure Python, no query),
`execute` runs them. Primary keys are allocated by the caller (`allocate_ids` under the write lock,
or `first_free_id` for a plan that checks, under the lock, that nobody inserted since).
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
    start = first_free_id(model)
    return list(range(start, start + count))


def first_free_id(model: type[models.Model]) -> int:
    """The id the next insert would take (SQLite and others without sequences): past the largest id and,
    on SQLite, past AUTOINCREMENT's counter (ids once used are never given again)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        start = cursor.fetchone()[0] + 1
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(start, (row[0] + 1) if row else 1)
    return start


def _fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def insert_sql(model: type[models.Model]) -> str:
    """INSERT of every concrete column, the primary key first (the order of `insert_values`' rows)."""
    quote = connection.ops.quote_name
    fields = _fields(model)
    columns = ", ".join(quote(f.column) for f in [model._meta.pk, *fields])
    placeholders = ", ".join(["%s"] * (len(fields) + 1))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"


def insert_columns(model: type[models.Model]) -> list[str]:
    """The attnames in the order of `insert_values`' rows (the primary key's first)."""
    return [model._meta.pk.attname, *(f.attname for f in _fields(model))]


def insert_values(
    model: type[models.Model], ids: Sequence[int], rows: Sequence[dict[str, Any]]
) -> list[list[Any]]:
    """Parameter rows for `insert_sql`: plain dicts (attname → value) adapted for the database."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    adapters = [
        (f.attname, _adapter(f, wrapper), f.get_default() if f.has_default() else None)
        for f in _fields(model)
    ]
    values_list = []
    for pk, row in zip(ids, rows, strict=True):
        values = [pk]
        for attname, adapt, default in adapters:
            value = row.get(attname, default)
            values.append(adapt(value) if adapt is not None and value is not None else value)
        values_list.append(values)
    return values_list


def update_sql(model: type[models.Model], attnames: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    meta = model._meta
    sets = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in attnames)
    return f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"


def update_values(
    model: type[models.Model], objects: Sequence[models.Model], attnames: Sequence[str]
) -> list[list[Any]]:
    """Parameter rows for `update_sql`: the objects' present values, adapted as Django's bulk_update would."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    fields = [model._meta.get_field(name) for name in attnames]
    return [
        [*(f.get_db_prep_save(getattr(obj, f.attname), wrapper) for f in fields), obj.pk] for obj in objects
    ]


def execute(sql: str, rows: Sequence[Sequence[Any]], batch_size: int = 1000) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, rows[start : start + batch_size])


def keep_sequence_ahead(model: type[models.Model], last_id: int) -> None:
    """SQLite: keep AUTOINCREMENT's counter ahead of ids assigned by hand (a no-op elsewhere)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s", [last_id, model._meta.db_table]
        )


def insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], batch_size: int = 1000
) -> list[int]:
    """Insert plain dicts (attname → value) and return their new ids, in order."""
    if not rows:
        return []
    ids = allocate_ids(model, len(rows))
    execute(insert_sql(model), insert_values(model, ids, rows), batch_size)
    keep_sequence_ahead(model, ids[-1])
    return ids


def prepare_insert(
    model: type[models.Model], objects: Sequence[models.Model], ids: Sequence[int]
) -> list[list[Any]]:
    """Give unsaved instances their ids and return their parameter rows for `insert_sql`. Runs `pre_save`
    (auto_now and friends) but sends no signals: callers write their own audit entries."""
    fields = _fields(model)
    auto_now = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    attnames = [f.attname for f in fields]
    for obj, pk in zip(objects, ids, strict=True):
        for field in auto_now:
            field.pre_save(obj, add=True)
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return insert_values(model, ids, [{name: getattr(obj, name) for name in attnames} for obj in objects])


def fast_insert(model: type[models.Model], objects: Sequence[models.Model], batch_size: int = 1000) -> None:
    """Insert unsaved instances and set their pk (see `prepare_insert`)."""
    if not objects:
        return
    ids = allocate_ids(model, len(objects))
    execute(insert_sql(model), prepare_insert(model, objects, ids), batch_size)
    keep_sequence_ahead(model, ids[-1])
