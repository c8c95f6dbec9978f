"""Jobs that survive their worker: each job in its own process under a memory ceiling, a worker that
notices a dead job process at once, and `fangpin serve` restarting a dead worker.

The process tests start the real `fangpin serve` / `fangpin worker` with the queue on (not immediate),
submit jobs through huey the way the web pages do, and kill real processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psutil
import pytest
from django.utils import timezone

from fangpin.jobs.actions import _alive, describe_exit, recover_interrupted
from fangpin.jobs.models import Job, Kind, Status
from tests import builders
from tests.cli_helpers import fangpin_env, prepared

WAIT = 240  # seconds: every wait has a deadline, on a slow shared machine too


def wait_for(predicate, what: str, timeout: float = WAIT, *, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()) is not None and value is not False:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited early ({process.returncode})")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def queued_env(data: Path, **extra: str) -> dict[str, str]:
    """The child's environment with the real queue, as in production (the test session's is immediate)."""
    return fangpin_env(data) | {"FANGPIN_JOBS_IMMEDIATE": "0", "FANGPIN_IMPORT_CHUNK_SIZE": "200"} | extra


def submit_import(data: Path, path: Path) -> int:
    """Queue an import through huey, as the upload page does; returns the job id."""
    code = (
        "from fangpin.registry.actions import queue_import_path; from fangpin.jobs.actions import enqueue; "
        f"job = queue_import_path(user=None, path={str(path)!r}, year=None, confirmed=True); enqueue(job); "
        "print(job.pk)"
    )
    result = subprocess.run(
        [sys.executable, "-m", "fangpin", "shell", "-v", "0", "-c", code],
        env=queued_env(data), capture_output=True, text=True, timeout=WAIT, check=True,
    )  # fmt: skip
    return int(result.stdout.strip().splitlines()[-1])


def job_row(data: Path, job_id: int) -> dict:
    with sqlite3.connect(data / "fangpin.sqlite3", timeout=30) as conn:
        status, message, pid = conn.execute(
            "SELECT status, message, pid FROM jobs_job WHERE id = ?", (job_id,)
        ).fetchone()
    return {"status": status, "message": message, "pid": pid}


def count(data: Path, sql: str) -> int:
    with sqlite3.connect(data / "fangpin.sqlite3", timeout=30) as conn:
        return conn.execute(sql).fetchone()[0]


def ledger_is_empty(data: Path) -> bool:
    return (
        count(data, "SELECT COUNT(*) FROM registry_household") == 0
        and count(data, "SELECT COUNT(*) FROM registry_member") == 0
        and count(data, "SELECT COUNT(*) FROM audit_auditentry WHERE model LIKE 'registry.%'") == 0
    )


def finished(data: Path, job_id: int) -> dict | None:
    row = job_row(data, job_id)
    return row if row["status"] not in {"queued", "running"} else None


def running_with_progress(data: Path, job_id: int, rows: int) -> int | None:
    """The job's process id once it is running and has written `rows` rows of progress."""
    row = job_row(data, job_id)
    progress = data / "files" / "jobs" / str(job_id) / "progress.json"
    try:
        done = json.loads(progress.read_text() or "{}").get("done", 0)
    except (OSError, ValueError):
        return None
    return row["pid"] if row["status"] == "running" and done >= rows else None


def big_import(tmp_path: Path, households: int = 4000) -> Path:
    from tests.test_processes import big_file

    return big_file(tmp_path, households)


def small_import(tmp_path: Path) -> Path:
    return builders.write_csv(tmp_path / "small.csv", builders.standard_rows())


def start(data: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    """A long-running fangpin process; its output goes to files (a full pipe would block it)."""
    name = args[0]
    return subprocess.Popen(
        [sys.executable, "-m", "fangpin", *args], env=queued_env(data, **env),
        stdout=(tmp_path / f"{name}.out").open("w"), stderr=(tmp_path / f"{name}.err").open("w"),
    )  # fmt: skip


def stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("the process did not stop on its signal")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the liveness check ---------------------------------------------------------------------------


def test_a_zombie_is_not_alive_and_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    wait_for(lambda: psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE, "the child to exit")
    os.kill(child.pid, 0)  # what the old check relied on: it succeeds on a zombie
    assert _alive(child.pid) is False
    with pytest.raises(ChildProcessError):  # reaped by the check
        os.waitpid(child.pid, os.WNOHANG)


def test_a_pid_reused_by_a_later_process_is_not_the_jobs_process():
    assert _alive(os.getpid(), timezone.now())
    # a job that started before this process did cannot have been run by it
    assert not _alive(os.getpid(), timezone.now() - dt.timedelta(days=1))


def test_exit_reasons_read_as_chinese_words():
    assert describe_exit(-signal.SIGKILL) == "被强制结束（可能是系统内存不足或被管理员结束），信号 9"
    assert describe_exit(-signal.SIGSEGV) == "崩溃（内存访问错误），信号 11"
    assert describe_exit(3) == "异常退出，退出码 3"


@pytest.mark.django_db
def test_recover_marks_a_job_whose_process_is_a_zombie():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    wait_for(lambda: psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE, "the child to exit")
    dead = Job.objects.create(kind=Kind.EXPORT_REGISTER, status=Status.RUNNING, pid=child.pid,
                              started_at=timezone.now())  # fmt: skip
    live = Job.objects.create(kind=Kind.EXPORT_REGISTER, status=Status.RUNNING, pid=os.getpid(),
                              started_at=timezone.now())  # fmt: skip
    assert recover_interrupted("后台任务进程被强制结束") == 1
    dead.refresh_from_db()
    live.refresh_from_db()
    assert dead.status == Status.INTERRUPTED and "后台任务进程被强制结束" in dead.message
    assert "台账没有任何改动" in dead.message
    assert live.status == Status.RUNNING


# --- real processes -------------------------------------------------------------------------------


def assert_the_queue_moves_on(data, tmp_path, worker) -> None:
    """After a job died alone: the worker lives, nothing was written, and the next job succeeds."""
    assert worker.poll() is None
    assert ledger_is_empty(data)
    nxt = submit_import(data, small_import(tmp_path))
    assert wait_for(lambda: finished(data, nxt), "the next job", process=worker)["status"] == "succeeded"
    assert count(data, "SELECT COUNT(*) FROM registry_member") == 5


@pytest.mark.slow
def test_killing_the_job_process_fails_that_job_and_the_worker_runs_the_next(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    worker = start(data, tmp_path, "worker")
    try:
        job = submit_import(data, big_import(tmp_path))
        pid = wait_for(lambda: running_with_progress(data, job, 400), "the import to run", process=worker)
        assert pid != worker.pid and psutil.Process(pid).ppid() == worker.pid  # a process of its own
        os.kill(pid, signal.SIGKILL)
        row = wait_for(lambda: finished(data, job), "the killed job to be marked", process=worker)
        assert row["status"] == "failed"
        assert row["message"].startswith("任务进程被强制结束")
        assert_the_queue_moves_on(data, tmp_path, worker)
    finally:
        stop(worker)


@pytest.mark.slow
def test_serve_restarts_a_killed_worker_and_its_job_is_marked_at_once(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    serve = start(data, tmp_path, "serve", "--port", str(free_port()))
    try:
        job = submit_import(data, big_import(tmp_path))
        child = wait_for(lambda: running_with_progress(data, job, 400), "the import to run", process=serve)
        (worker,) = [p for p in psutil.Process(serve.pid).children() if "worker" in p.cmdline()]
        worker.kill()
        row = wait_for(lambda: finished(data, job), "the job of the dead worker to be marked", process=serve)
        assert row["status"] == "interrupted"
        assert "后台任务进程被强制结束" in row["message"] and "台账没有任何改动" in row["message"]
        assert gone(child)  # the job's process died with its worker
        assert ledger_is_empty(data)
        nxt = submit_import(data, small_import(tmp_path))  # no restart of serve: a new worker takes it
        assert wait_for(lambda: finished(data, nxt), "the next job", process=serve)["status"] == "succeeded"
        assert count(data, "SELECT COUNT(*) FROM registry_member") == 5
        (new_worker,) = [p for p in psutil.Process(serve.pid).children() if "worker" in p.cmdline()]
        assert new_worker.pid != worker.pid
        log = (tmp_path / "serve.err").read_text()
        assert "后台任务进程被强制结束" in log and "已重启" in log
    finally:
        stop(serve, signal.SIGTERM)
    assert serve.returncode == 0
    assert gone(new_worker.pid)  # stopped with serve, not orphaned


def shared_strings_bomb(tmp_path: Path, strings: int = 3_000_000) -> Path:
    """A register workbook whose shared-strings table, held in memory while reading, needs far more
    than the ceiling the test sets: the kind of file the pre-parse limits may let through."""
    plain = builders.write_xlsx(tmp_path / "plain.xlsx", builders.standard_rows())
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        names = src.namelist()
        assert "xl/sharedStrings.xml" in names
        for name in names:
            if name != "xl/sharedStrings.xml":
                out.writestr(name, src.read(name))
        original = src.read("xl/sharedStrings.xml").decode()
        kept = original.rsplit("</sst>", 1)[0]  # the header's own strings keep their indexes
        with out.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(kept.encode())
            for start in range(0, strings, 10_000):
                fh.write(
                    "".join(f"<si><t>填充{n:09d}</t></si>" for n in range(start, start + 10_000)).encode()
                )
            fh.write(b"</sst>")
    return bomb


@pytest.mark.slow
def test_a_job_over_the_memory_ceiling_fails_alone_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    bomb = shared_strings_bomb(tmp_path)
    # the ceiling sits between a small import (about 180 MB: Django, DuckDB and the importer loaded)
    # and this workbook; the pre-parse limits are opened wide so that only the ceiling can stop it
    worker = start(data, tmp_path, "worker", FANGPIN_JOB_MEMORY_MB="300", FANGPIN_XLSX_MAX_RATIO="1000000",
                   FANGPIN_XLSX_MAX_SHARED_STRINGS="100000000", FANGPIN_XLSX_MAX_SHARED_STRINGS_MB="100000",
                   FANGPIN_XLSX_MAX_UNCOMPRESSED_MB="100000", FANGPIN_XLSX_MAX_PART_MB="100000")  # fmt: skip
    try:
        job = submit_import(data, bomb)
        row = wait_for(lambda: finished(data, job), "the job over the ceiling", process=worker)
        assert row["status"] == "failed"
        assert row["message"] == "任务占用内存超过上限 300 MB，已终止；台账没有任何改动。"
        assert_the_queue_moves_on(data, tmp_path, worker)
    finally:
        stop(worker)
    assert "任务占用内存超过上限 300 MB" in (tmp_path / "worker.err").read_text()
