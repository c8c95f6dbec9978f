"""Operations on comparisons: upload a national export for comparison, compare again, mark a household
已核对, export the differences. Only here is anything of this app changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from fangpin.audit import actions as audit
from fangpin.audit.models import Action
from fangpin.common.files import save_upload
from fangpin.common.tabular import sniff_suffix
from fangpin.jobs.actions import create_job, enqueue
from fangpin.jobs.models import Job, Kind

from . import compare
from .models import CheckMark, Comparison, Entry

UPLOAD = "import_register"  # who may upload a national export: those who may import it
CHECK = "verify_warnings"  # who marks a household 已核对: the county, township and village who verify
EXPORT = "export_register"


def queue_comparison(
    *, user: Any, upload: UploadedFile, cutoff: dt.date, tolerance: Decimal, year: int | None = None
) -> Job:
    """Save the upload (checked by the form: type, content, size) and compare it in the worker."""
    if not user.can(UPLOAD) or user.region is None:
        raise PermissionDenied("当前角色不能上传国家系统导出文件进行比对")
    with transaction.atomic():
        job = create_job(kind=Kind.RECONCILE, user=user, params={"year": year}, input_name=upload.name)
        comparison = Comparison.objects.create(
            created_by=user, job=job, file_name=upload.name[:255], region_code=user.region.code,
            cutoff=cutoff, tolerance=tolerance, year=year,
        )  # fmt: skip
        head = upload.read(8)
        upload.seek(0)
        target = save_upload(upload, job.work_dir / f"input{sniff_suffix(upload.name, head)}")
        job.input_path = str(target)
        job.params = {**job.params, "comparison": comparison.pk, "mode": "upload"}
        job.save(update_fields=["input_path", "params"])
        enqueue(job)
    return job


def queue_recompare(*, user: Any, comparison: Comparison) -> Job:
    """重新比对: the same national side against the register as it is now (after large changes)."""
    if not user.can(UPLOAD) or not user.covers(comparison.region_code):
        raise PermissionDenied("当前角色不能重新比对")
    job = create_job(kind=Kind.RECONCILE, user=user, params={"comparison": comparison.pk, "mode": "recompare"},
                     input_name=comparison.file_name)  # fmt: skip
    enqueue(job)
    return job


def queue_export(*, user: Any, comparison: Comparison, filters: dict[str, str]) -> Job:
    if not user.can(EXPORT):
        raise PermissionDenied("当前角色不能导出比对差异")
    job = create_job(kind=Kind.EXPORT_DIFFERENCES, user=user,
                     params={"comparison": comparison.pk, "filters": filters})  # fmt: skip
    enqueue(job)
    return job


def mark_checked(*, user: Any, entry: Entry, note: str = "") -> CheckMark:
    """已核对: kept until either side's compared values change (the fingerprint checked is stored)."""
    if not user.can(CHECK):
        raise PermissionDenied("当前角色不能标记已核对")
    if not Entry.objects.for_user(user).filter(pk=entry.pk).exists():
        raise PermissionDenied("该户不在您的管辖范围内")
    if compare.current(user) != entry.comparison:
        raise ValidationError("这不是最新一次比对的结果，请在最新比对中核对")
    compare.sync(entry.comparison)
    entry = Entry.objects.get(pk=entry.pk)  # the register side as it is now
    if entry.differences == 0:
        raise ValidationError("该户两边已一致，无需核对")
    with transaction.atomic():
        previous = CheckMark.objects.filter(household_no=entry.household_no).first()
        mark, _ = CheckMark.objects.update_or_create(
            household_no=entry.household_no,
            defaults={"region_code": entry.region_code, "fingerprint": entry.fingerprint,
                      "comparison": entry.comparison, "checked_by": user, "note": note[:300]},
        )  # fmt: skip
        audit.append([
            audit.PendingEntry(
                action=Action.UPDATE if previous else Action.CREATE, model="reconciliation.CheckMark",
                object_id=str(mark.pk), object_repr=str(mark), household_id=entry.household_id,
                region_code=entry.region_code,
                before={"fingerprint": previous.fingerprint, "note": previous.note} if previous else None,
                after={"fingerprint": mark.fingerprint, "note": mark.note},
                detail=f"账账比对：标记已核对（{entry.differences}处差异）",
            )
        ])  # fmt: skip
    return mark
