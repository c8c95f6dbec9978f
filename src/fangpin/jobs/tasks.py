from huey.contrib.djhuey import db_task

from .actions import run_job


@db_task()
def run_job_task(job_id: int) -> None:
    run_job(job_id)
