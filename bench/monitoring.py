"""Monitoring-page benchmark: the assistance-plan checks (§7.1/§7.3/§7.4) and the overdue-visit list for
every monitored household of the demo county, as the county's list page runs them (members, measures and
cases prefetched), against the plain per-household ORM reads a first version would do, in the same run.
Also times the §8 elimination criteria for every household still at risk.

    .venv/bin/python bench/monitoring.py [--people 50000]

The demo county is built and imported by `fangpin demo` in a temporary data directory first (that part
is not timed). Both ways must find the same problems; the script checks it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50000)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="fangpin-bench-monitoring-")
    env = os.environ | {"FANGPIN_DATA_DIR": data}
    env.pop("DATABASE_URL", None)
    started = time.monotonic()
    for command in (["migrate", "--no-input", "-v0"], ["demo", "--people", str(args.people)]):
        subprocess.run([sys.executable, "-m", "fangpin", *command], env=env, check=True, capture_output=True)
    print(f"demo county of {args.people:,} people built in {time.monotonic() - started:.0f} s ({data})")

    os.environ["FANGPIN_DATA_DIR"] = data
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangpin.monitoring import assistance, elimination
    from fangpin.registry.models import Household

    at_risk = Household.objects.exclude(monitoring_category="").exclude(risk_eliminated=True)
    monitored = Household.objects.exclude(monitoring_category="")

    def fangpin_way() -> dict[int, list[str]]:
        rows = at_risk.prefetch_related("members", "assistance", "cases")
        return {h.pk: [p.message for p in assistance.plan_problems(h)] for h in rows}

    def baseline() -> dict[int, list[str]]:
        return {pk: [p.message for p in assistance.plan_problems(Household.objects.get(pk=pk))]
                for pk in at_risk.values_list("pk", flat=True)}  # fmt: skip

    figures = {}
    for name, run in (("fangpin (prefetched)", fangpin_way), ("baseline (per-household reads)", baseline)):
        with CaptureQueriesContext(connection) as queries:
            t = time.perf_counter()
            result = run()
            figures[name] = (time.perf_counter() - t, len(queries), result)
    (fast, _, fast_result), (slow, _, slow_result) = figures.values()
    assert fast_result == slow_result, "the two ways disagree"
    problems = sum(1 for v in fast_result.values() if v)
    print(f"plan checks for {len(fast_result):,} households at risk ({problems:,} with problems):")
    for name, (seconds, queries, _) in figures.items():
        print(
            f"  {name:<32} {seconds:8.2f} s  {queries:7,} queries  {len(fast_result) / seconds:9,.0f} households/s"
        )
    print(f"  ratio baseline / fangpin: {slow / fast:.1f}×")

    t = time.perf_counter()
    overdue = assistance.overdue_visits(monitored)
    print(
        f"overdue visits over {monitored.count():,} monitored households: {len(overdue):,} in {time.perf_counter() - t:.2f} s"
    )
    t = time.perf_counter()
    met = sum(
        all(c.met for c in elimination.criteria(h)) for h in at_risk.prefetch_related("members", "assistance")
    )
    print(
        f"elimination criteria for {len(fast_result):,} households: {met:,} meet all, {time.perf_counter() - t:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
