"""Creating, claiming, running and recovering jobs."""

from __future__ import annotations

import json
import logging
import os
import traceback
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangpin.audit.context import acting_as

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
            job.message = f"任务出错：{exc}"[:1000]
            job.summary = {**job.summary, "traceback": traceback.format_exc()[-4000:]}
        job.finished_at = timezone.now()
        job.save()
    return job


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted() -> int:
    """Mark running jobs whose process is gone. Their transaction died with them: nothing was written."""
    count = 0
    for job in Job.objects.filter(status=Status.RUNNING):
        if not _alive(job.pid):
            Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(
                status=Status.INTERRUPTED,
                finished_at=timezone.now(),
                message="任务进程意外终止；数据库事务已整体回滚，台账没有任何改动。请重新提交。",
            )
            count += 1
    return count
