from huey.contrib.djhuey import HUEY, db_task

from .actions import run_job, run_job_in_child


@db_task()
def run_job_task(job_id: int) -> None:
    # immediate mode (tests, FANGPIN_JOBS_IMMEDIATE) runs the job here; a real worker runs each job in
    # its own process, under the memory ceiling, so a job that dies takes nothing else with it
    if HUEY.immediate:
        run_job(job_id)
    else:
        run_job_in_child(job_id)
