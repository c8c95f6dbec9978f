"""Running the real `fangpin` command in a subprocess against its own data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def fangpin_env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    """The child's environment: its own data directory, and SQLite there unless a database is named."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["FANGPIN_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def fangpin(
    data_dir: Path, *args: str, check: bool = True, database_url: str = "", **kwargs
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "fangpin", *args], env=fangpin_env(data_dir, database_url), capture_output=True,
        text=True, timeout=600, **kwargs,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"fangpin {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def prepared(data_dir: Path, tmp_path: Path, database_url: str = "") -> Path:
    """A migrated database (SQLite file in data_dir, or the named one) with the test regions loaded."""
    from tests import builders

    fangpin(data_dir, "migrate", "--no-input", "-v0", database_url=database_url)
    regions = str(builders.write_region_csv(tmp_path / "regions.csv"))
    fangpin(data_dir, "regions", "load", regions, database_url=database_url)
    return data_dir / "fangpin.sqlite3"


PG_URL = os.environ.get("FANGPIN_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fangpin")


def scratch_postgres(name: str):
    """Create an empty PostgreSQL database for a child process; None when no server is reachable."""
    import psycopg

    admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
