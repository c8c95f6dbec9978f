"""Load benchmark: 50 users of mixed roles browsing the demo county at once (locust, headless, loopback
only, bounded in time), beside the same pages fetched one at a time in the same run.

    .venv/bin/python bench/load.py --data-dir var            # a data directory built by `fangpin demo`
    .venv/bin/python bench/load.py --people 20000            # builds a demo county in a temporary directory
    .venv/bin/python bench/load.py --data-dir var --during-import

It starts `fangpin serve --no-worker` on a free loopback port with that data directory, logs in one
user per role (the demo's logins), fetches every page one at a time (the baseline: what one user sees on
an idle server), then runs the users for `--seconds` and prints requests/s and p50/p95/p99 per page and
the ratio of the p95 to the baseline. With `--during-import` the load runs twice: once idle, once while
the demo's own register file is imported again (`fangpin import … --yes`, idempotent: the register does not
change) and is publishing, in its one write transaction (after it has read and checked every row; the
import is stopped after the load, which writes nothing), and prints the p99 ratio between
the two: what a county feels when somebody imports during office hours.

The figures depend on the machine (2 shared cores here): read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import locust  # before requests: locust patches the standard library for gevent when imported
import locust.env
import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Demo@2026fp"
# (username, weight): most of a county's users are village and township cadres
ROLES = [("cun_demo", 5), ("bangfu_demo", 3), ("zhen_gujiang", 3), ("xian_staff", 2), ("dudao", 1)]
PAGES = {
    "首页": "/",
    "农户列表": "/registry/households/",
    "农户详情": "/registry/households/{household}/",
    "筛查发现": "/rules/findings/",
    "线索库": "/cases/inbox/",
    "认定与消除": "/cases/",
    "帮扶对象": "/cases/monitored/",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_django(data_dir: str) -> None:
    os.environ["FANGPIN_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def households_in_scope(sample: int = 200) -> dict[str, list[int]]:
    """A sample of the households each demo user may open (the same scoping the pages apply)."""
    from fangpin.accounts.models import User
    from fangpin.registry.models import Household

    chosen = {}
    for username, _ in ROLES:
        user = User.objects.get(username=username)
        pks = list(Household.objects.for_user(user).values_list("pk", flat=True)[:5000])
        chosen[username] = random.Random(username).sample(pks, min(sample, len(pks)))
    return chosen


def login(session: requests.Session, base: str, username: str) -> None:
    page = session.get(f"{base}/login/")
    token = session.cookies.get("csrftoken") or ""
    response = session.post(
        f"{base}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise SystemExit(f"login of {username} failed ({response.status_code}); {page.status_code}")


@dataclass
class Baseline:
    times: dict[str, list[float]] = field(default_factory=dict)

    def p(self, page: str, q: float) -> float:
        values = sorted(self.times[page])
        return values[min(len(values) - 1, int(q * len(values)))]


def baseline(base: str, scope: dict[str, list[int]], rounds: int) -> Baseline:
    """Every page, every role, one request at a time."""
    result = Baseline({page: [] for page in PAGES})
    for username, _ in ROLES:
        session = requests.Session()
        login(session, base, username)
        for i in range(rounds):
            for page, path in PAGES.items():
                url = base + path.format(household=scope[username][i % len(scope[username])])
                started = time.perf_counter()
                response = session.get(url)
                result.times[page].append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{username} {url}: HTTP {response.status_code}")
    return result


LOGGED_IN: list[str] = []  # filled by the users as they finish logging in


def make_user_class(base: str, scope: dict[str, list[int]]) -> type[locust.HttpUser]:
    counter = iter(range(10**9))
    weighted = [name for name, weight in ROLES for _ in range(weight)]

    class CountyUser(locust.HttpUser):
        host = base
        wait_time = locust.between(0.5, 2.0)  # a person reads a page before the next click

        def on_start(self) -> None:
            self.username = weighted[next(counter) % len(weighted)]
            self.client.get("/login/", name="登录")
            token = self.client.cookies.get("csrftoken") or ""
            self.client.post(
                "/login/",
                data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
                headers={"Referer": f"{base}/login/"},
                name="登录",
            )
            LOGGED_IN.append(self.username)

        def open(self, page: str) -> None:
            household = random.choice(scope[self.username])
            self.client.get(PAGES[page].format(household=household), name=page)

        @locust.task(3)
        def home(self) -> None:
            self.open("首页")

        @locust.task(3)
        def household_list(self) -> None:
            self.open("农户列表")

        @locust.task(4)
        def household(self) -> None:
            self.open("农户详情")

        @locust.task(2)
        def findings(self) -> None:
            self.open("筛查发现")

        @locust.task(1)
        def inbox(self) -> None:
            self.open("线索库")

        @locust.task(1)
        def cases(self) -> None:
            self.open("认定与消除")

        @locust.task(1)
        def monitored(self) -> None:
            self.open("帮扶对象")

    return CountyUser


@dataclass
class LoadResult:
    seconds: float
    rows: dict[str, dict[str, float]]
    failures: int
    errors: list[str] = field(default_factory=list)


def run_load(base: str, scope: dict[str, list[int]], users: int, seconds: int) -> LoadResult:
    env = locust.env.Environment(user_classes=[make_user_class(base, scope)], events=locust.events)
    runner = env.create_local_runner()
    LOGGED_IN.clear()
    runner.start(users, spawn_rate=max(1, users // 5))
    deadline = time.monotonic() + 600
    while len(LOGGED_IN) < users and time.monotonic() < deadline:  # logins (Argon2) are not measured
        gevent.sleep(0.5)
    gevent.sleep(5)  # and the first page of each
    env.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - started
    rows = {}
    for page in PAGES:
        entry = env.stats.get(page, "GET")
        rows[page] = {
            "n": entry.num_requests,
            "rps": entry.num_requests / elapsed,
            "p50": entry.get_response_time_percentile(0.5) / 1000,
            "p95": entry.get_response_time_percentile(0.95) / 1000,
            "p99": entry.get_response_time_percentile(0.99) / 1000,
        }
    failures = env.stats.total.num_failures
    errors = [f"{e.occurrences}× {e.name}: {e.error}" for e in env.stats.errors.values()]
    runner.quit()
    return LoadResult(elapsed, rows, failures, errors)


def print_load(title: str, result: LoadResult, base: Baseline) -> None:
    total = sum(r["n"] for r in result.rows.values())
    print(
        f"\n{title}: {total / result.seconds:.1f} requests/s over {result.seconds:.0f} s, failures {result.failures}"
    )
    for error in result.errors[:5]:  # what failed, so a failure is read, not just counted
        print(f"  !! {error}")
    print(
        f"{'page':<8} {'req/s':>6} {'p50':>7} {'p95':>7} {'p99':>7} | {'alone p50':>9} {'alone p95':>9} | p95 ÷ alone"
    )
    for page, row in result.rows.items():
        alone50, alone95 = base.p(page, 0.5), base.p(page, 0.95)
        print(
            f"{page:<8} {row['rps']:6.1f} {row['p50']:7.3f} {row['p95']:7.3f} {row['p99']:7.3f} | "
            f"{alone50:9.3f} {alone95:9.3f} | {row['p95'] / alone95 if alone95 else 0:5.1f}×"
        )


class ImportProgress:
    """The percentage a running `fangpin import` prints on stderr, read by a thread."""

    PERCENT = re.compile(r"（(\d+)%）")

    def __init__(self, process: subprocess.Popen) -> None:
        self.percent, self.last_line = 0, ""
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self.last_line = line.strip()
            if match := self.PERCENT.search(line):
                self.percent = int(match.group(1))

    def wait_until(self, percent: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.percent < percent and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.5)
        return self.percent >= percent


def start_server(data_dir: str, port: int, processes: int) -> subprocess.Popen:
    env = os.environ | {"FANGPIN_DATA_DIR": data_dir, "FANGPIN_LOG_LEVEL": "ERROR"}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "fangpin", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
         "--processes", str(processes), "--threads", "4"],
        env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(120):
        try:
            requests.get(f"http://127.0.0.1:{port}/login/", timeout=2)
            return server
        except requests.ConnectionError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", help="a data directory built by `fangpin demo` (else one is built)")
    parser.add_argument("--people", type=int, default=20000, help="demo size when no --data-dir is given")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=6, help="baseline fetches per page and role")
    parser.add_argument("--during-import", action="store_true", help="measure again while an import runs")
    parser.add_argument(
        "--processes", type=int, default=0, help="web processes of `fangpin serve` (0: per core)"
    )
    args = parser.parse_args()

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="fangpin-bench-load-")
    if not args.data_dir:
        env = os.environ | {"FANGPIN_DATA_DIR": data_dir}
        env.pop("DATABASE_URL", None)
        for command in (["migrate", "--no-input", "-v0"], ["demo", "--people", str(args.people)]):
            subprocess.run(
                [sys.executable, "-m", "fangpin", *command], env=env, check=True, capture_output=True
            )
    setup_django(str(Path(data_dir).resolve()))
    scope = households_in_scope()
    from fangpin.registry.models import Household, Member

    print(
        f"demo county: {Household.objects.count():,} households, {Member.objects.count():,} people ({data_dir})"
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(data_dir, port, args.processes)
    try:
        alone = baseline(base, scope, args.rounds)
        idle = run_load(base, scope, args.users, args.seconds)
        print_load(f"{args.users} users, no import", idle, alone)
        if args.during_import:
            export = next(Path(data_dir).glob("demo/户成员信息_*.xlsx"))
            env = os.environ | {"FANGPIN_DATA_DIR": data_dir}
            importer = subprocess.Popen(
                [sys.executable, "-m", "fangpin", "import", str(export), "--yes"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            progress = ImportProgress(importer)
            # the import reads and checks every row first (no write lock), then publishes in one
            # transaction (the second half of its progress): the load runs while it publishes
            if not progress.wait_until(51, timeout=3600):
                raise SystemExit("the import ended before it published: " + progress.last_line)
            started_at = progress.percent
            busy = run_load(base, scope, args.users, args.seconds)
            ended_at, still_running = progress.percent, importer.poll() is None
            if still_running:  # all-or-nothing: stopped, it writes nothing
                importer.terminate()
            importer.wait()
            print_load(
                f"{args.users} users while an import publishes ({started_at}% → {ended_at}%)", busy, alone
            )
            if not still_running:
                print("!! the import finished before the load did: use a larger county or fewer --seconds")
            print("\np99 during the import ÷ p99 without:")
            for page in PAGES:
                before, during = idle.rows[page]["p99"], busy.rows[page]["p99"]
                print(
                    f"  {page:<8} {before:6.3f} → {during:6.3f} s  ({during / before if before else 0:.1f}×)"
                )
            ratios = [busy.rows[p]["p99"] / idle.rows[p]["p99"] for p in PAGES if idle.rows[p]["p99"]]
            print(f"  median over pages {statistics.median(ratios):.1f}×, worst {max(ratios):.1f}×")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
