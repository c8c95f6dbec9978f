"""Registering files written with full numbers, and purging them, import inputs and raw rosters.

A file with full ID or phone numbers is written only on request (the 含完整证件号码 choice), 0600,
and listed here with its owner and expiry; the worker purges it when it expires (tasks.py, hourly;
`fangpin purge` does the same at once). The files users upload carry full numbers too: an import's
input (MEDIA_ROOT/jobs/<id>/input.*) and a raw roster (MEDIA_ROOT/rosters/) are purged the same number
of days after their job or roster finished. Every deletion is one audit entry.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fangpin.audit.actions import record
from fangpin.audit.models import Action
from fangpin.feeds.models import Roster
from fangpin.jobs.models import FINISHED, Job, Status

from .models import Kind, SensitiveFile
from .scrub import scrub

EXPIRED_MESSAGE = "待确认已超过{days}天未确认，上传的文件已按保留期限删除；如仍需导入，请重新上传。"


def retention_days() -> int:
    return settings.FANGPIN_SENSITIVE_FILE_DAYS


def _day(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y年%m月%d日 %H:%M}"


def register_file(
    *, owner: Any, kind: Kind, path: str | Path, name: str, job: Job | None = None
) -> SensitiveFile:
    """List a file just written with full numbers: readable by the service account alone, and due
    for deletion FANGPIN_SENSITIVE_FILE_DAYS days from now."""
    os.chmod(path, 0o600)
    now = timezone.now()
    return SensitiveFile.objects.create(
        owner=owner, kind=kind, path=str(path), name=name, job=job,
        created_at=now, expires_at=now + dt.timedelta(days=retention_days()),
    )  # fmt: skip


@dataclass
class PurgeResult:
    files: int = 0  # requested full-number files past their expiry
    inputs: int = 0  # import inputs of finished jobs
    rosters: int = 0  # raw roster uploads
    expired: int = 0  # 待确认 jobs that waited too long (their input went with them)

    def __str__(self) -> str:
        return (
            f"已删除到期的含完整证件号码文件{self.files}个、导入文件{self.inputs}个、部门名册原文件{self.rosters}个"
            + (f"；{self.expired}个待确认任务已过期" if self.expired else "")
        )


def _inside_media(path: str) -> Path | None:
    """Only what fangpin itself stored is deleted: a command-line import names the operator's own
    file, which is theirs to keep."""
    if not path:
        return None
    resolved = Path(path).resolve()
    return resolved if resolved.is_relative_to(Path(settings.MEDIA_ROOT).resolve()) else None


def _delete(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def delete_file(*, user: Any, item: SensitiveFile, reason: str = "") -> None:
    """Delete one listed file now (its owner, or the security administrator, need not wait)."""
    if item.purged_at is not None:
        return
    if user is not None and not (user.can("manage_security") or item.owner_id == user.pk):
        raise PermissionDenied("只能删除本人生成的文件")
    _delete(Path(item.path))
    SensitiveFile.objects.filter(pk=item.pk).update(purged_at=timezone.now())
    owner = item.owner.username if item.owner else "命令行"
    record(Action.DELETE, model=SensitiveFile._meta.label, object_id=str(item.pk),
           object_repr=scrub(str(item)),
           detail=scrub(f"{reason or '按要求删除'}含完整证件号码的文件「{item.name}」"
                        f"（{item.get_kind_display()}，所有人{owner}，生成于{_day(item.created_at)}）"))  # fmt: skip


def purge(*, now: dt.datetime | None = None) -> PurgeResult:
    """Delete what has outlived its retention; safe to run twice (a missing file is only skipped)."""
    now = now or timezone.now()
    days = retention_days()
    cutoff = now - dt.timedelta(days=days)
    result = PurgeResult()
    for item in SensitiveFile.objects.live().filter(expires_at__lte=now).select_related("owner"):
        delete_file(user=None, item=item, reason="到期删除")
        result.files += 1
    result.expired = _expire_awaiting(cutoff, days)
    held = _held_paths()
    # rosters first: their file is also their jobs' input, and is counted (and audited) as a roster
    result.rosters = _purge_rosters(cutoff, days, held)
    finished = Job.objects.filter(status__in=FINISHED, finished_at__lte=cutoff).exclude(input_path="")
    for job in finished.exclude(status=Status.AWAITING).iterator():
        path = _inside_media(job.input_path)
        if path is None or job.input_path in held:
            continue
        deleted = _delete(path)
        Job.objects.filter(pk=job.pk).update(input_path="")
        if deleted:
            result.inputs += 1
            record(Action.DELETE, model=Job._meta.label, object_id=str(job.pk), object_repr=str(job),
                   detail=scrub(f"到期删除导入文件「{job.input_name}」（{job}，结束于{_day(job.finished_at)}，"
                                f"保留{days}天）"))  # fmt: skip
    return result


def _held_paths() -> set[str]:
    """Inputs a job still needs: one roster file serves the header check, then the import; a 待确认
    import reads its file again when confirmed."""
    waiting = Job.objects.exclude(status__in=FINISHED - {Status.AWAITING}).exclude(input_path="")
    return set(waiting.values_list("input_path", flat=True))


def _expire_awaiting(cutoff: dt.datetime, days: int) -> int:
    """A 待确认 job keeps its input until confirmed, or until it has waited the retention period:
    then the input is deleted and the job can no longer be confirmed."""
    count = 0
    for job in Job.objects.filter(status=Status.AWAITING, finished_at__lte=cutoff).iterator():
        path = _inside_media(job.input_path)
        _delete(path)
        claimed = Job.objects.filter(pk=job.pk, status=Status.AWAITING).update(
            status=Status.INTERRUPTED, input_path="" if path else job.input_path,
            message=EXPIRED_MESSAGE.format(days=days),
        )  # fmt: skip
        if claimed:
            count += 1
            record(Action.DELETE, model=Job._meta.label, object_id=str(job.pk), object_repr=str(job),
                   detail=scrub(f"待确认任务到期未确认，删除导入文件「{job.input_name}」（{job}，"
                                f"检查完成于{_day(job.finished_at)}，保留{days}天）"))  # fmt: skip
    return count


def _purge_rosters(cutoff: dt.datetime, days: int, held: set[str]) -> int:
    """A roster's raw file is kept while its import waits or runs."""
    count = 0
    # whatever its status: an upload whose mapping was never confirmed is abandoned after as long
    for roster in Roster.objects.filter(updated_at__lte=cutoff).exclude(file_path="").iterator():
        if roster.file_path in held:
            continue
        path = _inside_media(roster.file_path)
        if path is None:
            continue
        deleted = _delete(path)
        Roster.objects.filter(pk=roster.pk).update(file_path="")
        if deleted:
            count += 1
            record(Action.DELETE, model=Roster._meta.label, object_id=str(roster.pk),
                   object_repr=scrub(str(roster)),
                   detail=scrub(f"到期删除部门名册原文件「{roster.file_name}」（{roster.get_status_display()}，"
                                f"最后处理于{_day(roster.updated_at)}，保留{days}天）"))  # fmt: skip
    return count
