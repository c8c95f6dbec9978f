"""Job handlers of the rule engine: a screening run, an export of findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status

from .actions import run_screening
from .exporter import export_findings


@handles(Kind.SCREENING)
def run(job: Job, progress: Callable[[int, int | None], None]) -> None:
    as_of = dt.date.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else None
    screening = run_screening(as_of=as_of, engine=job.params.get("engine", "duckdb"), progress=progress)
    found = sum(screening.rule_counts.values())
    job.summary = {
        "run": screening.pk,
        "people": screening.people,
        "found": found,
        "seconds": screening.seconds,
    }
    job.status = Status.SUCCEEDED
    job.message = (f"筛查完成：{len(screening.rule_counts)}条规则，{screening.people}人，"
                   f"发现{found}条，用时{screening.seconds}秒")  # fmt: skip


@handles(Kind.EXPORT_FINDINGS)
def export(job: Job, progress: Callable[[int, int | None], None]) -> None:
    target = job.work_dir / "findings.xlsx"
    count = export_findings(target, user=job.user, params=job.params, progress=progress)
    job.result_path, job.result_name = str(target), f"筛查发现_{timezone.localtime():%Y%m%d%H%M}.xlsx"
    job.status = Status.SUCCEEDED
    job.message = f"已导出{count}条筛查发现"
