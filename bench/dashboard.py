"""Dashboard benchmark: the server time of the 工作驾驶舱 page and of a cross-tab (乡镇 × 风险类型), read
from the summary tables, against computing the same figures from the base tables in the same run; then
the same at larger sizes, the facts multiplied (synthesised rows: each household copied N-1 times into
its own village), against a live aggregate over those facts.

    .venv/bin/python bench/dashboard.py --data /tmp/demo20k [--scales 1,10,40]
    .venv/bin/python bench/dashboard.py --people 20000      # builds a demo county first (not timed)

`--data` is copied to a temporary directory first; the original is never written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timed(func, repeat: int = 5) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Median seconds of `repeat` warm calls (after one call that may fill the stored counts)."""
    result = func()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", help="an existing data directory (copied, never written)")
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--scales", default="1,10")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="fangpin-bench-dashboard-")
    env = os.environ | {"FANGPIN_DATA_DIR": data}
    env.pop("DATABASE_URL", None)
    if args.data:
        shutil.copytree(args.data, data, dirs_exist_ok=True)
        subprocess.run([sys.executable, "-m", "fangpin", "migrate", "--no-input", "-v0"], env=env, check=True)
    else:
        for command in (["migrate", "--no-input", "-v0"], ["demo", "--people", str(args.people)]):
            subprocess.run(
                [sys.executable, "-m", "fangpin", *command], env=env, check=True, capture_output=True
            )
    os.environ["FANGPIN_DATA_DIR"] = data
    os.environ["FANGPIN_JOBS_IMMEDIATE"] = "1"
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
    import django

    django.setup()
    from django.db.models import Value
    from django.test import Client
    from django.utils import timezone

    from fangpin.accounts.models import User
    from fangpin.common.bulk import insert_rows
    from fangpin.monitoring.models import Case
    from fangpin.registry.models import Household
    from fangpin.reports import actions, figures
    from fangpin.reports.models import CountDay, DailyCount, HouseholdFact

    today = timezone.localdate()
    county_user = User.objects.filter(role="county_admin").first()
    client = Client(HTTP_HOST="localhost")
    client.force_login(county_user)
    region = county_user.region
    started = time.perf_counter()
    stats = actions.refresh_facts()
    print(f"first refresh: {stats['opened']:,} households in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    actions.refresh_facts(list(Household.objects.values_list("pk", flat=True)[:2000]))
    print(f"refresh of 2,000 unchanged households: {time.perf_counter() - started:.2f} s")

    def dashboard() -> int:
        response = client.get("/reports/")
        assert response.status_code == 200
        return len(response.content)

    def cross() -> int:
        response = client.get("/reports/crosstab/?rows=township&cols=risk")
        assert response.status_code == 200
        return len(response.content)

    def listing(query: str) -> int:
        response = client.get("/reports/households/?" + query)
        assert response.status_code == 200
        return len(response.content)

    def synthesise_cases(scale: int) -> None:
        """Two decided cases (an identification, an elimination) per monitored household and scale, on
        the real households (the foreign key): the rows the 超时未办结 query scans grow with the county,
        its figure must not (closed long ago, none is open at the end of today)."""
        monitored = list(
            HouseholdFact.objects.filter(valid_to__isnull=True).exclude(category="")
            .values_list("household_id", "region_code")
        )  # fmt: skip
        real = dict(Household.objects.values_list("pk", "region_code"))
        owner = Case.objects.values_list("opened_by_id", flat=True).first() or county_user.pk
        wanted = 2 * len(monitored) - Case.objects.filter(step="bench").count()
        opened = timezone.now() - timedelta(days=400)
        rows = []
        for i in range(max(wanted, 0)):
            household_id, region = monitored[i % len(monitored)]
            pk = household_id % 10**9
            rows.append({"household_id": pk, "region_code": real.get(pk, region), "step": "bench",
                         "kind": "identification" if i % 2 else "elimination", "status": "closed",
                         "opened_by_id": owner, "opened_at": opened, "step_started_at": opened,
                         "finished_at": opened + timedelta(days=30), "updated_at": opened, "source": "",
                         "proposed_category": "", "risk_types": "", "elimination_method": "",
                         "green_channel": False, "finding_id": None})  # fmt: skip
        insert_rows(Case, rows)

    def from_base_tables() -> tuple[int, int]:
        """What a live dashboard would do: every household's dimensions from the register, then count."""
        ids = list(Household.objects.order_by("pk").values_list("pk", flat=True))
        bits = actions.Bits()
        households = people = 0
        for start in range(0, len(ids), actions.CHUNK):
            chunk = ids[start : start + actions.CHUNK]
            for values in actions.compute_dimensions((chunk[0], chunk[-1]), today, bits).values():
                if values["category"]:
                    households += 1
                    people += values["people"]
        return households, people

    def stored_figures() -> tuple[int, int]:
        got = figures.overview(region, today)
        figures.children(region, today)
        return got.monitored["households"], got.monitored["people"]

    def from_facts() -> tuple[int, int]:
        """The same figures (overview, townships) aggregated live over the facts instead of the stored
        counts: the comparison at synthesised sizes, where there are no base tables behind the facts."""
        stored = figures.counts
        figures.counts = lambda r, d: (
            actions.facts_on(d).in_region(r).annotate(households=Value(1), overdue=actions._overdue(d))
        )
        try:
            return stored_figures()
        finally:
            figures.counts = stored

    current = 1
    for scale in [int(s) for s in args.scales.split(",")]:
        if scale > 1:  # synthesise: every current fact copied scale-1 times, with new household ids
            base = list(HouseholdFact.objects.filter(valid_to__isnull=True, household_id__lt=10**9).values())
            offset, rows = 10**9, []
            for copy in range(current, scale):
                for fact in base:
                    row = {k: v for k, v in fact.items() if k != "id"}
                    row["household_id"] = offset * copy + fact["household_id"]
                    rows.append(row)
            insert_rows(HouseholdFact, rows)
            current = scale
            CountDay.objects.filter(as_of=today).delete()
            DailyCount.objects.filter(as_of=today).delete()
        late_before = figures.over_limit(region, today)
        synthesise_cases(scale)
        assert figures.over_limit(region, today) == late_before, "closed cases changed 超时未办结"
        facts = HouseholdFact.objects.filter(valid_to__isnull=True)
        people = sum(facts.values_list("people", flat=True))
        started = time.perf_counter()
        actions.ensure_counts(today)
        store = time.perf_counter() - started
        page, _ = _timed(dashboard)
        table, _ = _timed(cross)
        read, _ = _timed(stored_figures)
        late, _ = _timed(lambda: figures.over_limit(region, today))
        late_list, _ = _timed(lambda: listing("metric=identification_late"))
        warnings_list, _ = _timed(lambda: listing(f"metric=warning_raised&start={today:%Y}-01-01"))
        summary = figures.overview(region, today).monitored
        if scale == 1:
            live, (households, monitored_people) = _timed(from_base_tables, repeat=1)
            label = "base tables"
        else:
            live, (households, monitored_people) = _timed(from_facts, repeat=1)
            label = "same figures live over the facts"
        assert (households, monitored_people) == (summary["households"], summary["people"]), "figures differ"
        print(
            f"×{scale}: {facts.count():,} households, {people:,} people, "
            f"{DailyCount.objects.filter(as_of=today).count():,} count rows (stored in {store:.2f} s) | "
            f"dashboard {page * 1000:.0f} ms, cross-tab {table * 1000:.0f} ms | "
            f"figures from stored counts {read * 1000:.0f} ms, {label} {live * 1000:.0f} ms "
            f"(×{live / read:.0f}) | {Case.objects.count():,} cases: 超时未办结 {late * 1000:.1f} ms, "
            f"its list {late_list * 1000:.0f} ms, the year's 预警推送 list {warnings_list * 1000:.0f} ms | "
            f"监测户 {summary['households']:,}户 {summary['people']:,}人"
        )
    shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
