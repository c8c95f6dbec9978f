"""Running the real `fangpin` command in a subprocess against its own data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def fangpin_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["FANGPIN_DATA_DIR"] = str(data_dir)
    return env


def fangpin(data_dir: Path, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "fangpin", *args], env=fangpin_env(data_dir), capture_output=True, text=True,
        timeout=600, **kwargs,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"fangpin {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def prepared(data_dir: Path, tmp_path: Path) -> Path:
    """A migrated SQLite database file with the test region table loaded."""
    from tests import builders

    fangpin(data_dir, "migrate", "--no-input", "-v0")
    fangpin(data_dir, "regions", "load", str(builders.write_region_csv(tmp_path / "regions.csv")))
    return data_dir / "fangpin.sqlite3"
