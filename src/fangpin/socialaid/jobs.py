"""The worker's part of a 民政 list: read and check it, put it in use, compare it once for its history.
A table file is never read in the web request."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status
from fangpin.regions.models import Region
from fangpin.registry.reports import write_error_report
from fangpin.retention.scrub import scrub

from . import actions, compare
from .importer import read_list
from .models import AidList


@handles(Kind.IMPORT_SOCIAL_AID)
def run_import(job: Job, progress: Callable[[int, int | None], None]) -> None:
    aid_list = AidList.objects.get(pk=job.params["list"])
    scope = Region.objects.get(code=aid_list.region_code)
    parsed = read_list(job.input_path, scope)
    if not parsed.ok:
        actions.reject(aid_list, len(parsed.problems))
        job.status = Status.REJECTED
        job.problems = [
            {"row": p.row, "column": p.column, "message": scrub(p.message)} for p in parsed.problems[:200]
        ]
        job.message = (
            f"名单未通过校验：发现{len(parsed.problems)}处问题，名单未导入，仍使用原名单。"
            "请下载错误说明，修改后重新上传。"
        )
        target = job.work_dir / "错误说明.xlsx"
        write_error_report(job.input_path, parsed.problems, target, header_row=parsed.header_row)
        stem = job.input_name.rsplit(".", 1)[0] or "民政名单"
        job.result_path, job.result_name = str(target), f"{stem}_错误说明.xlsx"
        return
    progress(1, 2)
    replaced = actions.put_in_use(aid_list, parsed)
    aid_list.summary = compare.totals(compare.build(aid_list, scope))
    aid_list.save(update_fields=["summary", "updated_at"])
    job.status = Status.SUCCEEDED
    job.message = aid_list.message
    job.summary = {"rows": parsed.rows, "people": aid_list.persons, "replaced": [a.pk for a in replaced]}
    if job.user is not None and job.user.can(compare.VIEW):
        job.summary |= {**aid_list.summary, "next": reverse("socialaid:index"), "next_label": "查看比对结果"}
    else:  # a 民政 data officer: the lists they uploaded
        job.summary |= {"next": reverse("socialaid:lists"), "next_label": "查看名单"}
