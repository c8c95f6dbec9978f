"""Job handlers of the register: import and export run as background jobs."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status

from .exporter import export_register
from .importer import import_register
from .reports import write_error_report


@handles(Kind.IMPORT_REGISTER)
def run_import(job: Job, progress: Callable[[int, int | None], None]) -> None:
    result = import_register(job.input_path, year=job.params.get("year"), progress=progress)
    job.summary = result.summary()
    job.problems = [{"row": p.row, "column": p.column, "message": p.message} for p in result.problems[:200]]
    if result.ok:
        job.status = Status.SUCCEEDED
        s = result.summary()
        job.message = (
            f"导入成功：{s['rows']}行；户 新增{s['households']['created']} 更新{s['households']['updated']} "
            f"未变{s['households']['unchanged']}；人 新增{s['members']['created']} 更新{s['members']['updated']} "
            f"未变{s['members']['unchanged']}"
        )
        return
    job.status = Status.REJECTED
    job.message = (
        f"未通过校验：发现{len(result.problems)}处问题，台账没有任何改动。请下载错误说明，修改后重新上传。"
    )
    stem = job.input_name.rsplit(".", 1)[0] or "导入文件"
    target = job.work_dir / "错误说明.xlsx"
    write_error_report(job.input_path, result.problems, target, header_row=result.header_row)
    job.result_path, job.result_name = str(target), f"{stem}_错误说明.xlsx"


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
    job.status = Status.SUCCEEDED
    job.message = f"已导出{people}人" + ("（含完整证件号码）" if full else "（证件号码已脱敏）")
