"""What only a real process and a real database file can show: kill safety, no clear-text IDs on
disk, the CLI's audit verification."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests import builders
from tests.cli_helpers import drop_postgres, fangpin, fangpin_env, prepared, scratch_postgres

pytestmark = pytest.mark.slow


def big_file(tmp_path, households: int):
    rows = []
    for n in range(households):
        village = [builders.VILLAGE_A1, builders.VILLAGE_A2, builders.VILLAGE_B1][n % 3]
        head = builders.pid(n % 997 + 1, builders.dt.date(1950 + n // 997 % 50, 1 + n % 12, 1 + n % 28))
        rows += builders.family(
            f"K{n:06d}", village, [(f"户主{n}", head, "户主", "男" if n % 997 % 2 else "女")]
        )
    return builders.write_csv(tmp_path / "big.csv", rows)


class Store:
    """Counts rows in the child's database, SQLite file or PostgreSQL."""

    def __init__(self, sqlite_path, database_url: str = "") -> None:
        self.sqlite_path, self.database_url = sqlite_path, database_url

    def scalar(self, sql: str) -> int:
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                return conn.execute(sql).fetchone()[0]
        with sqlite3.connect(self.sqlite_path) as conn:
            return conn.execute(sql).fetchone()[0]

    def count(self, table: str) -> int:
        return self.scalar(f"SELECT COUNT(*) FROM {table}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """(data dir, database url): each kill test runs on an SQLite file and on a scratch PostgreSQL database."""
    data = tmp_path / "data"
    if request.param == "sqlite":
        yield data, ""
        return
    name = f"fangpin_kill_{os.getpid()}"
    url = scratch_postgres(name)
    if url is None:
        pytest.skip("PostgreSQL is not reachable: the PostgreSQL kill test is skipped")
    yield data, url
    drop_postgres(name)


def test_a_killed_import_leaves_nothing_written_and_the_job_is_marked_interrupted(database, tmp_path):
    data, url = database
    store = Store(prepared(data, tmp_path, url), url)
    source = big_file(tmp_path, 20000)
    env = fangpin_env(data, url) | {"FANGPIN_IMPORT_CHUNK_SIZE": "500"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fangpin", "import", str(source)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    progress_files = data / "files" / "jobs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        files = list(progress_files.glob("*/progress.json"))
        if files and json.loads(files[0].read_text() or "{}").get("done", 0) >= 2000:
            break
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    else:
        pytest.fail("the import never reported progress")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert store.count("registry_household") == 0
    assert store.count("registry_member") == 0
    assert store.scalar("SELECT COUNT(*) FROM audit_auditentry WHERE model LIKE 'registry.%'") == 0
    assert fangpin(data, "audit", "verify", database_url=url).returncode == 0
    # the worker (or any job page) notices the dead process and says so
    status = fangpin(data, "shell", "-v", "0", "-c", "from fangpin.jobs.actions import recover_interrupted;"
                     "from fangpin.jobs.models import Job; recover_interrupted(); print(Job.objects.get().status)",
                     database_url=url)  # fmt: skip
    assert status.stdout.strip() == "interrupted"
    # and the same file then imports completely
    assert fangpin(data, "import", str(source), database_url=url).returncode == 0
    assert store.count("registry_household") == 20000


def test_the_database_file_holds_no_id_or_phone_number_in_clear(tmp_path):
    data = tmp_path / "data"
    db = prepared(data, tmp_path)
    rows = builders.standard_rows()
    fangpin(data, "import", str(builders.write_xlsx(tmp_path / "r.xlsx", rows)))
    fangpin(
        data,
        "shell",
        "-v",
        "0",
        "-c",
        "from django.db import connection; connection.cursor().execute('PRAGMA wal_checkpoint(TRUNCATE)')",
    )
    blob = b"".join(p.read_bytes() for p in data.glob("fangpin.sqlite3*"))
    assert Store(db).count("registry_member") == 5
    for row in rows:
        for secret in (row["证件号码"], row["家庭成员联系电话"], row["户联系电话"]):
            if secret:
                assert str(secret).encode() not in blob, f"{secret} found in clear"
                assert str(secret).encode("utf-16-le") not in blob
    # the key lives outside the database
    assert (data / "keys" / "fangpin-keys.json").exists()


def test_audit_verify_fails_after_a_tampered_row(tmp_path):
    data = tmp_path / "data"
    db = prepared(data, tmp_path)
    fangpin(data, "import", str(builders.write_xlsx(tmp_path / "r.xlsx", builders.standard_rows())))
    ok = fangpin(data, "audit", "verify")
    assert "哈希链无断裂" in ok.stdout
    with sqlite3.connect(db) as conn:  # someone with the file edits history behind the application
        conn.execute("DROP TRIGGER audit_entry_no_update")
        conn.execute("UPDATE audit_auditentry SET username = 'nobody' WHERE seq = 3")
    bad = fangpin(data, "audit", "verify", check=False)
    assert bad.returncode == 1 and "#3 的内容与其哈希不符" in bad.stderr


def test_the_cli_creates_users_with_the_password_policy(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    weak = fangpin(
        data,
        "user",
        "create",
        "--username",
        "u1",
        "--role",
        "village",
        "--region",
        builders.VILLAGE_A1,
        "--password",
        "weak",
        check=False,
    )
    assert weak.returncode == 1 and "未创建" in weak.stderr
    ok = fangpin(
        data,
        "user",
        "create",
        "--username",
        "u1",
        "--role",
        "village",
        "--region",
        builders.VILLAGE_A1,
        "--password",
        "Strong#Pass2026",
    )
    assert "已创建用户 u1" in ok.stdout


def test_the_cli_import_shows_progress_and_rejects_with_an_error_report(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    rows = builders.standard_rows()
    rows[0]["工资性收入"] = "三万"
    result = fangpin(data, "import", str(builders.write_csv(tmp_path / "bad.csv", rows)), check=False)
    assert result.returncode == 1
    assert "已处理" in result.stderr and "未通过校验" in result.stdout and "不是数字" in result.stdout
    assert "错误说明" in result.stdout


def test_the_cli_lists_value_faults_and_writes_only_when_told_yes(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    rows = builders.standard_rows()
    for i, row in enumerate(rows, start=1):
        row["人口编号"] = f"P{i:04d}"
    rows[0]["证件号码"] = "4.20106E+17"
    source = str(builders.write_csv(tmp_path / "faults.csv", rows))
    asked = fangpin(data, "import", source, check=False, stdin=subprocess.DEVNULL)
    assert asked.returncode == 1 and "未导入" in asked.stdout and "--yes" in asked.stdout
    assert (
        "证件号码被Excel存成数字（末尾数字已丢失）：1处（导入后由规则 DQ_ID_EXCEL_DAMAGED 列出）"
        in asked.stdout
    )
    assert "4.20106E+17" not in asked.stdout
    done = fangpin(data, "import", source, "--yes")
    assert "导入成功" in done.stdout and "1处数据疑点已按原值导入" in done.stdout
