"""Stopping a child process: ask with a signal, wait, then kill."""

from __future__ import annotations

import signal
import subprocess


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, *, timeout: float) -> None:
    """Send `sig` (the child's graceful stop), wait up to `timeout` seconds, else kill it."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
