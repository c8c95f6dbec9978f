"""The batch print as a job of the worker: progress per household, the file on the job's page."""

from __future__ import annotations

from collections.abc import Callable

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status
from fangpin.regions.models import Region

from .actions import write_batch


@handles(Kind.PRINT_DOSSIERS)
def print_dossiers(job: Job, progress: Callable[[int, int | None], None]) -> None:
    region = Region.objects.get(code=job.params["region"])
    if job.user is None or not job.user.covers(region.code):  # the user's region may have changed since
        job.status, job.message = Status.REJECTED, "不能打印其他地区的档案"
        return
    target = job.work_dir / "dossiers"
    path, name, households = write_batch(user=job.user, region=region, target=target, progress=progress)
    job.result_path, job.result_name = str(path), name
    job.status = Status.SUCCEEDED
    job.summary = {**job.summary, "households": households}
    job.message = f"已生成{region.name}{households}户的一户一档（证件号码和电话已脱敏）"
