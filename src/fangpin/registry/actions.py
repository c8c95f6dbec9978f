"""Register operations that views and the API call: reading sensitive values, queueing jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile

from fangpin.audit.actions import record_sensitive_read
from fangpin.common.crypto import cipher
from fangpin.common.files import save_upload
from fangpin.common.tabular import sniff_suffix
from fangpin.jobs.actions import create_job, enqueue
from fangpin.jobs.models import Job, Kind

from .models import Household, Member

SENSITIVE_FIELDS = {"id_number": ("id", "证件号码"), "phone": ("phone", "联系电话")}


def reveal(*, user: Any, obj: Member | Household, field: str) -> str:
    """The full ID or phone number, for a role that may see it; each view is audited."""
    if not user.can("reveal_sensitive"):
        raise PermissionDenied("当前角色不能查看完整的证件号码和电话")
    kind, label = SENSITIVE_FIELDS[field]
    token = getattr(obj, f"{field}_enc")
    household_id = obj.household_id if isinstance(obj, Member) else obj.pk
    record_sensitive_read(
        instance=obj, field_label=label, household_id=household_id, region_code=obj.region_code
    )
    return cipher().decrypt(token, kind)


def queue_import(*, user: Any, upload: UploadedFile, year: int | None) -> Job:
    if not user.can("import_register"):
        raise PermissionDenied("当前角色不能导入台账")
    job = create_job(kind=Kind.IMPORT_REGISTER, user=user, params={"year": year}, input_name=upload.name)
    head = upload.read(8)
    upload.seek(0)
    target = save_upload(upload, job.work_dir / f"input{sniff_suffix(upload.name, head)}")
    job.input_path = str(target)
    job.save(update_fields=["input_path"])
    enqueue(job)
    return job


def queue_import_path(*, user: Any, path: str | Path, year: int | None) -> Job:
    """The CLI's entry: the same job, reading the file where it lies."""
    path = Path(path).resolve()
    return create_job(
        kind=Kind.IMPORT_REGISTER,
        user=user,
        params={"year": year},
        input_path=str(path),
        input_name=path.name,
    )


def queue_export(*, user: Any, layout: str, year: int | None, full: bool) -> Job:
    if not user.can("export_register"):
        raise PermissionDenied("当前角色不能导出台账")
    if full and not user.can("export_full_ids"):
        raise PermissionDenied("当前角色不能导出完整证件号码")
    job = create_job(
        kind=Kind.EXPORT_REGISTER, user=user, params={"layout": layout, "year": year, "full": full}
    )
    enqueue(job)
    return job
