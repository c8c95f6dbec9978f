"""Operations on 民政 lists: upload one for import (read and checked in the worker), put a checked list
in use in place of the previous one of its scope. Only here is anything of this app changed.

Who: 民政's 部门数据员 (Department.CIVIL) and the county (capability `manage_social_aid`). The list's
scope is the uploader's region; a department officer without one uploads for the county the platform
serves."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from fangpin.accounts.roles import Department, Role
from fangpin.common.files import save_upload
from fangpin.common.tabular import sniff_suffix
from fangpin.jobs.actions import create_job, enqueue
from fangpin.jobs.models import Job, Kind
from fangpin.regions.models import Level, Region

from .importer import ParsedList
from .models import AidList, AidPerson

UPLOAD = "manage_social_aid"
EXPORT = "export_register"
BATCH = 2000


def may_upload(user: Any) -> bool:
    if not user.can(UPLOAD):
        return False
    return user.role != Role.DEPARTMENT or user.department == Department.CIVIL


def scope_of(user: Any) -> Region:
    """The region a list of this user covers: their own, or for a department officer without one the
    one county the platform serves."""
    if user.region is not None:
        return user.region
    counties = list(Region.objects.filter(level=Level.COUNTY)[:2])
    if len(counties) != 1:
        raise ValidationError("您的账号没有所属区划，无法确定名单范围：请系统管理员为账号设置所属区划")
    return counties[0]


def queue_import(*, user: Any, upload: UploadedFile, as_of: dt.date, source: str) -> Job:
    """Save the upload (checked by the form: type, content, size) and read it in the worker."""
    if not may_upload(user):
        raise PermissionDenied("只有民政部门数据员和县级业务员、管理员可以上传民政低收入人口名单")
    if as_of > timezone.localdate():
        raise ValidationError("名单日期不能晚于今天")
    scope = scope_of(user)
    with transaction.atomic():
        job = create_job(kind=Kind.IMPORT_SOCIAL_AID, user=user, input_name=upload.name)
        aid_list = AidList.objects.create(
            region_code=scope.code, source=source.strip()[:100], as_of=as_of, file_name=upload.name[:255],
            job=job, uploaded_by=user,
        )  # fmt: skip
        head = upload.read(8)
        upload.seek(0)
        target = save_upload(upload, job.work_dir / f"input{sniff_suffix(upload.name, head)}")
        job.input_path = str(target)
        job.params = {"list": aid_list.pk}
        job.save(update_fields=["input_path", "params"])
        enqueue(job)
    return job


def reject(aid_list: AidList, problems: int) -> None:
    aid_list.status = AidList.Status.REJECTED
    aid_list.message = f"未通过校验：发现{problems}处问题，名单未导入"
    aid_list.save(update_fields=["status", "message", "updated_at"])


@transaction.atomic
def put_in_use(aid_list: AidList, parsed: ParsedList) -> list[AidList]:
    """Store the people and make the list the one in use for its scope; the previous list of the same
    scope is kept as 已被替换 (with when and by which). Returns the lists it replaced."""
    people = list(parsed.people.values())
    for start in range(0, len(people), BATCH):
        AidPerson.objects.bulk_create([
            AidPerson(
                aid_list=aid_list, row_number=p.row_number, id_hash=p.id_hash, id_masked=p.id_masked,
                name=p.name, categories="、".join(p.categories), household_key=p.household_key,
                head_name=p.head_name, head_id_masked=p.head_id_masked, household_size=p.household_size,
                township_name=p.township_name, village_name=p.village_name, region_code=p.region_code,
                start_date=p.start_date, end_date=p.end_date, monthly_amount=p.monthly_amount,
            )
            for p in people[start : start + BATCH]
        ])  # fmt: skip
    now = timezone.now()
    replaced = list(
        AidList.objects.select_for_update()
        .filter(region_code=aid_list.region_code, status=AidList.Status.CURRENT)
        .exclude(pk=aid_list.pk)
    )
    for previous in replaced:  # one by one, so that each replacement is in the audit log
        previous.status, previous.replaced_at, previous.replaced_by = AidList.Status.REPLACED, now, aid_list
        previous.save(update_fields=["status", "replaced_at", "replaced_by", "updated_at"])
    ended = sum(1 for p in people if p.end_date and p.end_date < aid_list.as_of)
    aid_list.status, aid_list.imported_at = AidList.Status.CURRENT, now
    aid_list.rows, aid_list.persons, aid_list.ended = parsed.rows, len(people), ended
    aid_list.households = len({p.household_key for p in people})
    aid_list.matched = parsed.matched
    aid_list.message = (
        f"已导入{parsed.rows}行：{aid_list.households}户{len(people)}人，其中在本平台台账中{parsed.matched}人"
        + (f"，结束日期早于名单日期（已退出）{ended}人不参与比对" if ended else "")
        + (f"；替换了{replaced[0].as_of:%Y年%m月%d日}的名单" if replaced else "")
    )
    aid_list.save()
    return replaced
