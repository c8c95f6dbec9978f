"""The web server behind `fangpin serve`: several processes on a county's Linux server, one elsewhere.

Django renders pages in Python, and Python runs one thread at a time per process: one process uses one
core however many threads it has. gunicorn (pre-fork, restarts a worker that dies) runs one process per
core, each with a few threads for requests that wait on the database. `fangpin serve` starts it as a
child process beside the job worker, because gunicorn's master reaps every child it is signalled
about, the job worker included, which would blind the worker's supervisor. Where gunicorn cannot run
(Windows: no fork) or one process is asked for, waitress serves in the `serve` process itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from django.conf import settings

from fangpin.common import processes


@dataclass(frozen=True)
class WebOptions:
    host: str
    port: int
    processes: int
    threads: int

    def arguments(self) -> list[str]:
        return ["--host", self.host, "--port", str(self.port),
                "--processes", str(self.processes), "--threads", str(self.threads)]  # fmt: skip


def default_processes() -> int:
    """One process per core (FANGPIN_WEB_PROCESSES overrides), one where fork is missing."""
    if not hasattr(os, "fork"):
        return 1
    return settings.FANGPIN_WEB_PROCESSES or len(os.sched_getaffinity(0))


def serve_here(options: WebOptions) -> None:
    """One process: waitress in this process, until SIGTERM or Ctrl+C."""
    from waitress import serve

    from fangpin.wsgi import application

    serve(application, host=options.host, port=options.port, threads=options.threads, ident="fangpin")


def serve(options: WebOptions) -> int:
    """Serve until SIGTERM or Ctrl+C (SystemExit or KeyboardInterrupt raised in this process); the exit
    status of `fangpin serve` when the web server stops by itself."""
    if options.processes == 1:
        serve_here(options)
        return 0
    # several processes: `fangpin web` (gunicorn) as a child of `serve`
    web = subprocess.Popen([sys.executable, "-m", "fangpin", "web", *options.arguments()])
    try:
        returncode = web.wait()
        print(f"fangpin：网页服务已退出（退出码 {returncode}）", file=sys.stderr, flush=True)
        return 1
    finally:  # SIGTERM: gunicorn lets the requests in flight finish (up to its graceful timeout)
        processes.stop(web, timeout=settings.FANGPIN_WEB_GRACEFUL_SECONDS + 5)


def run_gunicorn(options: WebOptions) -> None:
    """The gunicorn master with the Django application loaded once and forked into each process."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from fangpin.wsgi import application

    config = {
        "bind": f"{options.host}:{options.port}",
        "workers": options.processes,
        "worker_class": "gthread",
        "threads": options.threads,
        "preload_app": True,
        # the master's own connection (the key check at start) must not be shared by forked processes
        "pre_fork": lambda server, worker: connections.close_all(),
        "timeout": settings.FANGPIN_WEB_TIMEOUT_SECONDS,  # a worker silent for this long is restarted
        "graceful_timeout": settings.FANGPIN_WEB_GRACEFUL_SECONDS,
        # a browser (and a client library) reuses its connection between clicks; gunicorn's 2 s
        # default closed it under the next request now and then ("connection reset by peer")
        "keepalive": 75,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "fangpin-web",
    }

    class FangpinWeb(BaseApplication):
        def load_config(self) -> None:
            for key, value in config.items():
                self.cfg.set(key, value)

        def load(self):  # type: ignore[no-untyped-def]
            return application

    FangpinWeb().run()
