"""Printing dossiers: one household's PDF, its archive (PDF + attachments), a region's batch as a job.
Every print is in the audit log: an export, or a sensitive read when full numbers are printed."""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied

from fangpin.audit.actions import PendingEntry, append, record_soon
from fangpin.audit.models import Action
from fangpin.jobs.actions import create_job, enqueue
from fangpin.jobs.models import Job, Kind
from fangpin.monitoring.models import Attachment
from fangpin.regions.models import Level, Region
from fangpin.registry.models import Household

from . import content, pdf

PRINT_CAPABILITY = "view_register"  # one household: whoever sees its page
BATCH_CAPABILITY = "export_register"  # a whole village or township: whoever may export the register
FULL_REFUSED = "当前角色不能打印含完整证件号码和电话的档案"


def _check(user: Any, full: bool) -> None:
    if not user.can(PRINT_CAPABILITY):
        raise PermissionDenied("当前角色不能查看农户档案")
    if full and not content.may_print_full(user):
        raise PermissionDenied(FULL_REFUSED)


def _audit(user: Any, household: Household, full: bool, what: str) -> None:
    masked = "（含完整证件号码和电话）" if full else "（已脱敏）"
    record_soon(
        Action.SENSITIVE_READ if full else Action.EXPORT,
        model="registry.Household",
        object_id=str(household.pk),
        object_repr=str(household),
        household_id=household.pk,
        region_code=household.region_code,
        detail=f"导出一户一档{what}{masked}",
    )


def safe_name(name: str) -> str:
    """A file name any system accepts, with no ID or phone in it (the scrub masks them with *)."""
    from fangpin.retention.scrub import scrub

    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", scrub(name)).strip(" .")
    return cleaned[:80] or "档案"


def household_pdf(*, user: Any, household: Household, full: bool = False) -> bytes:
    """One household's dossier as PDF; `household` must come through Household.objects.for_user(user)."""
    _check(user, full)
    body = pdf.as_pdf(content.build(household, user=user, full=full))
    _audit(user, household, full, "（PDF）")
    return body


def _suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""


def archive_files(user: Any, household: Household) -> Iterator[tuple[str, str, Any]]:
    """(name in the archive, path on disk, object) of the household's files in the user's scope. Names are
    made from the kind and the date only: an uploaded file's own name may carry a number."""
    attachments = Attachment.objects.for_user(user).filter(household=household).order_by("uploaded_at", "id")
    for n, a in enumerate(attachments, 1):
        yield f"附件/{n:02d}_{a.get_kind_display()}_{a.uploaded_at:%Y%m%d}{_suffix(a.name)}", a.path, a
    if not user.can("view_rectification"):
        return
    from fangpin.rectification.models import Event, Item

    items = Item.objects.for_user(user).filter(households=household)
    evidence = (Event.objects.filter(item__in=items, kind=Event.Kind.EVIDENCE).exclude(file_path="")
                .select_related("item__batch").order_by("at", "id"))  # fmt: skip
    for n, e in enumerate(evidence, 1):
        yield f"整改佐证/{n:02d}_第{e.item.number}项_{e.at:%Y%m%d}{_suffix(e.file_name)}", e.file_path, e


def household_archive(*, user: Any, household: Household, full: bool = False) -> tuple[IO[bytes], str]:
    """The dossier PDF and the household's attachments and rectification evidence as one zip, in a
    temporary file (attachments run to megabytes each); returns the open file and its download name."""
    _check(user, full)
    dossier = content.build(household, user=user, full=full)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    files = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{safe_name(dossier.title)}.pdf", pdf.as_pdf(dossier))
        for name, path, obj in archive_files(user, household):
            if not Path(path).is_file():
                continue
            archive.write(path, name)
            files += 1
            label = f"附件（{obj.get_kind_display()}）" if isinstance(obj, Attachment) else "整改佐证材料"
            record_soon(Action.SENSITIVE_READ, model=obj._meta.label, object_id=str(obj.pk), object_repr=str(obj),
                        household_id=household.pk, region_code=household.region_code,
                        detail=f"查看完整{label}（档案包）")  # fmt: skip
    _audit(user, household, full, f"档案包（PDF和{files}个附件）")
    out.seek(0)
    return out, f"{safe_name(dossier.title)}档案包.zip"


# --- a village's or a township's dossiers, printed as one job ---------------------------------------


def batch_regions(user: Any) -> list[Region]:
    """The villages and townships whose dossiers the user may print together."""
    if user.region is None or not user.can(BATCH_CAPABILITY):
        return []
    low, high = user.region.prefix.ljust(12, "0"), user.region.prefix.ljust(12, "9")
    return list(Region.objects.filter(code__range=(low, high), level__in=[Level.TOWNSHIP, Level.VILLAGE])
                .select_related("parent").order_by("code"))  # fmt: skip


def queue_batch(*, user: Any, region: Region) -> Job:
    """批量打印: every household of the region in the user's scope, masked (the file stays on the
    server as a job's result, so it never carries full numbers)."""
    if not user.can(BATCH_CAPABILITY):
        raise PermissionDenied("当前角色不能批量打印档案")
    if not user.covers(region.code) or region.level < Level.COUNTY:
        raise PermissionDenied("不能打印其他地区的档案")
    job = create_job(kind=Kind.PRINT_DOSSIERS, user=user, params={"region": region.code},
                     input_name=region.full_name or region.name)  # fmt: skip
    enqueue(job)
    return job


def _dossiers(user: Any, households: Any, done: list[Household]) -> Iterator[content.Dossier]:
    for household in households.iterator(chunk_size=200):
        done.append(household)
        yield content.build(household, user=user)


def _audit_batch(households: list[Household], region: Region) -> None:
    append([PendingEntry(action=Action.EXPORT, model="registry.Household", object_id=str(h.pk), object_repr=str(h),
                         household_id=h.pk, region_code=h.region_code,
                         detail=f"批量打印一户一档（{region.name}，已脱敏）") for h in households])  # fmt: skip


def write_batch(*, user: Any, region: Region, target: Path, progress: Callable[[int, int | None], None]) -> tuple[Path, str, int]:  # fmt: skip
    """A village: one PDF. A township or the county: a zip with one PDF per village, each built and
    written before the next begins. Returns the file, its download name and the number of households."""
    scoped = Household.objects.for_user(user).in_region(region).select_related("region")
    total = scoped.count()
    printed = 0

    def one(village: Region, out: IO[bytes]) -> None:
        nonlocal printed
        done: list[Household] = []

        def tick() -> None:
            progress(printed + len(done), total)

        households = scoped.filter(region_code=village.code).order_by("household_no")
        pdf.write(_dossiers(user, households, done), out, title=f"{village.name}一户一档", on_household=tick)
        _audit_batch(done, village)
        printed += len(done)

    if region.level == Level.VILLAGE:
        path = target.with_suffix(".pdf")
        with open(path, "wb") as out:
            one(region, out)
        return path, f"{region.name}一户一档.pdf", printed
    codes = scoped.order_by().values_list("region_code", flat=True).distinct()
    villages = Region.objects.filter(code__in=list(codes)).select_related("parent").order_by("code")
    path = target.with_suffix(".zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for village in villages:
            name = f"{safe_name(village.name)}一户一档.pdf"
            if region.level < Level.TOWNSHIP and village.parent:  # two townships may each have a 东关村
                name = f"{safe_name(village.parent.name)}/{name}"
            with archive.open(name, "w", force_zip64=True) as out:
                one(village, out)
    return path, f"{region.name}一户一档.zip", printed
