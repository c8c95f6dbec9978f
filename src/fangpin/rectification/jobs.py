"""The worker's part of an inspection list: import it with the confirmed mapping (the header was read
by a READ_HEADER job, see feeds.jobs). A table file is never read in the web request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.urls import reverse

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status

from . import actions
from .importer import ListHeader, import_list


@handles(Kind.IMPORT_LIST)
def run(job: Job, progress: Callable[[int, int | None], None]) -> None:
    pending, header = job.params["pending"], job.params["header"]
    received = dt.date.fromisoformat(pending["received_on"]) if pending.get("received_on") else None
    with transaction.atomic():
        batch = actions.create_batch(user=job.user, name=pending["name"], source=pending["source"],
                                     region=job.user.region, received_on=received)  # fmt: skip
        result = import_list(user=job.user, batch=batch, path=pending["path"], mapping=job.params["mapping"],
                             header=ListHeader(header["row"], header["labels"], header["suggested"]))  # fmt: skip
        if not result.ok:
            transaction.set_rollback(True)  # all or nothing: no batch without its list
    if result.ok:
        job.status, job.message = Status.SUCCEEDED, f"已建立批次「{batch.name}」，导入{result.created}个问题"
        job.summary = {**job.summary, "next": reverse("rectification:batch", args=[batch.pk]),
                       "next_label": "查看批次"}  # fmt: skip
        return
    job.status = Status.REJECTED
    job.message = f"问题清单未通过校验：发现{len(result.problems)}处问题，未建立批次"
    job.problems = [{"row": p.row, "column": p.column, "message": p.message} for p in result.problems[:200]]
