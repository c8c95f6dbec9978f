"""The worker's part of a comparison: read the national export and compare it; export the differences.
A table file is never read in the web request."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status
from fangpin.regions.models import Region
from fangpin.registry.reports import write_error_report
from fangpin.retention.scrub import scrub

from . import compare, queries
from .exporter import export_differences
from .models import Comparison
from .national import read_national


@handles(Kind.RECONCILE)
def run_compare(job: Job, progress: Callable[[int, int | None], None]) -> None:
    comparison = Comparison.objects.get(pk=job.params["comparison"])
    if job.params.get("mode") == "recompare":
        national = compare.stored_national(comparison)
    else:
        parsed = read_national(
            job.input_path,
            region=Region.objects.get(code=comparison.region_code),
            year=job.params.get("year"),
        )
        if not parsed.ok:
            comparison.status = Comparison.Status.REFUSED
            comparison.finished_at = timezone.now()
            comparison.save(update_fields=["status", "finished_at"])
            job.status = Status.REJECTED
            job.problems = [
                {"row": p.row, "column": p.column, "message": scrub(p.message)} for p in parsed.problems[:200]
            ]
            job.message = f"文件未通过校验：发现{len(parsed.problems)}处问题，未进行比对。请下载错误说明，修改后重新上传。"
            target = job.work_dir / "错误说明.xlsx"
            write_error_report(job.input_path, parsed.problems, target, header_row=parsed.header_row)
            stem = job.input_name.rsplit(".", 1)[0] or "比对文件"
            job.result_path, job.result_name = str(target), f"{stem}_错误说明.xlsx"
            return
        comparison.layout, comparison.year, comparison.compared = parsed.layout, parsed.year, parsed.fields
        national = parsed.households
        job.summary = {"rows": parsed.rows, "outside": parsed.outside}
    progress(1, 2)
    summary = compare.build(comparison, national)
    job.status = Status.SUCCEEDED
    job.message = (
        f"比对完成：共{summary['households']}户，{summary['different']}户有差异"
        f"（仅国家系统有{summary['only_national']}户，仅本平台有{summary['only_fangpin']}户），"
        f"差异{summary['differences']}处"
    )
    if summary.get("cleared_marks"):
        job.message += f"；{summary['cleared_marks']}户因数据变化取消了已核对标记"
    if job.summary.get("outside"):
        job.message += f"；文件中有{job.summary['outside']}户不在您的管辖范围，未比对"
    job.summary = {
        **job.summary,
        **summary,
        "next": reverse("reconciliation:index"),
        "next_label": "查看比对结果",
    }


@handles(Kind.EXPORT_DIFFERENCES)
def run_export(job: Job, progress: Callable[[int, int | None], None]) -> None:
    comparison = Comparison.objects.get(pk=job.params["comparison"])
    compare.sync(comparison, limit=compare.SYNC_IN_JOB_MAX)
    found = queries.Filters.from_params(job.params.get("filters") or {})
    differences = queries.differences(job.user, comparison, found)
    checked = queries.checked_entries(job.user, comparison)
    target = job.work_dir / "比对差异.xlsx"
    count = export_differences(
        target, user=job.user, comparison=comparison, differences=differences, checked=checked
    )
    job.result_path, job.result_name = str(target), f"账账比对差异_{timezone.localtime():%Y%m%d%H%M}.xlsx"
    job.status = Status.SUCCEEDED
    job.message = f"已导出{count}处差异（证件号码已脱敏）"
