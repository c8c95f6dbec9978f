from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fangpin.audit.context import acting_as

from .actions import purge


@db_periodic_task(crontab(minute="7"))
def purge_task() -> None:
    """Hourly: files with full numbers past their retention, import inputs and raw rosters."""
    with acting_as(None, source="job", request_id="purge"):
        purge()
