"""Import benchmark: fangpin's full import of the demo county's member file against a plain
pandas + openpyxl read-and-insert baseline, in the same run.

    .venv/bin/python bench/import.py [--people 250000] [--skip-baseline]

Each side runs in its own process, so the peak memory printed is that process's own (ru_maxrss).
fangpin's figure includes everything the product does: header detection, validation of every cell,
ID checks, encryption and keyed hashes, income computation, the audit log with its hash chain, and
one all-or-nothing transaction. The baseline only reads the sheet and inserts it as text.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def run_measured(args: list[str], env: dict[str, str]) -> tuple[dict, float]:
    """Run a child; return its JSON result and its peak RSS in MiB."""
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args} failed:\n{output}")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def child_fangpin(path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from fangpin.regions.actions import load_region_file
    from fangpin.registry.importer import import_register

    load_region_file(Path(path).parent / "行政区划.csv")
    started = time.perf_counter()
    result = import_register(path)
    elapsed = time.perf_counter() - started
    assert result.ok, result.problems[:5]
    print(json.dumps({"rows": result.rows, "seconds": elapsed}))


def child_baseline(path: str, database: str) -> None:
    import sqlite3

    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_excel(path, engine="openpyxl", header=2, dtype=str)
    with sqlite3.connect(database) as conn:
        frame.to_sql("members", conn, index=False, if_exists="replace", chunksize=5000)
    elapsed = time.perf_counter() - started
    print(json.dumps({"rows": len(frame), "seconds": elapsed}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=20241026)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        {"fangpin": child_fangpin, "baseline": child_baseline}[args.child[0]](*args.child[1:])
        return

    sys.path.insert(0, str(ROOT / "src"))
    data_dir = Path(tempfile.mkdtemp(prefix="fangpin-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"FANGPIN_DATA_DIR": str(data_dir)}
    files = OUT / f"demo-{args.people}-{args.seed}"
    member_file = next(files.glob("户成员信息_*.xlsx"), None) if files.exists() else None
    if member_file is None:
        print(f"building the demo county's files ({args.people:,} people) …", flush=True)
        code = (
            "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'fangpin.settings'); django.setup();"
            "from pathlib import Path; from fangpin.demo.generator import write_demo_files;"
            f"write_demo_files(Path({str(files)!r}), people={args.people}, seed={args.seed}, year=2025)"
        )
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        member_file = next(files.glob("户成员信息_*.xlsx"))
    size = member_file.stat().st_size / 1e6
    print(f"file: {member_file.name}, {size:.0f} MB")

    me = [sys.executable, __file__, "--child"]
    ours, ours_mem = run_measured([*me, "fangpin", str(member_file)], env)
    rate = ours["rows"] / ours["seconds"]
    print(
        f"fangpin import (validate, encrypt, audit, one transaction): {ours['rows']:,} rows in "
        f"{ours['seconds']:.1f} s = {rate:,.0f} rows/s, peak memory {ours_mem:,.0f} MiB"
    )
    if args.skip_baseline:
        return
    base, base_mem = run_measured(
        [*me, "baseline", str(member_file), str(data_dir / "baseline.sqlite3")], env
    )
    base_rate = base["rows"] / base["seconds"]
    print(
        f"baseline pandas.read_excel(openpyxl) + to_sql:          {base['rows']:,} rows in "
        f"{base['seconds']:.1f} s = {base_rate:,.0f} rows/s, peak memory {base_mem:,.0f} MiB"
    )
    print(
        f"ratio: fangpin is {rate / base_rate:.2f}× the baseline's speed, with "
        f"{ours_mem / base_mem:.2f}× its peak memory"
    )


if __name__ == "__main__":
    main()
