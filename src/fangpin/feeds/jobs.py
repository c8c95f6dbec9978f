from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status
from fangpin.rectification import jobs as _rectification_jobs  # noqa: F401  (registers its handler)
from fangpin.registry.reports import write_error_report

from . import actions
from .importer import import_roster
from .models import Roster


@handles(Kind.READ_HEADER)
def read_header(job: Job, progress: Callable[[int, int | None], None]) -> None:
    """The header of an uploaded table, read here and never in the web request: a roster's, or an
    inspection list's (rectification registers no handlers of its own with the worker)."""
    if "inspection_list" in job.params:
        from fangpin.rectification.importer import read_list_header

        reason, next_url = read_list_header(job)
        label = "下一步：确认列对应并导入"
    else:
        roster = Roster.objects.get(pk=job.params["roster"])
        reason = actions.read_header(roster)
        next_url, label = reverse("feeds:mapping", args=[roster.pk]), "下一步：确认列对应"
    if reason:
        job.status, job.message = Status.REJECTED, reason[:1000]
        return
    job.status, job.message = Status.SUCCEEDED, "已读取表头，请确认列对应"
    job.summary = {**job.summary, "next": next_url, "next_label": label}


@handles(Kind.IMPORT_ROSTER)
def run(job: Job, progress: Callable[[int, int | None], None]) -> None:
    roster = Roster.objects.get(pk=job.params["roster"])
    result = import_roster(roster, progress)
    job.problems = [{"row": p.row, "column": p.column, "message": p.message} for p in result.problems[:200]]
    if result.ok:
        roster.status = Roster.Status.IMPORTED
        roster.rows, roster.matched, roster.unmatched = result.rows, result.matched, result.unmatched
        roster.message = f"已导入{result.rows}行：匹配到台账{result.matched}行，未匹配{result.unmatched}行"
        job.status = Status.SUCCEEDED
    else:
        roster.status = Roster.Status.REJECTED
        roster.message = f"未通过校验：发现{len(result.problems)}处问题，名册未导入"
        job.status = Status.REJECTED
        target = job.work_dir / "错误说明.xlsx"
        write_error_report(roster.file_path, result.problems, target, header_row=roster.header_row)
        job.result_path, job.result_name = str(target), f"{roster.file_name.rsplit('.', 1)[0]}_错误说明.xlsx"
    roster.save()
    job.message = roster.message
