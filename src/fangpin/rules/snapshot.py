"""A snapshot of the register as Parquet tables: what both engines read.

Integer keys (person_key, household_key) instead of ID strings, as DESIGN.md's measurements advise;
values derived once here (age on the run date, sex and birth date from the ID number, disability
category from a 残疾人证号) so the rules need no engine-specific date or string functions. The ID
number itself never leaves the database: only its keyed hash does, for joining rosters.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fangpin.common.crypto import cipher
from fangpin.common.idnumber import birth_date_of, gender_of
from fangpin.registry.models import INCOME_COMPONENTS, Household, IncomeRecord, Member

PERSON_FIELDS = (
    "id", "household_id", "region_code", "id_number_hash", "id_type", "name", "relation", "gender", "birth_date",
    "education", "school_status", "dropout_reason", "health", "labour_skill", "work_months", "work_place",
    "resident_medical_insurance", "employee_medical_insurance", "critical_illness_insurance", "resident_pension",
    "employee_pension", "dibao", "tekun", "public_welfare_post", "public_welfare_post_months", "phone_hash",
    "id_number_enc",
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
RENAMES = {"id": "", "household_id": "household_key", "id_number_hash": "id_hash"}
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


def person_rows(day: dt.date, batch: int = 5000) -> dict[str, list]:
    columns: dict[str, list] = {name: [] for name in (
        "person_key", "household_key", "region_code", "id_hash", "id_type", "name", "relation", "gender",
        "birth_date", "age", "id_gender", "id_birth_date", "disability_category", "disability_grade",
        "education", "school_status", "dropout_reason", "health", "labour_skill", "work_months", "work_place",
        "resident_medical", "employee_medical", "critical_illness", "resident_pension", "employee_pension",
        "dibao", "tekun", "public_welfare_post", "public_welfare_post_months", "has_phone", "phone_key",
    )}  # fmt: skip
    decrypt = cipher().decrypt
    for row in Member.objects.order_by("id").values_list(*PERSON_FIELDS).iterator(chunk_size=batch):
        data = dict(zip(PERSON_FIELDS, row, strict=True))
        id_number = decrypt(data.pop("id_number_enc"), "id")
        card = len(id_number) == 20
        id_birth = birth_date_of(id_number)
        values = {
            "person_key": data["id"], "household_key": data["household_id"], "region_code": data["region_code"],
            "id_hash": data["id_number_hash"], "id_type": data["id_type"], "name": data["name"],
            "relation": data["relation"], "gender": data["gender"], "birth_date": data["birth_date"],
            "age": _age(data["birth_date"] or id_birth, day), "id_gender": gender_of(id_number),
            "id_birth_date": id_birth, "disability_category": id_number[18] if card else "",
            "disability_grade": id_number[19] if card else "", "education": data["education"],
            "school_status": data["school_status"], "dropout_reason": data["dropout_reason"],
            "health": data["health"], "labour_skill": data["labour_skill"],
            "work_months": _float(data["work_months"]), "work_place": data["work_place"],
            "resident_medical": data["resident_medical_insurance"],
            "employee_medical": data["employee_medical_insurance"],
            "critical_illness": data["critical_illness_insurance"], "resident_pension": data["resident_pension"],
            "employee_pension": data["employee_pension"], "dibao": data["dibao"], "tekun": data["tekun"],
            "public_welfare_post": data["public_welfare_post"],
            "public_welfare_post_months": _float(data["public_welfare_post_months"]),
            "has_phone": bool(data["phone_hash"]), "phone_key": data["phone_hash"],
        }  # fmt: skip
        for name, value in values.items():
            columns[name].append(value)
    return columns


HOUSEHOLD_COLUMNS = (
    "household_key", *(f for f in HOUSEHOLD_FIELDS if f not in {"id", "measures"} and not f.endswith("phone_hash")),
    "has_phone", "phone_key", "has_contact_phone", "measure_groups", "measure_items", "identified_date", "months_monitored",
    "months_to_elimination",
)  # fmt: skip


def household_rows(day: dt.date) -> dict[str, list]:
    columns: dict[str, list] = {name: [] for name in HOUSEHOLD_COLUMNS}
    for row in Household.objects.order_by("id").values_list(*HOUSEHOLD_FIELDS).iterator(chunk_size=5000):
        data = dict(zip(HOUSEHOLD_FIELDS, row, strict=True))
        identified = _month_date(data["identified_month"])
        eliminated = _month_date(data["eliminated_month"])
        measures: dict[str, list[str]] = data.pop("measures") or {}
        values = {
            "household_key": data.pop("id"),
            **{k: (_float(v) if k in FLOATS else v) for k, v in data.items() if not k.endswith("phone_hash")},
            "has_phone": bool(data["phone_hash"]),
            "phone_key": data["phone_hash"],
            "has_contact_phone": bool(data["monitoring_contact_phone_hash"]),
            "measure_groups": "、".join(g for g, items in measures.items() if items),
            "measure_items": "、".join(i for items in measures.values() for i in items),
            "identified_date": identified,
            "months_monitored": _months_between(identified, eliminated or day),
            "months_to_elimination": _months_between(identified, eliminated),
        }
        for name, value in values.items():
            columns[name].append(value)
    return columns


def income_rows() -> dict[str, list]:
    fields = ("household_id", "year", *INCOME_COMPONENTS, "computed_net", "computed_per_capita",
              "reported_per_capita", "divisor_size")  # fmt: skip
    columns: dict[str, list] = {("household_key" if f == "household_id" else f): [] for f in fields}
    for row in (
        IncomeRecord.objects.order_by("household_id", "year").values_list(*fields).iterator(chunk_size=5000)
    ):
        for name, value in zip(columns, row, strict=True):
            columns[name].append(
                value if name in {"household_key", "year", "divisor_size"} else _float(value)
            )
    return columns


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


def roster_tables() -> dict[str, tuple[pa.Schema, dict[str, list]]]:
    """One table per roster kind (roster_medical, …): matched rows only, keyed like the register."""
    from fangpin.feeds.kinds import KINDS
    from fangpin.feeds.models import RosterRecord

    tables = {}
    for kind in KINDS.values():
        value_fields = [f for f in kind.fields if f.key not in {"id_number", "date"}]
        schema = pa.schema(
            [("person_key", pa.int64()), ("household_key", pa.int64()), ("date", pa.date32()), ("period", pa.string())]
            + [(f.key, pa.float64() if f.kind == "money" else pa.date32() if f.kind == "date" else pa.string())
               for f in value_fields]
        )  # fmt: skip
        columns: dict[str, list] = {name: [] for name in schema.names}
        records = RosterRecord.objects.filter(kind=kind.code, household__isnull=False).values_list(
            "member_id", "household_id", "date", "roster__period", "values"
        )
        for member, household, date, period, values in records.iterator(chunk_size=5000):
            columns["person_key"].append(member)
            columns["household_key"].append(household)
            columns["date"].append(date)
            columns["period"].append(period)
            for f in value_fields:
                value = values.get(f.key)
                if value is not None and f.kind == "money":
                    value = float(value)
                elif value is not None and f.kind == "date":
                    value = dt.date.fromisoformat(value)
                columns[f.key].append(value)
        tables[kind.table] = (schema, columns)
    return tables


def write_snapshot(directory: Path, day: dt.date) -> dict[str, int]:
    """Write the register's and the rosters' Parquet files; returns their row counts."""
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    tables = [
        (name, pa.schema([(c, arrow_type(c)) for c in columns]), columns)
        for name, columns in (("person", person_rows(day)), ("household", household_rows(day)),
                              ("income", income_rows()))
    ] + [(name, schema, columns) for name, (schema, columns) in roster_tables().items()]  # fmt: skip
    for table, schema, columns in tables:
        arrow = pa.table(columns, schema=schema)
        pq.write_table(arrow, directory / f"{table}.parquet")
        counts[table] = arrow.num_rows
    return counts
