"""Screening benchmark: the whole rule catalogue on DuckDB at 100k, 1M and 10M people (5 medical
claims each), the same rules' representative subset written plainly in pandas in the same run, and
Spark's figures for the record.

    .venv/bin/python bench/screening.py [--sizes 100000,1000000,10000000] [--pandas-max 1000000] [--spark-max 1000000]

Snapshots are generated straight into Parquet by DuckDB (a Django database of 10M people would take
longer to build than to screen), with the same schema `fangpin.rules.snapshot` writes. Every
measurement runs in its own process, so peak memory is that process's own (ru_maxrss). The pandas
subset covers each shape the catalogue uses (per-person filters, joins, anti-joins, group-bys, roster
sums): 12 of the rules, and the script checks that pandas and DuckDB find the same households.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
AS_OF = "2025-06-30"
PANDAS_RULES = (
    "DQ_GENDER_ID", "DQ_MINOR_LABOUR", "DQ_WORKING_AGE_NO_LABOUR", "DQ_MEDICAL_NONE", "DQ_HEAD_COUNT",
    "DQ_SIZE_MISMATCH", "DQ_RISK_ILLNESS_WITHOUT_PATIENT", "DQ_NO_DEVELOPMENT_MEASURE", "INC_GENERAL_BELOW_LINE",
    "INC_MONITORED_SHARP_DROP", "DEPT_MEDICAL_SELF_PAY_OTHER", "DEPT_MEDICAL_SHARE_OF_INCOME",
)  # fmt: skip


def setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
    os.environ.setdefault("FANGPIN_DATA_DIR", tempfile.mkdtemp(prefix="fangpin-bench-"))
    import django

    django.setup()


def r(seed: int, modulo: int) -> str:
    """A deterministic pseudo-random integer in [0, modulo) per row, from DuckDB's hash."""
    return f"(hash(i * {seed} + {seed}) % {modulo})"


def build(directory: Path, people: int) -> None:
    """Write person, household, income, expenditure and roster tables with the snapshot's schema."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fangpin.rules.snapshot import (
        HOUSEHOLD_COLUMNS,
        PERSON_COLUMNS,
        VALUE_FAULT_COLUMNS,
        arrow_type,
        roster_specs,
    )

    directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    households = people // 3
    person = {
        "person_key": "i", "household_key": "i // 3", "region_code": "'140826' || lpad(((i // 3) % 200)::VARCHAR, 6, '0')",
        "id_hash": "md5(i::VARCHAR)", "id_type": "'身份证'", "name": "'人' || i::VARCHAR",
        "relation": "CASE i % 3 WHEN 0 THEN '户主' WHEN 1 THEN '配偶' ELSE '之子' END",
        "gender": f"CASE WHEN {r(3, 1000)} = 0 THEN '女' WHEN i % 3 = 1 THEN '女' ELSE '男' END",
        "id_gender": "CASE WHEN i % 3 = 1 THEN '女' ELSE '男' END",
        "age": f"CASE i % 3 WHEN 2 THEN {r(5, 20)} ELSE 25 + {r(7, 60)} END",
        "labour_skill": f"CASE WHEN (CASE i % 3 WHEN 2 THEN {r(5, 20)} ELSE 25 + {r(7, 60)} END) < 16 THEN (CASE WHEN {r(11, 500)} = 0 THEN '普通劳动力' ELSE '无劳动力' END) WHEN {r(13, 50)} = 0 THEN '无劳动力' ELSE '普通劳动力' END",
        "health": f"CASE WHEN {r(17, 40)} = 0 THEN '患有大病' WHEN {r(19, 40)} = 0 THEN '残疾' ELSE '健康' END",
        "school_status": "''", "education": "'初中'", "dropout_reason": "''",
        "resident_medical": f"{r(23, 300)} <> 0", "employee_medical": "FALSE", "critical_illness": "TRUE",
        "resident_pension": "TRUE", "employee_pension": "FALSE", "dibao": "FALSE", "tekun": "FALSE",
        "work_months": f"CASE WHEN {r(29, 2)} = 0 THEN 8.0 ELSE NULL END", "work_place": "'本县'",
        "has_phone": "TRUE", "phone_key": "md5('p' || (i // 3)::VARCHAR)",
    }  # fmt: skip
    household = {
        "household_key": "i", "household_no": "'H' || i::VARCHAR", "region_code": "'140826' || lpad((i % 200)::VARCHAR, 6, '0')",
        "head_name": "'人' || (i * 3)::VARCHAR",
        "household_type": f"CASE WHEN {r(31, 9)} = 0 THEN '脱贫户' ELSE '一般农户' END",
        "monitoring_category": f"CASE WHEN {r(37, 60)} = 0 THEN '边缘易致贫户' ELSE '' END",
        "risk_types": f"CASE WHEN {r(37, 60)} = 0 THEN (CASE WHEN {r(41, 2)} = 0 THEN '因病' ELSE '因务工就业不稳' END) ELSE '' END",
        "measure_groups": f"CASE WHEN {r(37, 60)} = 0 AND {r(43, 3)} > 0 THEN '产业帮扶' ELSE '' END",
        "measure_items": "''", "identified_month": f"CASE WHEN {r(37, 60)} = 0 THEN '202401' ELSE '' END",
        "identified_date": f"CASE WHEN {r(37, 60)} = 0 THEN DATE '2024-01-01' END",
        "months_monitored": f"CASE WHEN {r(37, 60)} = 0 THEN 17 END",
        "risk_eliminated": f"CASE WHEN {r(37, 60)} = 0 THEN FALSE END",
        "development_measure_status": f"CASE WHEN {r(37, 60)} = 0 AND {r(43, 3)} > 0 THEN '已实施' ELSE '' END",
        "annual_size": f"CASE WHEN {r(47, 200)} = 0 THEN 4 ELSE 3 END", "current_size": "3",
        "dangerous_house": "FALSE", "safe_drinking_water": "TRUE", "sanitary_toilet": "TRUE", "has_electricity": "TRUE",
        "road_type": "'水泥路'", "cultivated_area": "5.0", "forest_area": "0.0", "returned_farmland_area": "0.0",
        "orchard_area": "0.0", "pasture_area": "0.0", "water_area": "0.0", "housing_area": "120.0",
        "compliant_self_pay": "2000.0", "claims_income": "0.0", "monitoring_contact": "'干部'",
        "has_phone": "TRUE", "has_contact_phone": "TRUE", "phone_key": "md5('p' || i::VARCHAR)",
        "income_year": "2024", "per_capita_income": "12000.0",
    }  # fmt: skip

    def select(columns: dict[str, str], names: list[str]) -> str:
        parts = []
        for name in names:
            kind = arrow_type(name)
            default = "''" if str(kind) == "string" else "NULL"
            sql_type = {"int64": "BIGINT", "bool": "BOOLEAN", "date32[day]": "DATE", "double": "DOUBLE"}.get(
                str(kind), "VARCHAR"
            )
            parts.append(f"CAST({columns.get(name, default)} AS {sql_type}) AS {name}")
        return ", ".join(parts)

    person_names, household_names = list(PERSON_COLUMNS), list(HOUSEHOLD_COLUMNS)
    con.execute(
        f"COPY (SELECT {select(person, person_names)} FROM range({people}) t(i)) "
        f"TO '{directory / 'person.parquet'}' (FORMAT parquet)"
    )
    con.execute(
        f"COPY (SELECT {select(household, household_names)} FROM range({households}) t(i)) "
        f"TO '{directory / 'household.parquet'}' (FORMAT parquet)"
    )
    income = (
        "SELECT i AS household_key, y AS year, "
        f"CAST(CASE WHEN {r(53, 12)} = 0 THEN 6000 ELSE 36000 END * (CASE WHEN y = 2024 AND {r(59, 10)} = 0 THEN 0.5 ELSE 1 END) AS DOUBLE) AS wage, "
        "2000::DOUBLE AS business, 0::DOUBLE AS property, 0::DOUBLE AS transfer, 500::DOUBLE AS business_expense"
    )
    con.execute(f"CREATE TABLE inc AS {income} FROM range({households}) t(i), (VALUES (2023), (2024)) v(y)")
    con.execute("""COPY (SELECT household_key, CAST(year AS BIGINT) AS year, wage, NULL::DOUBLE AS wage_public_welfare,
        NULL::DOUBLE AS wage_other, business, property, NULL::DOUBLE AS property_dividend, NULL::DOUBLE AS property_other,
        transfer, NULL::DOUBLE AS pension, NULL::DOUBLE AS family_planning, NULL::DOUBLE AS eco_compensation,
        NULL::DOUBLE AS dibao_allowance, NULL::DOUBLE AS tekun_allowance, NULL::DOUBLE AS transfer_other,
        business_expense, NULL::DOUBLE AS industry_award, NULL::DOUBLE AS employment_award, NULL::DOUBLE AS special_subsidy,
        wage + business + property + transfer - business_expense AS computed_net,
        (wage + business + property + transfer - business_expense) / 3 AS computed_per_capita,
        NULL::DOUBLE AS reported_per_capita, CAST(3 AS BIGINT) AS divisor_size FROM inc)""" +
                f" TO '{directory / 'income.parquet'}' (FORMAT parquet)")  # fmt: skip
    # 收支核算 (2026 rules): a quarter of the households accounted, one in 40 of them with a serious illness
    expenditure = (f"SELECT CAST(i AS BIGINT) AS household_key, CAST(2024 AS BIGINT) AS year, "
                   f"CAST(CASE WHEN {r(71, 40)} = 0 THEN 30000 ELSE 800 END AS DOUBLE) AS medical, "
                   f"CAST(CASE WHEN {r(73, 10)} = 0 THEN 5000 ELSE 0 END AS DOUBLE) AS education, "
                   f"0::DOUBLE AS disability_care FROM range({households}) t(i) WHERE {r(79, 4)} = 0")  # fmt: skip
    con.execute(f"COPY (SELECT *, medical + education + disability_care AS total FROM ({expenditure})) "
                f"TO '{directory / 'expenditure.parquet'}' (FORMAT parquet)")  # fmt: skip
    claims = (f"SELECT CAST(i // 5 AS BIGINT) AS person_key, CAST(i // 15 AS BIGINT) AS household_key, DATE '2025-01-01' + CAST({r(61, 180)} AS INTEGER) AS date, "
              f"'202506' AS period, '人' AS name, 3000::DOUBLE AS total_cost, 2000::DOUBLE AS basic_paid, 0::DOUBLE AS critical_paid, "
              f"0::DOUBLE AS assistance_paid, CAST(CASE WHEN {r(67, 400)} = 0 THEN 30000 ELSE 300 END AS DOUBLE) AS self_pay "
              f"FROM range({people * 5}) t(i)")  # fmt: skip
    con.execute(f"COPY ({claims}) TO '{directory / 'roster_medical.parquet'}' (FORMAT parquet)")
    for table, schema, _ in roster_specs():
        if table != "roster_medical":
            pq.write_table(schema.empty_table(), directory / f"{table}.parquet")
    # no import kept a value fault (the 15_import_faults rules find nothing, but their table must exist)
    faults = pa.schema([(name, arrow_type(name)) for name in VALUE_FAULT_COLUMNS])
    pq.write_table(faults.empty_table(), directory / "value_fault.parquet")
    con.close()


def run_duckdb(directory: Path, only: list[str] | None) -> dict:
    from fangpin.rules.catalogue import load_catalogue
    from fangpin.rules.engines import DuckDBEngine, bind

    values = bench_parameters()
    started = time.perf_counter()
    engine = DuckDBEngine(directory, memory_limit=os.environ.get("FANGPIN_DUCKDB_MEMORY", "6GB"))
    loaded = time.perf_counter() - started
    found = {}
    for rule in load_catalogue():
        if only and rule.id not in only:
            continue
        rows = engine.run(rule, bind(rule.sql, values))
        found[rule.id] = sorted({int(row["household_key"]) for row in rows})
    return {
        "seconds": time.perf_counter() - started,
        "load_seconds": loaded,
        "rules": len(found),
        "found": {k: len(v) for k, v in found.items()},
        "checksum": {k: sum(v) % 1_000_003 for k, v in found.items()},
    }


def run_spark(directory: Path) -> dict:
    from fangpin.rules.catalogue import load_catalogue
    from fangpin.rules.engines import SparkEngine, bind

    values = bench_parameters()
    started = time.perf_counter()
    engine = SparkEngine(directory)
    warm = time.perf_counter()
    found = {
        rule.id: len({int(row["household_key"]) for row in engine.run(rule, bind(rule.sql, values))})
        for rule in load_catalogue()
    }
    return {
        "seconds": time.perf_counter() - started,
        "start_seconds": warm - started,
        "rules": len(found),
        "found": found,
    }


def bench_parameters() -> dict:
    import datetime as dt

    from fangpin.rules.catalogue import load_catalogue
    from fangpin.rules.parameters import resolve

    names = {n for rule in load_catalogue() for n in rule.parameters}
    values = resolve(names, dt.date.fromisoformat(AS_OF), "14")
    values["income_year"] = 2024
    return values


def run_pandas(directory: Path) -> dict:
    """The 12 representative rules, written plainly in pandas over the same Parquet files."""
    import pandas as pd

    values = bench_parameters()
    started = time.perf_counter()
    person = pd.read_parquet(directory / "person.parquet")
    household = pd.read_parquet(directory / "household.parquet")
    income = pd.read_parquet(directory / "income.parquet")
    claims = pd.read_parquet(directory / "roster_medical.parquet")
    found: dict[str, set[int]] = {}
    line = values["monitoring_line"]
    year = values["income_year"]
    p = person
    found["DQ_GENDER_ID"] = set(
        p.loc[(p.gender != "") & (p.id_type != "残疾人证") & (p.gender != p.id_gender), "household_key"]
    )
    found["DQ_MINOR_LABOUR"] = set(
        p.loc[(p.age < 16) & ~p.labour_skill.isin(["", "无劳动力"]), "household_key"]
    )
    found["DQ_WORKING_AGE_NO_LABOUR"] = set(p.loc[p.age.between(16, values["working_age_max"]) & (p.health == "健康")
        & (p.school_status == "") & p.labour_skill.isin(["弱劳动力或半劳动力", "丧失劳动力", "无劳动力"]), "household_key"])  # fmt: skip
    found["DQ_MEDICAL_NONE"] = set(
        p.loc[p.resident_medical.eq(False) & p.employee_medical.eq(False), "household_key"]
    )
    heads = p.assign(h=p.relation == "户主").groupby("household_key").h.sum()
    found["DQ_HEAD_COUNT"] = set(heads[heads != 1].index)
    sizes = household.loc[household.annual_size.notna(), ["household_key", "annual_size"]].merge(
        p.groupby("household_key").size().rename("members").reset_index(), on="household_key"
    )
    found["DQ_SIZE_MISMATCH"] = set(sizes.loc[sizes.members != sizes.annual_size, "household_key"])
    ill_households = set(p.loc[p.health.isin(["患有大病", "长期慢性病"]), "household_key"])
    sick_risk = household.loc[
        ("、" + household.risk_types + "、").str.contains("、因病、", regex=False), "household_key"
    ]
    found["DQ_RISK_ILLNESS_WITHOUT_PATIENT"] = set(sick_risk) - ill_households
    able = set(p.loc[p.labour_skill.isin(["普通劳动力", "技能劳动力"]), "household_key"])
    h = household
    groups = "、" + h.measure_groups + "、"
    candidates = h.loc[(h.monitoring_category != "") & (h.risk_eliminated.fillna(False) == False)  # noqa: E712
        & (h.months_monitored >= 1) & h.development_measure_status.isin(["", "尚未实施"])
        & ~groups.str.contains("、产业帮扶、", regex=False) & ~groups.str.contains("、就业帮扶、", regex=False), "household_key"]  # fmt: skip
    found["DQ_NO_DEVELOPMENT_MEASURE"] = set(candidates) & able
    current = income[income.year == year]
    joined = h.merge(current, on="household_key")
    found["INC_GENERAL_BELOW_LINE"] = set(joined.loc[(joined.household_type != "脱贫户") & (joined.monitoring_category == "")
                                                     & (joined.computed_per_capita < line), "household_key"])  # fmt: skip
    previous = income[income.year == year - 1][["household_key", "computed_per_capita"]].rename(
        columns={"computed_per_capita": "prev"}
    )
    both = joined.merge(previous, on="household_key")
    found["INC_MONITORED_SHARP_DROP"] = set(both.loc[(both.monitoring_category != "") & (both.prev > 0)
        & (both.computed_per_capita < both.prev * (1 - values["income_drop_share"])), "household_key"])  # fmt: skip
    this_year = claims[
        (claims.date >= pd.Timestamp(values["year_start"]).date())
        & (claims.date <= pd.Timestamp(values["as_of"]).date())
    ]
    spent = (
        this_year.groupby("household_key")
        .self_pay.sum()
        .rename("spent")
        .reset_index()
        .merge(h, on="household_key")
    )
    found["DEPT_MEDICAL_SELF_PAY_OTHER"] = set(spent.loc[(spent.household_type != "脱贫户")
                                                         & (spent.spent >= values["medical_self_pay_other"]), "household_key"])  # fmt: skip
    window = claims[
        (claims.date > pd.Timestamp(values["twelve_months_ago"]).date())
        & (claims.date <= pd.Timestamp(values["as_of"]).date())
    ]
    share = (
        window.groupby("household_key")
        .self_pay.sum()
        .rename("spent")
        .reset_index()
        .merge(current, on="household_key")
    )
    found["DEPT_MEDICAL_SHARE_OF_INCOME"] = set(
        share.loc[share.spent > values["medical_share_of_income"] * share.computed_net, "household_key"]
    )
    return {
        "seconds": time.perf_counter() - started,
        "rules": len(found),
        "found": {k: len(v) for k, v in found.items()},
        "checksum": {k: sum(v) % 1_000_003 for k, v in found.items()},
    }


def measured(args: list[str]) -> tuple[dict, float]:
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args} failed:\n{output}")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument(
        "--pandas-max",
        type=int,
        default=1_000_000,
        help="pandas above this needs more memory than the machine has",
    )
    parser.add_argument("--spark-max", type=int, default=1_000_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.child:
        kind, directory = args.child[0], Path(args.child[1])
        if kind == "build":
            build(directory, int(args.child[2]))
            print(json.dumps({}))
        elif kind == "duckdb":
            print(
                json.dumps(run_duckdb(directory, args.child[2].split(",") if len(args.child) > 2 else None))
            )
        elif kind == "pandas":
            print(json.dumps(run_pandas(directory)))
        else:
            print(json.dumps(run_spark(directory)))
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # parameter defaults for the rules
    for people in (int(s) for s in args.sizes.split(",")):
        directory = OUT / f"screening-{people}"
        if not all(
            (directory / f"{t}.parquet").exists() for t in ("roster_medical", "expenditure", "value_fault")
        ):
            started = time.perf_counter()
            measured(["--child", "build", str(directory), str(people)])
            print(
                f"built {people:,} people / {people * 5:,} claims in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        duck, duck_mem = measured(["--child", "duckdb", str(directory)])
        print(
            f"{people:>11,} people  DuckDB, whole catalogue ({duck['rules']} rules): {duck['seconds']:.1f} s "
            f"(opening {duck['load_seconds']:.1f} s), peak {duck_mem:.2f} GiB",
            flush=True,
        )
        if people <= args.pandas_max:
            subset, _ = measured(["--child", "duckdb", str(directory), ",".join(PANDAS_RULES)])
            plain, plain_mem = measured(["--child", "pandas", str(directory)])
            same = subset["found"] == plain["found"] and subset["checksum"] == plain["checksum"]
            print(
                f"{'':>11}         DuckDB, the {len(PANDAS_RULES)} rules also written in pandas: {subset['seconds']:.1f} s"
            )
            print(
                f"{'':>11}         pandas, the same {len(PANDAS_RULES)} rules: {plain['seconds']:.1f} s, peak {plain_mem:.2f} GiB"
                f"  → DuckDB {plain['seconds'] / subset['seconds']:.1f}× faster; same findings: {'yes' if same else 'NO'}"
            )
        if people <= args.spark_max:
            try:
                spark, spark_mem = measured(["--child", "spark", str(directory)])
                print(
                    f"{'':>11}         Spark local[2], whole catalogue: {spark['seconds']:.1f} s "
                    f"(session start {spark['start_seconds']:.1f} s), driver peak {spark_mem:.2f} GiB; "
                    f"same counts as DuckDB: {'yes' if spark['found'] == duck['found'] else 'NO'}"
                )
            except SystemExit as exc:
                print(f"{'':>11}         Spark: not run ({str(exc).splitlines()[0]})")


if __name__ == "__main__":
    main()
