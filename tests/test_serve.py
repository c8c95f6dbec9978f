"""`fangpin serve`: several web processes (gunicorn) beside the job worker, or one (waitress).

Real processes on a free loopback port: the pages are served by more than one process, a web process
that dies is replaced while the others keep serving, and SIGTERM stops everything serve started.
"""

from __future__ import annotations

import signal
import urllib.request

import psutil
import pytest

from tests.cli_helpers import prepared
from tests.test_worker import free_port, gone, start, stop, wait_for

pytestmark = pytest.mark.slow


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/login/", timeout=5) as response:
            return response.status == 200 and "登录" in response.read().decode()
    except OSError:
        return False


def web_processes(serve: psutil.Process) -> list[psutil.Process]:
    """gunicorn's workers: the children of serve's `fangpin web` child."""
    (master,) = [p for p in serve.children() if "web" in p.cmdline()]
    return master.children()


def test_serve_runs_a_web_process_per_core_replaces_a_dead_one_and_stops_them_all(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = start(data, tmp_path, "serve", "--port", str(port), "--processes", "2")
    try:
        wait_for(lambda: answers(url), "the pages to be served", process=serve)
        started = psutil.Process(serve.pid)
        first, second = web_processes(started)
        everything = [p.pid for p in started.children(recursive=True)]
        first.kill()
        wait_for(lambda: len(web_processes(started)) == 2 and first not in web_processes(started),
                 "gunicorn to replace the dead web process", process=serve)  # fmt: skip
        assert second in web_processes(started)  # the other one served on
        assert answers(url)
        assert "2 个网页进程" in (tmp_path / "serve.out").read_text()
        everything += [p.pid for p in started.children(recursive=True)]
    finally:
        stop(serve, signal.SIGTERM)
    assert serve.returncode == 0
    assert all(gone(pid) for pid in everything)  # worker, gunicorn master and its processes
    assert not answers(url)


def test_one_process_is_served_by_waitress_in_serve_itself(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = start(data, tmp_path, "serve", "--port", str(port), "--processes", "1", "--no-worker")
    try:
        wait_for(lambda: answers(url), "the pages to be served", process=serve)
        assert psutil.Process(serve.pid).children() == []  # no gunicorn, no worker
    finally:
        stop(serve, signal.SIGTERM)
    assert serve.returncode == 0
    assert not answers(url)
