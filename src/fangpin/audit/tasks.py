"""The worker's daily anchor (huey's Django integration imports every installed app's `tasks`)."""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .actions import flush_spool
from .anchors import AnchorRefused, write_anchor

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="0", hour=str(settings.FANGPIN_AUDIT_ANCHOR_HOUR)))
def daily_anchor() -> None:
    try:
        path = write_anchor()
    except AnchorRefused as exc:
        # no anchor for a log that does not verify; the missing day shows on the audit page
        log.error("%s", exc)
        return
    log.info("已写审计锚点 %s", path.name)


@db_periodic_task(crontab(minute="*"))
def flush_audit_spool() -> None:
    """Entries kept while an import held the chain (audit.spool) go on the chain within a minute."""
    if count := flush_spool():
        log.info("已将 %s 条暂存的审计记录写入审计日志", count)
