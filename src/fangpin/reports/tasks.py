from huey.contrib.djhuey import db_task

from .actions import refresh_quietly


@db_task()
def refresh_task() -> None:
    """The summary tables' refresh, in the worker (inline when jobs run immediately)."""
    refresh_quietly()
