"""Roster operations: upload, confirm the column mapping, import."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from fangpin.common.tabular import sniff_suffix
from fangpin.jobs.actions import create_job
from fangpin.jobs.models import Job, Kind

from .importer import detect
from .kinds import KINDS, RosterKind
from .models import MappingProfile, Roster


def kinds_for(user: Any) -> list[RosterKind]:
    """A department officer uploads their department's rosters; county roles any."""
    if not user.can("upload_rosters"):
        return []
    if user.can("view_all_rosters"):
        return list(KINDS.values())
    return [kind for kind in KINDS.values() if kind.department == user.department]


@transaction.atomic
def upload(
    *, user: Any, kind: str, source: str, period: str, hashed_ids: bool, file: UploadedFile, work_dir: Any
) -> Roster:
    if kind not in {k.code for k in kinds_for(user)}:
        raise PermissionDenied("当前账号不能上传此类名册")
    head = file.read(8)
    file.seek(0)
    roster = Roster.objects.create(kind=kind, source=source, period=period, hashed_ids=hashed_ids,
                                   file_name=file.name, uploaded_by=user, file_path="")  # fmt: skip
    target = work_dir / f"roster-{roster.pk}{sniff_suffix(file.name, head)}"
    with open(target, "wb") as fh:
        for chunk in file.chunks():
            fh.write(chunk)
    saved = MappingProfile.objects.filter(kind=kind, source=source).first()
    detection = detect(str(target), KINDS[kind], saved.mapping if saved else None)
    if detection is None:
        raise ValidationError("未找到表头：文件前12行中没有一行包含名册的列名（如 证件号码、姓名）")
    roster.file_path = str(target)
    roster.header_row, roster.headers, roster.mapping = (
        detection.header_row,
        detection.headers,
        detection.suggested,
    )
    roster.save()
    return roster


@transaction.atomic
def confirm_mapping(*, user: Any, roster: Roster, mapping: dict[str, str]) -> Job:
    """Keep the mapping for this source (next month it is proposed as it is) and create the import job;
    the caller hands it to the worker (`enqueue`) or runs it in place (the CLI, the demo)."""
    roster.mapping = {key: label for key, label in mapping.items() if label}
    roster.status = Roster.Status.IMPORTING
    roster.save(update_fields=["mapping", "status", "updated_at"])
    MappingProfile.objects.update_or_create(kind=roster.kind, source=roster.source,
                                            defaults={"mapping": roster.mapping, "updated_by": user})  # fmt: skip
    job = create_job(kind=Kind.IMPORT_ROSTER, user=user, params={"roster": roster.pk},
                     input_path=roster.file_path, input_name=roster.file_name)  # fmt: skip
    return job
