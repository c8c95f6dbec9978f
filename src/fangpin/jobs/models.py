"""Background jobs as rows: status, progress, message, summary and result file.

The queue library (huey) only carries the job id; everything a user or an operator needs to know
lives here, so a job survives a restart of the worker and is visible in the UI and the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    IMPORT_REGISTER = "import_register", "导入台账"
    EXPORT_REGISTER = "export_register", "导出台账"
    SCREENING = "screening", "筛查"
    IMPORT_ROSTER = "import_roster", "导入部门名册"
    EXPORT_FINDINGS = "export_findings", "导出筛查发现"
    READ_HEADER = "read_header", "检查表头"  # an uploaded roster or inspection list, read in the worker
    IMPORT_LIST = "import_list", "导入问题清单"  # rectification: an inspectors' list, with its mapping
    PRINT_DOSSIERS = "print_dossiers", "批量打印一户一档"  # dossiers: a village's or township's, one job
    RECONCILE = "reconcile", "账账比对"  # reconciliation: a national export compared with the register
    EXPORT_DIFFERENCES = "export_differences", "导出比对差异"
    IMPORT_SOCIAL_AID = "import_social_aid", "导入民政低收入人口名单"  # socialaid: 民政's low-income list


class Status(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    SUCCEEDED = "succeeded", "已完成"
    REJECTED = "rejected", "未通过校验"
    AWAITING = "awaiting", "待确认"  # checked and rolled back: the user reads what was found, then confirms
    FAILED = "failed", "出错"
    INTERRUPTED = "interrupted", "已中断"


FINISHED = {Status.SUCCEEDED, Status.REJECTED, Status.FAILED, Status.INTERRUPTED, Status.AWAITING}


class JobQuerySet(models.QuerySet):
    def for_user(self, user: Any) -> JobQuerySet:
        """A user sees the jobs they started; nobody else's uploads or exports."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user=user)


class Job(models.Model):
    """One import or export run."""

    kind = models.CharField("类型", max_length=32, choices=Kind.choices)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.QUEUED)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, verbose_name="发起人"
    )
    params = models.JSONField("参数", default=dict, blank=True)
    input_path = models.CharField("输入文件", max_length=500, blank=True)
    input_name = models.CharField("原文件名", max_length=255, blank=True)
    result_path = models.CharField("结果文件", max_length=500, blank=True)
    result_name = models.CharField("结果文件名", max_length=255, blank=True)
    message = models.CharField("说明", max_length=1000, blank=True)
    summary = models.JSONField("结果", default=dict, blank=True)
    problems = models.JSONField("问题（前200条）", default=list, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "后台任务"
        indexes = [models.Index(fields=["user", "-created_at"], name="job_user_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def work_dir(self) -> Path:
        path = Path(settings.MEDIA_ROOT) / "jobs" / str(self.pk)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def progress_file(self) -> Path:
        return self.work_dir / "progress.json"

    def progress(self) -> dict[str, Any]:
        """Progress is a file, not a column: during an import the database's write lock belongs
        to the import's single transaction, and progress must still be readable and writable."""
        try:
            return json.loads(self.progress_file.read_text())
        except (OSError, ValueError):
            return {"done": 0, "total": None}

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        if self.status == Status.SUCCEEDED:
            return 100
        data = self.progress()
        if data.get("total"):
            return min(100, int(100 * data["done"] / data["total"]))
        return None
