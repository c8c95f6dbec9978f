"""Typed settings helpers: read the environment once, fail loudly on bad values."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def running_tests() -> bool:
    return "PYTEST_VERSION" in os.environ  # set by pytest ≥ 8.2 for the whole session


def data_dir() -> Path:
    """Where the SQLite database, uploads, job files and (by default) the keys live.

    Under pytest, an unset FANGPIN_DATA_DIR means a fresh temporary directory, so a test run never
    touches a developer's data or keys."""
    raw = env_str("FANGPIN_DATA_DIR")
    if not raw and running_tests():
        raw = os.environ["FANGPIN_DATA_DIR"] = tempfile.mkdtemp(prefix="fangpin-test-")
    path = Path(raw or "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
