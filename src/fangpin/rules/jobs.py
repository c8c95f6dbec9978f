"""Job handlers of the rule engine: a screening run, an export of findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from fangpin.jobs.actions import handles
from fangpin.jobs.models import Job, Kind, Status

from .actions import run_screening
from .catalogue import rule_by_id
from .exporter import export_findings
from .models import SUSPECT_LABEL, RuleHealth, suspect_share

MESSAGE_LIMIT = Job._meta.get_field("message").max_length or 1000


@handles(Kind.SCREENING)
def run(job: Job, progress: Callable[[int, int | None], None]) -> None:
    as_of = dt.date.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else None
    screening = run_screening(as_of=as_of, engine=job.params.get("engine", "duckdb"), progress=progress)
    found = sum(screening.rule_counts.values())
    ran = [rule for rule in map(rule_by_id, screening.rule_counts) if rule is not None]
    suspects = screening.suspects(ran)
    job.summary = {
        "run": screening.pk,
        "people": screening.people,
        "households": screening.households,
        "found": found,
        "seconds": screening.seconds,
        "suspect_share": suspect_share(),
        "suspects": [
            {"rule": h.rule_id, "found": h.found, "read": h.read, "unit": h.unit, "share": h.share}
            for h in suspects
        ],
    }
    job.status = Status.SUCCEEDED
    message = (
        f"筛查完成：{len(screening.rule_counts)}条规则，{screening.people}人、{screening.households}户，"
        f"发现{found}条，用时{screening.seconds}秒"
    )
    job.message = message + suspects_sentence(suspects, limit=MESSAGE_LIMIT - len(message))


def suspects_sentence(suspects: list[RuleHealth], *, limit: int = MESSAGE_LIMIT) -> str:
    """The sentence the job adds: "；2条规则疑似规则或数据问题（命中超过被检查人数/户数的1%）：A（3.2%）、B（1.5%）",
    the list cut ("…等N条") to fit the job's message."""
    if not suspects:
        return ""
    threshold = suspects[0].threshold_text
    head = f"；{len(suspects)}条规则{SUSPECT_LABEL}（命中超过被检查人数/户数的{threshold}）："
    named = [f"{health.rule_id}（{health.share_text}）" for health in suspects]

    def text(count: int) -> str:
        more = f"等{len(named)}条" if count < len(named) else ""
        return head + "、".join(named[:count]) + more

    shown = len(named)
    while shown > 1 and len(text(shown)) > limit:
        shown -= 1
    return text(shown)[:limit]


@handles(Kind.EXPORT_FINDINGS)
def export(job: Job, progress: Callable[[int, int | None], None]) -> None:
    target = job.work_dir / "findings.xlsx"
    count = export_findings(target, user=job.user, params=job.params, progress=progress)
    job.result_path, job.result_name = str(target), f"筛查发现_{timezone.localtime():%Y%m%d%H%M}.xlsx"
    job.status = Status.SUCCEEDED
    job.message = f"已导出{count}条筛查发现"
