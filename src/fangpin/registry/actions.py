"""Register operations that views and the API call: reading sensitive values, queueing jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet

from fangpin.audit.actions import record_sensitive_read
from fangpin.common.crypto import cipher
from fangpin.common.files import save_upload
from fangpin.common.idnumber import mask_id, normalise_id
from fangpin.common.tabular import sniff_suffix
from fangpin.jobs.actions import create_job, enqueue
from fangpin.jobs.models import Job, Kind, Status

from .faults import CORRECTABLE_ID_FAULTS, ID_COLUMN
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


def queue_import(
    *, user: Any, upload: UploadedFile, year: int | None, strict: bool = False, full_ids: bool = False
) -> Job:
    """An upload is checked first: a file with faults of values waits for the user's confirmation.
    `full_ids`: the error workbook keeps the uploader's own values (a listed file that expires)."""
    if not user.can("import_register"):
        raise PermissionDenied("当前角色不能导入台账")
    params = {"year": year, "strict": strict, "confirmed": False, "full_ids": full_ids}
    job = create_job(kind=Kind.IMPORT_REGISTER, user=user, params=params, input_name=upload.name)
    head = upload.read(8)
    upload.seek(0)
    target = save_upload(upload, job.work_dir / f"input{sniff_suffix(upload.name, head)}")
    job.input_path = str(target)
    job.save(update_fields=["input_path"])
    enqueue(job)
    return job


def queue_import_path(
    *,
    user: Any,
    path: str | Path,
    year: int | None,
    strict: bool = False,
    confirmed: bool = False,
    allow_moves: bool = False,
    full_ids: bool = False,
) -> Job:
    """The CLI's entry: the same job, reading the file where it lies."""
    path = Path(path).resolve()
    params = {
        "year": year, "strict": strict, "confirmed": confirmed, "allow_moves": allow_moves, "full_ids": full_ids
    }  # fmt: skip
    return create_job(
        kind=Kind.IMPORT_REGISTER,
        user=user,
        params=params,
        input_path=str(path),
        input_name=path.name,
    )


def confirm_import(*, user: Any, job: Job, allow_moves: bool = False) -> Job:
    """The user has read what the check found: run the same file again, this time to be written."""
    if not user.can("import_register") or job.user_id != user.pk:
        raise PermissionDenied("只能确认自己提交的导入")
    if job.kind != Kind.IMPORT_REGISTER or job.status != Status.AWAITING:
        raise PermissionDenied("该导入不在待确认状态")
    job.params = {**job.params, "confirmed": True, "allow_moves": allow_moves}
    job.status, job.result_path, job.result_name = Status.QUEUED, "", ""
    job.save(update_fields=["params", "status", "result_path", "result_name"])
    enqueue(job)
    return job


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


def ids_to_correct(user: Any) -> QuerySet[Member]:
    """证件号码待修正: members in the user's scope whose ID the import kept with a fault a village can
    correct from the 户口簿 (a converted 15-digit number is exact and is not listed)."""
    return (
        Member.objects.for_user(user)
        .filter(id_fault__in=sorted(CORRECTABLE_ID_FAULTS))
        .select_related("household", "household__region")
        .order_by("region_code", "household__household_no", "id")
    )


def correct_id(*, user: Any, member: Member, id_number: str) -> Member:
    """Enter the true ID of a person whose number the national export holds damaged. It passes the
    usual checks, must name nobody else, is audited, and from then on matches rosters: roster rows
    already loaded with that number are linked now; the finding clears at the next screening."""
    if not user.can("correct_ids"):
        raise PermissionDenied("当前角色不能更正证件号码")
    if not Member.objects.for_user(user).filter(pk=member.pk).exists():
        raise PermissionDenied("该成员不在您的管辖范围内")
    if member.id_fault not in CORRECTABLE_ID_FAULTS:
        raise ValidationError("该成员的证件号码没有待修正的问题")
    result = normalise_id(id_number, allow_disability_card=member.id_type == "残疾人证")
    if result.error or result.fault:
        raise ValidationError(result.error or "请录入18位公民身份号码（15位旧号码请换成户口簿上的18位号码）")
    digest = cipher().digest(result.value[:18], "id")
    if Member.objects.filter(id_number_hash=digest).exclude(pk=member.pk).exists():
        raise ValidationError("该证件号码已登记在另一人名下，请核对户口簿")
    from fangpin.feeds.models import RosterRecord

    with transaction.atomic():
        member.id_number_enc = cipher().encrypt(result.value, "id")
        member.id_number_hash = digest
        member.id_number_masked = mask_id(result.value)
        member.value_faults = {k: v for k, v in member.value_faults.items() if k != ID_COLUMN}
        member.id_fault = ""
        member.save()
        RosterRecord.objects.filter(id_hash=digest, member__isnull=True).update(
            member=member, household=member.household, region_code=member.region_code
        )
    return member
