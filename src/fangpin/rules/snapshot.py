"""A snapshot of the register as Parquet tables: what both engines read.

Integer keys (person_key, household_key) instead of ID strings, as DESIGN.md's measurements advise;
values derived once here (age on the run date, sex and birth date from the ID number, disability
category from a 残疾人证号) so the rules need no engine-specific date or string functions. The ID
number itself never leaves the database: only its keyed hash does, for joining rosters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fangpin.common.crypto import cipher
from fangpin.common.idnumber import IdFault, birth_date_of, gender_of
from fangpin.registry.faults import ID_COLUMN
from fangpin.registry.models import (
    INCOME_COMPONENTS,
    RIGID_COMPONENTS,
    ExpenditureRecord,
    Household,
    IncomeRecord,
    Member,
)

PERSON_FIELDS = (
    "id", "household_id", "region_code", "id_number_hash", "id_type", "name", "relation", "gender", "birth_date",
    "education", "school_status", "dropout_reason", "health", "labour_skill", "work_months", "work_place",
    "resident_medical_insurance", "employee_medical_insurance", "critical_illness_insurance", "resident_pension",
    "employee_pension", "dibao", "tekun", "public_welfare_post", "public_welfare_post_months", "phone_hash",
    "id_number_enc", "value_faults",
)  # fmt: skip
HOUSEHOLD_FIELDS = (
    "id", "household_no", "region_code", "head_name", "household_type", "monitoring_category", "risk_types",
    "measures", "identified_month", "risk_eliminated", "eliminated_month", "elimination_method",
    "development_measure_status", "no_labour_household", "claims_income", "compliant_self_pay",
    "monitoring_contact", "monitoring_contact_phone_hash", "current_size", "annual_size", "cultivated_area",
    "forest_area", "returned_farmland_area", "orchard_area", "pasture_area", "water_area", "dangerous_house",
    "housing_area", "safe_drinking_water", "sanitary_toilet", "road_type", "has_electricity", "phone_hash",
    "income_year", "per_capita_income",
)  # fmt: skip
FLOATS = {
    "work_months", "public_welfare_post_months", "claims_income", "compliant_self_pay", "cultivated_area",
    "forest_area", "returned_farmland_area", "orchard_area", "pasture_area", "water_area", "housing_area",
    "per_capita_income",
}  # fmt: skip


def _age(birth: dt.date | None, day: dt.date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _month_date(month: str) -> dt.date | None:
    return dt.date(int(month[:4]), int(month[4:6]), 1) if len(month) == 6 else None


def _months_between(start: dt.date | None, end: dt.date | None) -> int | None:
    if start is None or end is None:
        return None
    return (end.year - start.year) * 12 + end.month - start.month


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


PERSON_COLUMNS = (
    "person_key", "household_key", "region_code", "id_hash", "id_type", "name", "relation", "gender",
    "birth_date", "age", "id_gender", "id_birth_date", "disability_category", "disability_grade",
    "education", "school_status", "dropout_reason", "health", "labour_skill", "work_months", "work_place",
    "resident_medical", "employee_medical", "critical_illness", "resident_pension", "employee_pension",
    "dibao", "tekun", "public_welfare_post", "public_welfare_post_months", "has_phone", "phone_key",
)  # fmt: skip
HOUSEHOLD_COLUMNS = (
    "household_key", *(f for f in HOUSEHOLD_FIELDS if f not in {"id", "measures"} and not f.endswith("phone_hash")),
    "has_phone", "phone_key", "has_contact_phone", "measure_groups", "measure_items", "identified_date",
    "months_monitored", "months_to_elimination",
)  # fmt: skip
INCOME_FIELDS = ("household_id", "year", *INCOME_COMPONENTS, "computed_net", "computed_per_capita",
                 "reported_per_capita", "divisor_size")  # fmt: skip
INCOME_TABLE_COLUMNS = ("household_key", *INCOME_FIELDS[1:])
BATCH = 50_000  # rows per Parquet row group: memory stays flat however large the register


def person_values(day: dt.date) -> Iterator[tuple]:
    decrypt = cipher().decrypt
    for row in Member.objects.order_by("id").values_list(*PERSON_FIELDS).iterator(chunk_size=5000):
        data = dict(zip(PERSON_FIELDS, row, strict=True))
        id_number = decrypt(data["id_number_enc"], "id")
        if untrusted_id(data["value_faults"]):
            id_number = ""  # a number that fails its checks tells neither sex nor birth date
        card = len(id_number) == 20
        id_birth = birth_date_of(id_number)
        yield (
            data["id"], data["household_id"], data["region_code"], data["id_number_hash"], data["id_type"],
            data["name"], data["relation"], data["gender"], data["birth_date"], _age(data["birth_date"] or id_birth, day),
            gender_of(id_number) if id_number else None, id_birth, id_number[18] if card else "", id_number[19] if card else "",
            data["education"], data["school_status"], data["dropout_reason"], data["health"], data["labour_skill"],
            _float(data["work_months"]), data["work_place"], data["resident_medical_insurance"],
            data["employee_medical_insurance"], data["critical_illness_insurance"], data["resident_pension"],
            data["employee_pension"], data["dibao"], data["tekun"], data["public_welfare_post"],
            _float(data["public_welfare_post_months"]), bool(data["phone_hash"]), data["phone_hash"],
        )  # fmt: skip


def untrusted_id(value_faults: dict[str, dict[str, str]] | None) -> bool:
    """An ID the import kept with a fault (other than a converted 15-digit number)."""
    fault = (value_faults or {}).get(ID_COLUMN)
    return bool(fault) and fault["kind"] != IdFault.OLD15


VALUE_FAULT_COLUMNS = ("household_key", "person_key", "column_name", "kind", "shown")


def value_fault_values() -> Iterator[tuple]:
    """The faults imports kept (registry.faults), one row per column: the 15_import_faults rules read them."""
    members = Member.objects.exclude(value_faults={}).order_by("id")
    for pk, household_id, recorded in members.values_list("id", "household_id", "value_faults").iterator(
        5000
    ):
        for column, fault in sorted(recorded.items()):
            yield household_id, pk, column, fault["kind"], fault.get("shown", "")
    households = Household.objects.exclude(value_faults={}).order_by("id")
    for pk, recorded in households.values_list("id", "value_faults").iterator(5000):
        for column, fault in sorted(recorded.items()):
            yield pk, None, column, fault["kind"], fault.get("shown", "")


def running_measures(day: dt.date) -> dict[int, dict[str, list[str]]]:
    """Measures recorded in the platform (帮扶措施 of monitoring) running on the day, by household:
    the rules see them beside the measure columns of the national export."""
    from fangpin.monitoring.models import Measure

    running: dict[int, dict[str, list[str]]] = {}
    measures = Measure.objects.filter(start__lte=day).exclude(end__lt=day).order_by("household_id", "id")
    for household_id, group, item in measures.values_list("household_id", "group", "item").iterator(5000):
        running.setdefault(household_id, {}).setdefault(group, []).append(item)
    return running


def _merged_measures(imported: dict[str, list[str]], recorded: dict[str, list[str]]) -> dict[str, list[str]]:
    merged = {group: list(items) for group, items in imported.items()}
    for group, items in recorded.items():
        merged[group] = list(dict.fromkeys([*merged.get(group, []), *items]))
    return merged


def household_values(day: dt.date) -> Iterator[tuple]:
    recorded = running_measures(day)
    plain = [f for f in HOUSEHOLD_FIELDS if f not in {"id", "measures"} and not f.endswith("phone_hash")]
    for row in Household.objects.order_by("id").values_list(*HOUSEHOLD_FIELDS).iterator(chunk_size=5000):
        data = dict(zip(HOUSEHOLD_FIELDS, row, strict=True))
        identified = _month_date(data["identified_month"])
        eliminated = _month_date(data["eliminated_month"])
        measures = _merged_measures(data["measures"] or {}, recorded.get(data["id"], {}))
        yield (
            data["id"],
            *((_float(data[k]) if k in FLOATS else data[k]) for k in plain),
            bool(data["phone_hash"]), data["phone_hash"], bool(data["monitoring_contact_phone_hash"]),
            "、".join(g for g, items in measures.items() if items),
            "、".join(i for items in measures.values() for i in items),
            identified, _months_between(identified, eliminated or day), _months_between(identified, eliminated),
        )  # fmt: skip


def income_values() -> Iterator[tuple]:
    whole = {"household_id", "year", "divisor_size"}
    for row in (
        IncomeRecord.objects.order_by("household_id", "year").values_list(*INCOME_FIELDS).iterator(5000)
    ):
        yield tuple(v if name in whole else _float(v) for name, v in zip(INCOME_FIELDS, row, strict=True))


# the rigid expenditure of the unified accounting (收支核算, registry.ExpenditureRecord): the items as
# recorded, and their total as registry/accounting.py counts it: the known items among those the regime's
# accounting names on the run day (all three where it names none), None when every one is unknown (never zero)
EXPENDITURE_COLUMNS = ("household_key", "year", *RIGID_COMPONENTS, "total")


def expenditure_values(day: dt.date) -> Iterator[tuple]:
    from fangpin.regimes.regime import regime_for

    counted = set(regime_for(day).accounting.rigid_items or RIGID_COMPONENTS)
    fields = ("household_id", "year", *RIGID_COMPONENTS)
    records = ExpenditureRecord.objects.order_by("household_id", "year").values_list(*fields)
    for household, year, *items in records.iterator(5000):
        # summed as Decimals, as the accounting does
        known = [
            v for name, v in zip(RIGID_COMPONENTS, items, strict=True) if name in counted and v is not None
        ]
        yield (household, year, *(_float(v) for v in items), float(sum(known, Decimal(0))) if known else None)


BOOLEANS = {
    "resident_medical", "employee_medical", "critical_illness", "resident_pension", "employee_pension", "dibao",
    "tekun", "has_phone", "risk_eliminated", "no_labour_household", "dangerous_house", "safe_drinking_water",
    "sanitary_toilet", "has_electricity", "has_contact_phone",
}  # fmt: skip
INTEGERS = {
    "person_key", "household_key", "age", "current_size", "annual_size", "income_year", "months_monitored",
    "months_to_elimination", "year", "divisor_size",
}  # fmt: skip
DATES = {"birth_date", "id_birth_date", "identified_date"}


def arrow_type(column: str) -> pa.DataType:
    """The one place column types are decided, so DuckDB and Spark read the same schema."""
    if column in INTEGERS:
        return pa.int64()
    if column in BOOLEANS:
        return pa.bool_()
    if column in DATES:
        return pa.date32()
    if column in FLOATS or column in INCOME_COLUMNS:
        return pa.float64()
    return pa.string()


INCOME_COLUMNS = {*INCOME_COMPONENTS, "computed_net", "computed_per_capita", "reported_per_capita"}
# typed here, not by `arrow_type`: "education" is also a person's 文化程度 (text)
EXPENDITURE_SCHEMA = pa.schema(
    [("household_key", pa.int64()), ("year", pa.int64())]
    + [(name, pa.float64()) for name in EXPENDITURE_COLUMNS[2:]]
)


def roster_specs() -> list[tuple[str, pa.Schema, Iterator[tuple]]]:
    """One table per roster kind (roster_medical, …): matched rows only, keyed like the register."""
    from fangpin.feeds.kinds import KINDS
    from fangpin.feeds.models import RosterRecord

    specs = []
    for kind in KINDS.values():
        value_fields = [f for f in kind.fields if f.key not in {"id_number", "date"}]
        schema = pa.schema(
            [("person_key", pa.int64()), ("household_key", pa.int64()), ("date", pa.date32()), ("period", pa.string())]
            + [(f.key, pa.float64() if f.kind == "money" else pa.date32() if f.kind == "date" else pa.string())
               for f in value_fields]
        )  # fmt: skip

        def rows(kind=kind, value_fields=value_fields) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
            records = RosterRecord.objects.filter(kind=kind.code, household__isnull=False).values_list(
                "member_id", "household_id", "date", "roster__period", "values"
            )
            for member, household, date, period, values in records.iterator(chunk_size=5000):
                yield (
                    member,
                    household,
                    date,
                    period,
                    *(_roster_value(f, values.get(f.key)) for f in value_fields),
                )

        specs.append((kind.table, schema, rows()))
    return specs


def _roster_value(field: Any, value: Any) -> Any:
    if value is None:
        return None
    if field.kind == "money":
        return float(value)
    if field.kind == "date":
        return dt.date.fromisoformat(value)
    return value


def _write(path: Path, schema: pa.Schema, rows: Iterator[tuple]) -> int:
    """Stream rows into a Parquet file in row groups of BATCH rows."""
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                writer.write_table(_table(batch, schema))
                count += len(batch)
                batch = []
        if batch or count == 0:
            writer.write_table(_table(batch, schema))
            count += len(batch)
    return count


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema.names]
    return pa.table(
        {name: list(values) for name, values in zip(schema.names, columns, strict=True)}, schema=schema
    )


def write_snapshot(directory: Path, day: dt.date) -> dict[str, int]:
    """Write the register's and the rosters' Parquet files; returns their row counts."""
    directory.mkdir(parents=True, exist_ok=True)

    def schema(names: tuple[str, ...]) -> pa.Schema:
        return pa.schema([(name, arrow_type(name)) for name in names])

    tables = [
        ("person", schema(PERSON_COLUMNS), person_values(day)),
        ("household", schema(HOUSEHOLD_COLUMNS), household_values(day)),
        ("income", schema(INCOME_TABLE_COLUMNS), income_values()),
        ("expenditure", EXPENDITURE_SCHEMA, expenditure_values(day)),
        ("value_fault", schema(VALUE_FAULT_COLUMNS), value_fault_values()),
        *roster_specs(),
    ]
    return {
        table: _write(directory / f"{table}.parquet", table_schema, rows)
        for table, table_schema, rows in tables
    }
