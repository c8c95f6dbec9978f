"""Two engines, one truth: the same rule text runs on DuckDB (in-process, default) and on Apache
Spark (local mode, or a cluster when FANGPIN_SPARK_MASTER is set), over the same Parquet snapshot.

Parameters are put into the SQL as literals by `bind`, because the engines' placeholder syntaxes
differ ($name vs :name). Values come from the parameter table, never from a user's free text, and
`literal` refuses anything that is not a number, a date, a boolean or a plain string.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from .catalogue import PARAMETER, Rule


def tables() -> tuple[str, ...]:
    from fangpin.feeds.kinds import KINDS

    return (
        "person",
        "household",
        "income",
        "expenditure",
        "value_fault",
        *(kind.table for kind in KINDS.values()),
    )


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str) and re.fullmatch(r"[\w\u4e00-\u9fff、，,.\- ]*", value):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list):
        return "(" + ", ".join(literal(v) for v in value) + ")"
    raise ValueError(f"参数值 {value!r} 不能用于规则")


def bind(sql: str, values: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values or values[name] is None:
            raise KeyError(f"规则参数 :{name} 没有取值")
        return literal(values[name])

    return PARAMETER.sub(replace, sql)


class Engine(Protocol):
    name: str

    def run(self, rule: Rule, sql: str) -> list[dict[str, Any]]: ...


class DuckDBEngine:
    """Each table is a view over its Parquet file, so a rule decodes only the columns it reads.

    Measured (bench/screening.py): materialising every column of every table first cost more than it
    saved once the catalogue had ~90 rules, and at 10M people it needed ~10 GiB; views with a memory
    limit and a spill directory keep the run inside FANGPIN_DUCKDB_MEMORY."""

    name = "duckdb"

    def __init__(self, snapshot: Path, *, memory_limit: str = "") -> None:
        import duckdb

        self.connection = duckdb.connect()
        memory_limit = memory_limit or os.environ.get("FANGPIN_DUCKDB_MEMORY", "")
        if memory_limit:
            self.connection.execute(f"SET memory_limit = '{memory_limit}'")
        spill = str(snapshot / "spill").replace("'", "''")
        self.connection.execute(f"SET temp_directory = '{spill}'")
        self.connection.execute("SET preserve_insertion_order = false")
        for table in tables():
            path = str(snapshot / f"{table}.parquet").replace("'", "''")
            self.connection.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")

    def run(self, rule: Rule, sql: str) -> list[dict[str, Any]]:
        cursor = self.connection.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.connection.close()


class SparkEngine:
    """Reads the same Parquet files as temporary views. Local mode unless FANGPIN_SPARK_MASTER names a
    cluster (then the snapshot directory must be on storage the executors see, e.g. HDFS or S3)."""

    name = "spark"

    def __init__(self, snapshot: Path) -> None:
        from pyspark.sql import SparkSession

        master = os.environ.get("FANGPIN_SPARK_MASTER", "local[2]")
        self.session = (
            SparkSession.builder.master(master)
            .appName("fangpin-screening")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", os.environ.get("FANGPIN_SPARK_PARTITIONS", "8"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", os.environ.get("FANGPIN_SPARK_DRIVER_MEMORY", "4g"))
            .getOrCreate()
        )
        self.session.sparkContext.setLogLevel("ERROR")
        for table in tables():
            self.session.read.parquet(str(snapshot / f"{table}.parquet")).cache().createOrReplaceTempView(
                table
            )

    def run(self, rule: Rule, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.session.sql(sql).collect()]

    def close(self) -> None:
        self.session.catalog.clearCache()


ENGINES: dict[str, Callable[[Path], Engine]] = {"duckdb": DuckDBEngine, "spark": SparkEngine}


@contextmanager
def open_engine(name: str, snapshot: Path) -> Iterator[Engine]:
    if name not in ENGINES:
        raise ValueError(f"未知的筛查引擎 {name}（可用：{'、'.join(ENGINES)}）")
    engine = ENGINES[name](snapshot)
    try:
        yield engine
    finally:
        engine.close()
