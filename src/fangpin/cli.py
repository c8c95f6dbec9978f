"""The one `fangpin` command: serve, worker, import, export, regions, users, audit, demo.

Anything else is handed to Django's management commands (`fangpin migrate`, `fangpin shell`, …).
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "serve",
    "worker",
    "import",
    "export",
    "regions",
    "user",
    "audit",
    "demo",
    "screen",
    "help",
    "-h",
    "--help",
}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
    import django

    django.setup()


class TerminalProgress:
    """`\r`-updated progress line on stderr; one line per update when stderr is not a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else 5) and total is None:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-6)
        share = f" / {total:,}（{100 * done / total:.0f}%）" if total else ""
        line = f"{self.label}：已处理 {done:,}{share}，{rate:,.0f} 行/秒"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def run_with_progress(job_id: int, label: str):  # type: ignore[no-untyped-def]
    """Run a job in this process, its progress on the terminal: the CLI's and the demo's way."""
    from fangpin.jobs.actions import run_job

    progress = TerminalProgress(label)
    try:
        return run_job(job_id, on_progress=progress)
    finally:
        progress.close()


def _user(username: str | None):  # type: ignore[no-untyped-def]
    from fangpin.accounts.models import User

    if not username:
        return None
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        sys.exit(f"用户 {username} 不存在")


def cmd_import(args: argparse.Namespace) -> int:
    from fangpin.registry.actions import queue_import_path

    path = Path(args.file)
    if not path.exists():
        print(f"文件不存在：{path}", file=sys.stderr)
        return 2
    job = queue_import_path(user=_user(args.user), path=path, year=args.year)
    job = run_with_progress(job.pk, f"导入 {path.name}")
    print(job.message)
    for problem in job.problems[:50]:
        print(f"  第{problem['row']}行「{problem['column']}」列：{problem['message']}")
    if job.result_path:
        print(f"错误说明：{job.result_path}")
    return 0 if job.status == "succeeded" else 1


def cmd_export(args: argparse.Namespace) -> int:
    from fangpin.audit.context import acting_as
    from fangpin.registry.exporter import export_register

    user = _user(args.user)
    if user is None:
        print("导出必须指定 --user（按该用户的管辖范围导出）", file=sys.stderr)
        return 2
    full = args.full and user.can("export_full_ids")
    if args.full and not full:
        print(f"{user.username} 不能导出完整证件号码，将导出脱敏数据", file=sys.stderr)
    progress = TerminalProgress("导出")
    with acting_as(user, source="cli"):
        people = export_register(
            args.output, user=user, layout=args.layout, year=args.year, full=full, progress=progress
        )
    progress.close()
    print(f"已导出 {people:,} 人到 {args.output}")
    return 0


def cmd_regions(args: argparse.Namespace) -> int:
    from fangpin.audit.context import acting_as
    from fangpin.regions.actions import RegionTableError, load_region_file

    try:
        with acting_as(None, source="cli"):
            result = load_region_file(args.file)
    except RegionTableError as exc:
        print(f"区划表未导入：{exc}", file=sys.stderr)
        return 1
    print(f"区划表已导入：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}")
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError

    from fangpin.accounts.actions import create_user
    from fangpin.accounts.roles import Role
    from fangpin.audit.context import acting_as

    if args.action == "roles":
        for role in Role:
            print(f"{role.value:16} {role.label}")
        return 0
    password = args.password or os.environ.get("FANGPIN_NEW_PASSWORD") or getpass.getpass("密码：")
    try:
        with acting_as(None, source="cli"):
            user = create_user(
                username=args.username,
                password=password,
                role=args.role,
                region_code=args.region,
                full_name=args.name,
                department=args.department,
            )
    except ValidationError as exc:
        print("未创建：" + "；".join(exc.messages), file=sys.stderr)
        return 1
    print(f"已创建用户 {user.username}（{user.role_label}，{user.region or '无区划'}）")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from fangpin.audit.actions import verify

    result = verify()
    if result.ok:
        print(f"审计日志完整：已校验 {result.checked:,} 条记录，哈希链无断裂。")
        return 0
    print(f"审计日志校验失败（已校验 {result.checked:,} 条）：", file=sys.stderr)
    for problem in result.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


def cmd_worker(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from fangpin.jobs.actions import recover_interrupted

    if count := recover_interrupted():
        print(f"已将 {count} 个中断的任务标记为“已中断”", file=sys.stderr)
    call_command("run_huey", workers=args.workers, worker_type="thread")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from waitress import serve

    from fangpin.wsgi import application

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)  # so that `finally` stops the worker: SIGTERM would otherwise orphan it

    signal.signal(signal.SIGTERM, stop)
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "fangpin", "worker"])
    print(f"fangpin 已启动：http://{args.host}:{args.port}/  （Ctrl+C 停止）", flush=True)
    try:
        serve(application, host=args.host, port=args.port, threads=args.threads, ident="fangpin")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    import datetime as dt

    from fangpin.jobs.actions import create_job
    from fangpin.jobs.models import Kind

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    job = create_job(kind=Kind.SCREENING, user=_user(args.user),
                     params={"as_of": as_of.isoformat() if as_of else "", "engine": args.engine})  # fmt: skip
    job = run_with_progress(job.pk, f"筛查（{args.engine}）")
    print(job.message)
    if job.status != "succeeded":
        return 1
    from fangpin.rules.models import ScreeningRun

    run = ScreeningRun.objects.get(pk=job.summary["run"])
    for rule_id, count in sorted(run.rule_counts.items(), key=lambda item: -item[1]):
        if count:
            print(f"  {rule_id:<45} {count:>7,}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from fangpin.demo.actions import build_demo

    return build_demo(people=args.people, seed=args.seed, out_dir=args.out, force=args.force)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fangpin", description="防止返贫致贫动态监测和帮扶平台")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="启动平台（网页 + 后台任务）")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--threads", type=int, default=8)
    s.add_argument("--no-worker", action="store_true", help="不启动后台任务进程")
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("worker", help="运行后台任务（导入、导出）")
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(func=cmd_worker)
    s = sub.add_parser("import", help="导入户成员信息或监测对象信息文件")
    s.add_argument("file")
    s.add_argument("--year", type=int, help="收入年度（默认从文件标题识别）")
    s.add_argument("--user", help="以该用户身份导入（记入审计日志）")
    s.set_defaults(func=cmd_import)
    s = sub.add_parser("export", help="按国家系统格式导出")
    s.add_argument("output")
    s.add_argument("--user", required=True)
    s.add_argument("--layout", choices=["member", "monitoring"], default="member")
    s.add_argument("--year", type=int)
    s.add_argument("--full", action="store_true", help="含完整证件号码（仅县级管理员）")
    s.set_defaults(func=cmd_export)
    s = sub.add_parser("regions", help="导入行政区划表（区划代码、名称两列）")
    s.add_argument("action", choices=["load"])
    s.add_argument("file")
    s.set_defaults(func=cmd_regions)
    s = sub.add_parser("user", help="创建用户；`fangpin user roles` 列出角色")
    s.add_argument("action", choices=["create", "roles"])
    s.add_argument("--username")
    s.add_argument("--role")
    s.add_argument("--region", default="", help="12位区划代码")
    s.add_argument("--name", default="")
    s.add_argument("--department", default="")
    s.add_argument("--password", help="不建议在命令行给出；可用环境变量 FANGPIN_NEW_PASSWORD 或交互输入")
    s.set_defaults(func=cmd_user)
    s = sub.add_parser("audit", help="校验审计日志哈希链")
    s.add_argument("action", choices=["verify"])
    s.set_defaults(func=cmd_audit)
    s = sub.add_parser("screen", help="运行规则目录（数据质量、收入监测）")
    s.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    s.add_argument("--as-of", help="筛查基准日 YYYY-MM-DD（默认今天）")
    s.add_argument("--user", help="以该用户身份运行（记入审计日志）")
    s.set_defaults(func=cmd_screen)
    s = sub.add_parser("demo", help="生成并导入示范县（绛县 140826）")
    s.add_argument("--people", type=int, default=250_000, help="人口数（默认 250000）")
    s.add_argument("--seed", type=int, default=20241026)
    s.add_argument("--out", default="", help="生成文件的目录（默认 数据目录/demo）")
    s.add_argument("--force", action="store_true", help="台账已有数据时仍重新导入")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(["fangpin", *argv])
        return
    args = parser().parse_args(argv)
    _setup()
    sys.exit(args.func(args))
