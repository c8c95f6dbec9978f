"""Creating, claiming, running and recovering jobs."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import psutil
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fangpin.audit.context import acting_as
from fangpin.common import processes
from fangpin.retention.scrub import scrub, scrub_exception

from .models import Job, Kind, Status

log = logging.getLogger(__name__)
Handler = Callable[[Job, Callable[[int, int | None], None]], None]
HANDLERS: dict[str, Handler] = {}


def handles(kind: Kind) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return register


def create_job(
    *, kind: Kind, user: Any, params: dict[str, Any] | None = None, input_path: str = "", input_name: str = ""
) -> Job:
    return Job.objects.create(
        kind=kind, user=user, params=params or {}, input_path=input_path, input_name=input_name
    )


def enqueue(job: Job) -> None:
    """Hand the job to the worker once the row is committed."""
    from .tasks import run_job_task

    transaction.on_commit(lambda: run_job_task(job.pk))


def write_progress(job: Job, done: int, total: int | None) -> None:
    tmp = job.progress_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"done": done, "total": total, "at": timezone.now().isoformat()}))
    os.replace(tmp, job.progress_file)


def run_job(job_id: int, *, on_progress: Callable[[int, int | None], None] | None = None) -> Job | None:
    """Claim the job (a conditional UPDATE, so two workers never run it twice) and run it."""
    claimed = Job.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), pid=os.getpid()
    )
    if not claimed:
        return None
    job = Job.objects.select_related("user").get(pk=job_id)
    from fangpin.feeds import jobs as _feeds_jobs  # noqa: F401
    from fangpin.registry import jobs as _registry_jobs  # noqa: F401  (registers the handlers)
    from fangpin.rules import jobs as _rules_jobs  # noqa: F401

    def progress(done: int, total: int | None) -> None:
        write_progress(job, done, total)
        if on_progress:
            on_progress(done, total)

    with acting_as(job.user, source="job", request_id=f"job-{job.pk}"):
        try:
            HANDLERS[job.kind](job, progress)
        except Exception as exc:  # the job row must say what happened, whatever it was
            log.exception("job %s failed", job.pk)
            job.status = Status.FAILED
            job.message = f"任务出错：{scrub_exception(exc)}"[:1000]  # an exception may quote a cell
            job.summary = {**job.summary, "traceback": scrub(traceback.format_exc()[-4000:])}
        job.finished_at = timezone.now()
        job.save()
    if job.status == Status.SUCCEEDED and job.kind in REFRESHES_REPORTS:
        from fangpin.reports.actions import refresh_quietly

        refresh_quietly()  # the dashboard's summary tables follow the register; a failure there is only logged
    return job


# jobs after which the dashboard's summary tables are refreshed (in the job's own process, after its row
# says it succeeded, so the user never waits for it)
REFRESHES_REPORTS = (Kind.IMPORT_REGISTER, Kind.SCREENING, Kind.IMPORT_ROSTER)

ROLLED_BACK = "数据库事务已整体回滚，台账没有任何改动。请重新提交。"

# what a user reads when a job's process ended by a signal: the usual causes, in words
SIGNAL_WORDS = {
    signal.SIGKILL: "被强制结束（可能是系统内存不足或被管理员结束）",
    signal.SIGTERM: "被要求停止",
    signal.SIGINT: "被中断",
    signal.SIGSEGV: "崩溃（内存访问错误）",
    signal.SIGBUS: "崩溃（总线错误）",
    signal.SIGABRT: "异常中止",
    signal.SIGFPE: "崩溃（运算错误）",
}


def describe_exit(returncode: int) -> str:
    """A process's end in Chinese words: `被强制结束（…，信号 9）` or `异常退出（退出码 1）`."""
    if returncode < 0:
        number = -returncode
        try:
            words = SIGNAL_WORDS.get(signal.Signals(number), "被信号终止")
        except ValueError:
            words = "被信号终止"
        return f"{words}，信号 {number}"
    return f"异常退出，退出码 {returncode}"


def _alive(pid: int | None, since: dt.datetime | None = None) -> bool:
    """Is the process that ran a job still there? Not if it is a zombie (os.kill(pid, 0) succeeds on
    one), and not if the pid now belongs to a process started after the job did (pid reuse)."""
    if not pid:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            with contextlib.suppress(ChildProcessError):  # our own child: reap it, so it does not linger
                os.waitpid(pid, os.WNOHANG)
            return False
        slack = settings.FANGPIN_JOB_PID_START_SLACK_SECONDS
        if since is not None and process.create_time() > since.timestamp() + slack:
            return False
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    return True


def recover_interrupted(reason: str = "") -> int:
    """Mark running jobs whose process is gone. Their transaction died with them: nothing was written."""
    message = f"任务未完成：{reason}；{ROLLED_BACK}" if reason else f"任务进程意外终止；{ROLLED_BACK}"
    count = 0
    for job in Job.objects.filter(status=Status.RUNNING):
        if not _alive(job.pid, job.started_at):
            Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(
                status=Status.INTERRUPTED,
                finished_at=timezone.now(),
                message=message,
            )
            count += 1
    return count


# --- one process per job, under a memory ceiling ---------------------------------------------------


def die_with_parent(parent_pid: int) -> None:
    """In a job's process: be killed when the worker that started it dies (Linux PR_SET_PDEATHSIG), so
    a killed worker leaves no job running unsupervised; and leave at once if it is already gone."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def _tree_rss(process: psutil.Process) -> int:
    """Resident memory of the process and all its descendants (a Spark JVM is one), in bytes."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += member.memory_info().rss
    return total


def _kill_tree(process: psutil.Process) -> None:
    try:
        members = [*process.children(recursive=True), process]
    except psutil.NoSuchProcess:
        return
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()


def _fail_unfinished(job_id: int, message: str, status: Status = Status.FAILED) -> bool:
    """Mark the job failed unless its process already recorded how it ended."""
    return bool(
        Job.objects.filter(pk=job_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=status, finished_at=timezone.now(), message=message[:1000]
        )
    )


def run_job_in_child(job_id: int) -> Job | None:
    """The worker's way to run a job: in a fresh `fangpin run-job` process, watched.

    The child claims and runs the job exactly as the CLI does (one transaction per import). Here we
    sample the resident memory of its whole process tree; past FANGPIN_JOB_MEMORY_MB the tree is killed.
    Whenever the child ends without having recorded an outcome (killed, out of memory, crashed), the
    job is marked 出错 at once with the reason, and the worker goes on to the next job."""
    limit_mb = settings.FANGPIN_JOB_MEMORY_MB
    poll = settings.FANGPIN_JOB_MEMORY_POLL_MS / 1000
    child = subprocess.Popen(
        [sys.executable, "-m", "fangpin", "run-job", str(job_id), "--parent", str(os.getpid())]
    )
    watched = psutil.Process(child.pid)
    peak, over = 0, False
    while True:
        try:
            returncode = child.wait(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            pass
        rss = _tree_rss(watched)
        peak = max(peak, rss)
        if rss > limit_mb * 1024 * 1024:
            over = True
            _kill_tree(watched)
            returncode = child.wait()
            break
    if over:
        message = f"任务占用内存超过上限 {limit_mb} MB，已终止；台账没有任何改动。"
    elif returncode != 0:
        message = f"任务进程{describe_exit(returncode)}；{ROLLED_BACK}"
    else:
        message = ""
    # Ctrl+C or a stop request ended it: 已中断, to submit again; anything else is 出错
    stopped = returncode in (-signal.SIGINT, -signal.SIGTERM) and not over
    status = Status.INTERRUPTED if stopped else Status.FAILED
    if message and _fail_unfinished(job_id, message, status):
        print(f"任务 #{job_id}：{message}", file=sys.stderr, flush=True)
    # what an operator sizes FANGPIN_JOB_MEMORY_MB from
    print(f"任务 #{job_id} 的进程已结束，内存峰值约 {peak / 2**20:.0f} MB", file=sys.stderr, flush=True)
    return Job.objects.filter(pk=job_id).first()


class WorkerSupervisor:
    """`fangpin serve`'s hold on its worker: reaps it, marks the jobs it was running, restarts it.

    The worker's job processes die with it (die_with_parent); their jobs are marked 已中断 as soon as
    their processes are gone, so the queue moves on when the new worker starts."""

    def __init__(self, command: list[str], *, settle_seconds: float = 5.0) -> None:
        self.command = command
        self.settle_seconds = settle_seconds
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)
        self.thread.start()

    def _watch(self) -> None:
        backoff = 1
        while not self.stopping.is_set():
            assert self.process is not None
            started = time.monotonic()
            while (returncode := self.process.poll()) is None:  # poll reaps it once it has exited
                if self.stopping.wait(0.5):
                    return
            if self.stopping.is_set():
                return
            reason = f"后台任务进程{describe_exit(returncode)}"
            marked = self.mark_abandoned(reason)
            if time.monotonic() - started > settings.FANGPIN_WORKER_RESTART_MAX_SECONDS:
                backoff = 1  # it had been running fine: a single failure, not a crash loop
            note = f"，已将 {marked} 个任务标记为“已中断”" if marked else ""
            print(f"fangpin：{reason}{note}；{backoff} 秒后重启。", file=sys.stderr, flush=True)
            if self.stopping.wait(backoff):
                return
            self.process = subprocess.Popen(self.command)
            print(f"fangpin：后台任务进程已重启（进程号 {self.process.pid}）。", file=sys.stderr, flush=True)
            backoff = min(backoff * 2, settings.FANGPIN_WORKER_RESTART_MAX_SECONDS)

    def mark_abandoned(self, reason: str) -> int:
        """Mark the jobs whose processes are gone, waiting briefly for the dead worker's job processes
        to be killed by the kernel (die_with_parent)."""
        from django.db import connections

        deadline = time.monotonic() + self.settle_seconds
        marked = recover_interrupted(reason)
        while time.monotonic() < deadline and self._orphans():
            time.sleep(0.1)
            marked += recover_interrupted(reason)
        connections.close_all()  # this thread's own connection: not held open between deaths
        return marked

    @staticmethod
    def _orphans() -> bool:
        """Is a `run-job` process still running a job whose worker is gone?"""
        for job in Job.objects.filter(status=Status.RUNNING).only("pid", "started_at"):
            if _alive(job.pid, job.started_at):
                try:
                    if "run-job" in psutil.Process(job.pid).cmdline():
                        return True
                except psutil.Error:
                    pass
        return False

    def stop(self, timeout: float = 10) -> None:
        """Stop the worker (SIGINT: huey's graceful stop), kill it if it does not stop in time."""
        self.stopping.set()
        if self.process is None:
            return
        processes.stop(self.process, signal.SIGINT, timeout=timeout)
        self.thread.join(timeout=2)
        self.mark_abandoned("平台已停止")
