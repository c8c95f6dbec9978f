"""Roster operations: upload, confirm the column mapping, import; and the command line's import with
the source's saved mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from fangpin.common.files import check_upload, copy_private, save_upload, stamped
from fangpin.common.tabular import SUPPORTED_SUFFIXES, UnreadableFile, sniff_suffix
from fangpin.jobs.actions import create_job
from fangpin.jobs.models import Job, Kind
from fangpin.registry.columns import header_key

from .importer import detect
from .kinds import KINDS, RosterKind
from .models import MappingProfile, Roster

PERIOD = re.compile(r"20\d{2}(0[1-9]|1[0-2])")
NO_HEADER = "未找到表头：文件前12行中没有一行包含名册的列名（如 证件号码、姓名）"


def check_period(period: str) -> str:
    period = period.strip()
    if not PERIOD.fullmatch(period):
        raise ValidationError("数据期间请填写年月，如 202510")
    return period


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
) -> Job:
    """Save the roster (checked by content and size, mode 0600) and create the job that reads its
    header in the worker: a table file is never parsed in the web process. The caller enqueues it."""
    if kind not in {k.code for k in kinds_for(user)}:
        raise PermissionDenied("当前账号不能上传此类名册")
    suffix = "." + check_upload(file, "table")
    roster = Roster.objects.create(kind=kind, source=source, period=period, hashed_ids=hashed_ids,
                                   file_name=file.name, uploaded_by=user, file_path="")  # fmt: skip
    target = save_upload(file, Path(work_dir) / f"roster-{roster.pk}{suffix}")
    roster.file_path = str(target)
    roster.save(update_fields=["file_path"])
    return create_job(kind=Kind.READ_HEADER, user=user, params={"roster": roster.pk},
                      input_path=roster.file_path, input_name=roster.file_name)  # fmt: skip


def read_header(roster: Roster) -> str | None:
    """The worker's half of an upload: find the header and propose a mapping (the source's saved one
    first). None when done, else why the file cannot be used (the roster is then rejected)."""
    saved = MappingProfile.objects.filter(kind=roster.kind, source=roster.source).first()
    try:
        detection = detect(roster.file_path, KINDS[roster.kind], saved.mapping if saved else None)
    except UnreadableFile as exc:  # over a limit (a damaged file gives no header: NO_HEADER)
        reason = str(exc)
    else:
        if detection is not None:
            roster.header_row, roster.headers, roster.mapping = (
                detection.header_row, detection.headers, detection.suggested,
            )  # fmt: skip
            roster.save(update_fields=["header_row", "headers", "mapping", "updated_at"])
            return None
        reason = NO_HEADER
    roster.status, roster.message = Roster.Status.REJECTED, reason[:500]
    roster.save(update_fields=["status", "message", "updated_at"])
    return reason


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


# --- the command line: a known source, its saved mapping, no questions -----------------------------


@dataclass(frozen=True)
class HeaderDifference:
    """How a file's header differs from its source's saved one: mapped columns it lacks, and columns
    the source's last confirmed file did not have (they may carry data the mapping does not know)."""

    missing: list[str]
    unexpected: list[str]

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected)

    def messages(self) -> list[str]:
        said = []
        if self.missing:
            said.append("文件中缺少已保存列对应中的列：" + "、".join(f"「{c}」" for c in self.missing))
        if self.unexpected:
            said.append("文件中有该来源此前没有的列：" + "、".join(f"「{c}」" for c in self.unexpected))
        return said


def saved_header(profile: MappingProfile) -> list[str] | None:
    """The header of the source's last file whose mapping was confirmed (the one the profile was saved
    for), or None when there is none left to compare with."""
    rosters = (
        Roster.objects.filter(kind=profile.kind, source=profile.source)
        .exclude(status=Roster.Status.UPLOADED)
        .order_by("-uploaded_at", "-id")
        .only("headers")
    )
    return next((roster.headers for roster in rosters.iterator() if roster.headers), None)


def header_difference(headers: list[str], profile: MappingProfile) -> HeaderDifference:
    present = {header_key(label) for label in headers if label}
    missing = [label for label in profile.mapping.values() if header_key(label) not in present]
    before = saved_header(profile)
    known = {header_key(label) for label in before or [] if label}
    unexpected = [
        label for label in headers if label and before is not None and header_key(label) not in known
    ]
    return HeaderDifference(missing, unexpected)


@transaction.atomic
def import_file(
    *, user: Any, kind: str, source: str, period: str, hashed_ids: bool, path: Path, work_dir: Path
) -> Job:
    """The command line's upload: the file is read with the mapping saved for its source at an earlier
    upload on the web, and refused (nothing kept) when there is none or the header has changed: a
    mapping is confirmed by a person looking at the columns, never guessed unattended. `user` None is the
    server's operator (the OS account is in the audit log). The caller runs the returned job."""
    if kind not in KINDS:
        raise ValidationError(f"没有名册类型「{kind}」：可用的类型见 fangpin roster kinds")
    if user is not None and kind not in {k.code for k in kinds_for(user)}:
        raise PermissionDenied(f"{user.username} 不能上传{KINDS[kind].department} · {KINDS[kind].label}名册")
    period = check_period(period)
    if Path(path).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValidationError("请提供 .xlsx、.xls 或 .csv 文件")
    profile = MappingProfile.objects.filter(kind=kind, source=source).first()
    if profile is None:
        others = MappingProfile.objects.filter(kind=kind).values_list("source", flat=True)
        hint = f"（已保存的来源：{'、'.join(others)}）" if others else ""
        raise ValidationError(
            f"数据来源「{source}」的{KINDS[kind].label}名册还没有保存的列对应{hint}：请先在网页上"
            "（部门名册 → 上传名册）上传一次并确认列对应，之后即可用命令行导入"
        )
    with open(path, "rb") as fh:
        head = fh.read(8)
    work_dir.mkdir(parents=True, exist_ok=True)
    target = copy_private(Path(path), stamped(work_dir, f"{kind}{sniff_suffix(Path(path).name, head)}"))
    try:
        try:  # the CLI is the operator's own process: the header is read here, within the limits
            detection = detect(str(target), KINDS[kind], profile.mapping)
        except UnreadableFile as exc:
            raise ValidationError(str(exc)) from exc
        if detection is None:
            raise ValidationError(NO_HEADER)
        difference = header_difference(detection.headers, profile)
        if difference:
            raise ValidationError([
                f"文件的表头与数据来源「{source}」保存的列对应不一致，未导入", *difference.messages(),
                "请在网页上传此文件并确认列对应（会更新该来源保存的列对应），之后命令行即按新的列对应导入",
            ])  # fmt: skip
    except ValidationError:
        target.unlink(missing_ok=True)
        raise
    roster = Roster.objects.create(
        kind=kind, source=source, period=period, hashed_ids=hashed_ids, file_path=str(target),
        file_name=Path(path).name, header_row=detection.header_row, headers=detection.headers,
        mapping=dict(profile.mapping), status=Roster.Status.IMPORTING, uploaded_by=user,
    )  # fmt: skip
    return create_job(kind=Kind.IMPORT_ROSTER, user=user, params={"roster": roster.pk},
                      input_path=roster.file_path, input_name=roster.file_name)  # fmt: skip
