"""Job handlers of the register: import and export run as background jobs."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status
from fangpin.retention.actions import register_file
from fangpin.retention.models import Kind as SensitiveKind
from fangpin.retention.scrub import scrub

from .columns import LAYOUT_NAMES, POPULATION_LAYOUTS
from .exporter import export_register
from .faults import label
from .importer import import_register
from .reports import write_error_report
from .rows import Fault, Problem


@handles(Kind.IMPORT_REGISTER)
def run_import(job: Job, progress: Callable[[int, int | None], None]) -> None:
    params = job.params
    result = import_register(
        job.input_path,
        year=params.get("year"),
        progress=progress,
        strict=bool(params.get("strict")),
        confirmed=bool(params.get("confirmed")),
        allow_moves=bool(params.get("allow_moves")),
    )
    job.summary = result.summary()
    stem = job.input_name.rsplit(".", 1)[0] or "导入文件"
    if result.ok:
        job.status = Status.SUCCEEDED
        job.problems = _listed(result.faults)
        s = job.summary
        job.message = (
            f"{s['layout_name']}导入成功：{s['rows']}行；户 新增{s['households']['created']} "
            f"更新{s['households']['updated']} 未变{s['households']['unchanged']}；人 新增{s['members']['created']} "
            f"更新{s['members']['updated']} 未变{s['members']['unchanged']}"
        )
        if result.moves:
            job.message += f"；{result.moves}人按确认从其他户迁入"
        if result.from_population:
            job.message += f"；{result.from_population}人按国家系统导出从户籍、花名册登记的一般农户迁入"
        if result.registered:
            job.message += f"；{result.registered}人已在国家系统导出的户中，保持原户，只补充了空白信息"
        if result.faults:
            job.message += f"。{len(result.faults)}处数据疑点已按原值导入，将在下次筛查中列为数据疑点"
        return
    if result.needs_confirmation:
        job.status = Status.AWAITING
        job.problems = _listed(result.faults)
        source = "原表" if result.layout in POPULATION_LAYOUTS else "国家系统"
        job.message = (
            f"文件（{LAYOUT_NAMES[result.layout]}）可以导入，但发现{len(result.faults)}处数据疑点"
            f"（{source}中即是如此，文件里无法更正）。"
            "台账尚未改动：请查看下方的数据疑点，确认后导入，导入后这些问题将在筛查中列为数据疑点。"
        )
        _write_report(job, result.faults, result.header_row, "数据疑点说明", stem)
        return
    job.problems = [_entry(p) for p in result.problems[:200]]
    job.status = Status.REJECTED
    name = LAYOUT_NAMES[result.layout] if result.header_row else ""  # no header: no layout either
    job.message = f"{name}未通过校验：发现{len(result.problems)}处问题，台账没有任何改动。请下载错误说明，修改后重新上传。"
    _write_report(job, result.problems, result.header_row, "错误说明", stem)


def _entry(problem: Problem) -> dict[str, object]:
    # the row and the column find the cell; a message never carries a number in clear
    return {"row": problem.row, "column": problem.column, "message": scrub(problem.message)}


def _listed(faults: list[Fault]) -> list[dict[str, object]]:
    return [_entry(f.as_problem()) | {"kind": label(f.kind)} for f in faults[:200]]


def _write_report(job: Job, problems: list, header_row: int, title: str, stem: str) -> None:
    """Masked by default; the full copy (the uploader's own rows) only when the upload asked for it
    (params["full_ids"]: the 含完整证件号码 choice), and then listed and purged like a full export."""
    full = bool(job.params.get("full_ids"))
    target = job.work_dir / f"{title}.xlsx"
    as_problems = [p.as_problem() if isinstance(p, Fault) else p for p in problems]
    write_error_report(job.input_path, as_problems, target, header_row=header_row, full_ids=full)
    job.result_path, job.result_name = (
        str(target),
        f"{stem}_{title}" + ("（含完整证件号码）" if full else "") + ".xlsx",
    )
    if full:
        register_file(
            owner=job.user, kind=SensitiveKind.ERROR_WORKBOOK, path=target, name=job.result_name, job=job
        )


@handles(Kind.EXPORT_REGISTER)
def run_export(job: Job, progress: Callable[[int, int | None], None]) -> None:
    layout = job.params.get("layout", "member")
    full = bool(job.params.get("full")) and job.user.can("export_full_ids")
    target = job.work_dir / "export.xlsx"
    people = export_register(
        target, user=job.user, layout=layout, year=job.params.get("year"), full=full, progress=progress
    )
    name = "户成员信息" if layout == "member" else "监测对象信息"
    job.result_path, job.result_name = str(target), f"{name}_{timezone.localtime():%Y%m%d%H%M}.xlsx"
    if full:  # listed for its owner, 0600, purged when it expires
        register_file(
            owner=job.user, kind=SensitiveKind.REGISTER_EXPORT, path=target, name=job.result_name, job=job
        )
    job.status = Status.SUCCEEDED
    job.message = f"已导出{people}人" + ("（含完整证件号码）" if full else "（证件号码已脱敏）")
