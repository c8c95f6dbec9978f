"""The one `fangpin` command: serve, worker, import, export, regions, users, audit, screen, income-policy,
roster, demo.

Anything else is handed to Django's management commands (`fangpin migrate`, `fangpin shell`, …).
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import sys
import time
from pathlib import Path

COMMANDS = {
    "serve",
    "web",
    "worker",
    "run-job",
    "import",
    "export",
    "regions",
    "user",
    "audit",
    "demo",
    "screen",
    "income-policy",
    "roster",
    "backup",
    "restore",
    "keys",
    "purge",
    "help",
    "-h",
    "--help",
}


# commands that read or write encrypted numbers: they start only with the key that matches the data
KEYED_COMMANDS = {"serve", "web", "worker", "import", "screen", "keys", "run-job"}


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
    user = _user(args.user)
    job = queue_import_path(
        user=user,
        path=path,
        year=args.year,
        strict=args.strict,
        confirmed=args.yes,
        allow_moves=args.move_people,
        full_ids=args.full_ids,
    )
    job = run_with_progress(job.pk, f"导入 {path.name}（先校验、后写入，各计一遍）")
    _print_import(job)
    if job.status == "awaiting":
        if not sys.stdin.isatty():
            print("未导入：请查看以上数据疑点，确认后加 --yes 重新运行（或加 --strict 按旧规则拒收）。")
            return 1
        if input("确认按原值导入并在筛查中列为数据疑点？[y/N] ").strip().lower() not in {"y", "yes", "是"}:
            print("已取消，台账没有任何改动。")
            return 1
        job = queue_import_path(
            user=user, path=path, year=args.year, confirmed=True, allow_moves=args.move_people,
            full_ids=args.full_ids,
        )  # fmt: skip
        job = run_with_progress(job.pk, f"导入 {path.name}（先校验、后写入，各计一遍）")
        _print_import(job)
    return 0 if job.status == "succeeded" else 1


def _print_import(job) -> None:  # type: ignore[no-untyped-def]
    print(job.message)
    if job.summary.get("publish_seconds"):
        print(
            f"  读取与校验 {job.summary['check_seconds']} 秒（不占用数据库写锁），写入 {job.summary['publish_seconds']} 秒"
        )
    for fault in job.summary.get("faults", []):
        print(f"  {fault['label']}：{fault['count']}处（导入后由规则 {fault['rule']} 列出）")
    for problem in job.problems[:50]:
        print(f"  第{problem['row']}行「{problem['column']}」列：{problem['message']}")
    if len(job.problems) > 50:
        print(f"  ……共{len(job.problems)}条，见下方文件")
    if job.result_path:
        print(f"{job.result_name}：{job.result_path}")


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
    if full:  # listed with its owner and deleted when it expires, like the web's full exports
        from fangpin.retention.actions import register_file
        from fangpin.retention.models import Kind

        register_file(owner=user, kind=Kind.REGISTER_EXPORT, path=args.output, name=Path(args.output).name)
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
    if args.action in {"disable", "enable", "reset-password"}:
        return _user_change(args)
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


def _user_change(args: argparse.Namespace) -> int:
    """The server operator's changes to any account, the separated administrators' too (三员分立:
    the system administrator's pages cannot touch those)."""
    from fangpin.accounts import actions
    from fangpin.audit.context import acting_as

    target = _user(args.username)
    if target is None:
        sys.exit("请用 --username 指定用户")
    with acting_as(None, source="cli"):
        if args.action == "reset-password":
            password = actions.reset_password(actor=None, user=target)
            print(f"已重置 {target.username} 的密码，一次性密码（只显示这一次，登录后须修改）：{password}")
        else:
            actions.set_active(actor=None, user=target, active=args.action == "enable", reason=args.reason)
            print(f"已{'启用' if args.action == 'enable' else '停用'}账号 {target.username}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from fangpin.audit.actions import verify
    from fangpin.audit.anchors import AnchorRefused, write_anchor
    from fangpin.audit.keys import AuditKeyError, start_keyed_chain

    try:
        if args.action == "anchor":
            path = write_anchor()
            print(f"已写审计锚点：{path}（请另行保存一份，例如交审计管理员留存）")
            return 0
        if args.action == "init-key":
            print(f"已生成审计密钥文件：{start_keyed_chain()}（请立即备份到本机以外的安全位置）")
            return 0
    except (AnchorRefused, AuditKeyError) as exc:
        print(f"fangpin：{exc}", file=sys.stderr)
        return 1
    result = verify(extra_anchors=args.anchor or ())
    if result.ok:
        print(f"审计日志完整：已校验 {result.checked:,} 条记录、{result.anchors} 个锚点，哈希链无断裂。")
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
    from fangpin.jobs.actions import WorkerSupervisor
    from fangpin.web import server

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)  # so that `finally` stops the worker: SIGTERM would otherwise orphan it

    signal.signal(signal.SIGTERM, stop)
    options = server.WebOptions(
        args.host, args.port, args.processes or server.default_processes(), args.threads
    )
    worker = None
    if not args.no_worker:  # reaped, its jobs marked and restarted when it dies; stopped with serve
        worker = WorkerSupervisor([sys.executable, "-m", "fangpin", "worker"])
        worker.start()
    print(f"fangpin 已启动：http://{args.host}:{args.port}/  （{options.processes} 个网页进程，Ctrl+C 停止）",
          flush=True)  # fmt: skip
    try:
        return server.serve(options)
    finally:
        if worker is not None:
            worker.stop()


def cmd_web(args: argparse.Namespace) -> int:
    """Internal: the web processes (gunicorn), started by `fangpin serve`."""
    from fangpin.web import server

    server.run_gunicorn(server.WebOptions(args.host, args.port, args.processes, args.threads))
    return 0


def cmd_run_job(args: argparse.Namespace) -> int:
    """Internal: one job in this process, started and watched by the worker (jobs.actions.run_job_in_child)."""
    from fangpin.jobs.actions import die_with_parent, run_job

    die_with_parent(args.parent)
    run_job(args.job_id)
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
    from fangpin.rules.catalogue import rule_by_id
    from fangpin.rules.models import SUSPECT_LABEL, ScreeningRun

    run = ScreeningRun.objects.get(pk=job.summary["run"])
    fired = [(rule_id, count) for rule_id, count in run.rule_counts.items() if count]
    for rule_id, count in sorted(fired, key=lambda item: -item[1]):
        rule = rule_by_id(rule_id)
        health = run.health(rule) if rule else None
        share = health.share_text if health else "—"
        mark = f"  {SUSPECT_LABEL}（超过{health.threshold_text}）" if health and health.suspect else ""
        print(f"  {rule_id:<45} {count:>7,} {share:>6}{mark}")
    if fired:
        print(
            "  （占比：发现数占被检查人数/户数的比例；部门预警规则读取部门名册，比例仍按台账的人数/户数计算）"
        )
    return 0


def _refusal(exc: Exception) -> int:
    """A refused action (permission, validation) as the CLI reports it: its Chinese messages, exit 1."""
    from django.core.exceptions import ValidationError

    messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    for message in messages:
        print(message, file=sys.stderr)
    return 1


def cmd_income_policy(args: argparse.Namespace) -> int:
    from django.core.exceptions import PermissionDenied, ValidationError

    from fangpin.audit.context import acting_as
    from fangpin.registry import income_policy

    if args.action == "list":
        for row in income_policy.years():
            policy = row.policy
            state = "已核实" if policy.line_confirmed else "待核实"
            switches = "，".join(f"{name}：{value}" for name, value in row.switches)
            print(
                f"{policy.year}年  监测范围 {row.line:>7} 元/人·年  {state}  依据：{policy.line_source or '（未填写）'}"
            )
            print(f"        {switches}；适用的收入记录 {row.incomes:,} 条")
        return 0
    user = _user(args.user)
    values = {
        "monitoring_line": args.line, "line_confirmed": args.confirmed, "awards_treatment": args.awards,
        "special_subsidy_treatment": args.special_subsidy, "claims_counted": args.claims, "divisor": args.divisor,
        "tolerance": args.tolerance,
    }  # fmt: skip
    try:
        with acting_as(user, source="cli"):
            change = income_policy.save_policy(user=user, year=args.year, source=args.source, **values)
    except (PermissionDenied, ValidationError) as exc:
        return _refusal(exc)
    print(change.summary())
    return 0


def cmd_roster(args: argparse.Namespace) -> int:
    from fangpin.feeds.kinds import KINDS

    if args.action == "kinds":
        for kind in KINDS.values():
            columns = "、".join(f.name + ("*" if f.required else "") for f in kind.fields)
            print(
                f"{kind.code:<15} {kind.department} · {kind.label}（{'按户' if kind.household_level else '按人'}）"
            )
            print(f"{'':<15} 列：{columns}")
        print("（* 为必需的列）")
        return 0
    if args.action == "sources":
        return _roster_sources(args)
    return _roster_import(args)


def _roster_sources(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from fangpin.feeds.kinds import KINDS
    from fangpin.feeds.models import MappingProfile

    profiles = MappingProfile.objects.select_related("updated_by")
    if args.kind:
        profiles = profiles.filter(kind=args.kind)
    if not profiles:
        print("还没有保存的列对应：第一次请在网页上传名册（部门名册 → 上传名册）并确认列对应。")
        return 0
    for profile in profiles:
        kind = KINDS.get(profile.kind)
        names = {f.key: f.name for f in kind.fields} if kind else {}
        who = profile.updated_by.username if profile.updated_by else "—"
        print(f"{profile.kind:<15} {profile.get_kind_display()}  来源：{profile.source}"
              f"  （{who}，{timezone.localtime(profile.updated_at):%Y-%m-%d %H:%M}）")  # fmt: skip
        print(f"{'':<15} " + "；".join(f"{names.get(k, k)} ← 「{v}」" for k, v in profile.mapping.items()))
    return 0


def _roster_import(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.exceptions import PermissionDenied, ValidationError

    from fangpin.audit.context import acting_as
    from fangpin.feeds.actions import import_file
    from fangpin.feeds.models import Roster

    path = Path(args.file)
    if not path.is_file():
        print(f"文件不存在：{path}", file=sys.stderr)
        return 2
    user = _user(args.user)
    try:
        with acting_as(user, source="cli"):
            job = import_file(user=user, kind=args.kind, source=args.source, period=args.period,
                              hashed_ids=args.hashed_ids, path=path, work_dir=Path(settings.MEDIA_ROOT) / "rosters")  # fmt: skip
    except (PermissionDenied, ValidationError) as exc:
        return _refusal(exc)
    roster = Roster.objects.get(pk=job.params["roster"])
    print(f"名册 #{roster.pk}：{roster.get_kind_display()}，来源「{roster.source}」，期间 {roster.period}，"
          f"按已保存的列对应导入", file=sys.stderr)  # fmt: skip
    job = run_with_progress(job.pk, f"导入名册 {path.name}")
    print(job.message)
    for problem in job.problems[:50]:
        print(f"  第{problem['row']}行「{problem['column']}」列：{problem['message']}")
    if job.result_path:
        print(f"错误说明：{job.result_path}")
    return 0 if job.status == "succeeded" else 1


def _passphrase(*, confirm: bool) -> str | None:
    """FANGPIN_BACKUP_PASSPHRASE, else asked on the terminal (twice when a new archive is written)."""
    from django.conf import settings

    passphrase = os.environ.get("FANGPIN_BACKUP_PASSPHRASE", "")
    if not passphrase:
        if not sys.stdin.isatty():
            print(
                "请用环境变量 FANGPIN_BACKUP_PASSPHRASE 给出备份口令，或在终端上运行以输入口令。",
                file=sys.stderr,
            )
            return None
        passphrase = getpass.getpass("备份口令：")
        if confirm and getpass.getpass("再次输入备份口令：") != passphrase:
            print("两次输入的口令不一致，未备份。", file=sys.stderr)
            return None
    if confirm and len(passphrase) < settings.FANGPIN_BACKUP_PASSPHRASE_MIN_LENGTH:
        print(f"备份口令至少 {settings.FANGPIN_BACKUP_PASSPHRASE_MIN_LENGTH} 个字符。", file=sys.stderr)
        return None
    return passphrase


def cmd_backup(args: argparse.Namespace) -> int:
    from fangpin.common.archive import ArchiveError
    from fangpin.common.backup import backup

    if (passphrase := _passphrase(confirm=True)) is None:
        return 2
    try:
        summary = backup(Path(args.output), passphrase=passphrase, with_keys=args.with_keys)
    except (ArchiveError, OSError) as exc:
        print(f"备份失败：{exc}", file=sys.stderr)
        return 1
    rows = sum(summary.tables.values())
    print(f"已备份到 {summary.path}（{summary.size / 1024 / 1024:,.1f} MB，已加密）："
          f"数据库 {len(summary.tables)} 张表共 {rows:,} 行，数据目录文件 {summary.files:,} 个。")  # fmt: skip
    if summary.with_keys:
        print("备份中含密钥文件：这份备份与口令必须分开保管，拿到两者的人能读出全部证件号码。")
    else:
        print("备份中不含密钥文件：请另行保管密钥备份（fangpin backup --with-keys 或复制密钥文件），"
              "没有密钥，备份中的证件号码和电话号码无法解密。")  # fmt: skip
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from fangpin.common.archive import ArchiveError
    from fangpin.common.backup import RestoreRefused, restore

    archive = Path(args.archive)
    if not archive.is_file():
        print(f"文件不存在：{archive}", file=sys.stderr)
        return 2
    if (passphrase := _passphrase(confirm=False)) is None:
        return 2
    try:
        summary = restore(archive, passphrase=passphrase)
    except (ArchiveError, RestoreRefused) as exc:
        print(f"未恢复：{exc}", file=sys.stderr)
        return 1
    rows = sum(summary.tables.values())
    tables = len(summary.tables)
    files = summary.files
    print(f"已恢复：数据库 {tables} 张表共 {rows:,} 行（与备份清单一致），数据目录文件 {files:,} 个。")
    if not summary.with_keys:
        where = "、".join(str(path) for path in summary.key_files)
        print(f"备份中没有密钥文件：请从密钥备份中把密钥文件放回原处（{where}），否则平台不会启动。")
    print("建议接着运行 fangpin audit verify 校验审计日志；如程序版本比备份新，先运行 fangpin migrate。")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from fangpin.audit.context import acting_as
    from fangpin.common.crypto import KeyFileError
    from fangpin.common.keys import key_status, retire_key, rotate_keys

    try:
        if args.action == "rotate":
            with acting_as(_user(args.user), source="cli"):
                rotation = rotate_keys()
            change = f"{rotation.old_key_id} → {rotation.new_key_id}"
            print(f"已轮换数据加密密钥：{change}，重新加密 {rotation.values:,} 个号码。")
            print("查找用的哈希密钥未变（部门名册和审计日志中的哈希仍然有效）。请立即重新备份密钥文件。")
            return 0
        if args.action == "retire":
            with acting_as(_user(args.user), source="cli"):
                retire_key(args.key_id)
            print(f"已停用密钥 {args.key_id}，并已从密钥文件中删除。请重新备份密钥文件。")
            return 0
        status = key_status()
    except KeyFileError as exc:
        print(f"未完成：{exc}", file=sys.stderr)
        return 1
    for key_id in status.key_ids:
        mark = "（当前）" if key_id == status.current else ""
        made = status.created.get(key_id)
        created = f"，生成于 {made[:4]}年{int(made[5:7])}月{int(made[8:10])}日" if made else ""
        print(f"密钥 {key_id}{mark}{created}：加密 {status.uses(key_id):,} 个号码")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from fangpin.audit.context import acting_as
    from fangpin.retention.actions import purge

    with acting_as(None, source="cli"):
        print(purge())
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
    s.add_argument("--processes", type=int, default=0, help="网页进程数（默认：每个CPU核一个）")
    s.add_argument("--threads", type=int, default=4, help="每个网页进程的线程数")
    s.add_argument("--no-worker", action="store_true", help="不启动后台任务进程")
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("web", help="（内部）网页服务进程，由 serve 启动")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--processes", type=int, required=True)
    s.add_argument("--threads", type=int, required=True)
    s.set_defaults(func=cmd_web)
    s = sub.add_parser("worker", help="运行后台任务（导入、导出）")
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(func=cmd_worker)
    s = sub.add_parser("run-job", help="（内部）在单独的进程中运行一个后台任务，由后台任务进程启动")
    s.add_argument("job_id", type=int)
    s.add_argument("--parent", type=int, required=True)
    s.set_defaults(func=cmd_run_job)
    s = sub.add_parser("import", help="导入户成员信息或监测对象信息文件")
    s.add_argument("file")
    s.add_argument("--year", type=int, help="收入年度（默认从文件标题识别）")
    s.add_argument("--user", help="以该用户身份导入（记入审计日志）")
    s.add_argument("--strict", action="store_true", help="严格模式：有任何数据疑点（如校验位错误）即整体拒收")
    s.add_argument("--yes", action="store_true", help="发现数据疑点时不再询问，按原值导入")
    s.add_argument(
        "--full-ids", action="store_true", help="错误说明保留完整证件号码（列入含敏感信息的文件，到期删除）"
    )
    s.add_argument(
        "--move-people",
        action="store_true",
        help="确认人员迁移：已登记在其他户的人迁入文件中的户（否则只列为重复人员）",
    )
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
    s = sub.add_parser("user", help="创建、停用、启用用户，重置密码；`fangpin user roles` 列出角色")
    s.add_argument("action", choices=["create", "disable", "enable", "reset-password", "roles"])
    s.add_argument("--username")
    s.add_argument("--role")
    s.add_argument("--region", default="", help="12位区划代码")
    s.add_argument("--name", default="")
    s.add_argument("--department", default="")
    s.add_argument("--password", help="不建议在命令行给出；可用环境变量 FANGPIN_NEW_PASSWORD 或交互输入")
    s.add_argument("--reason", default="", help="停用原因（记入审计日志）")
    s.set_defaults(func=cmd_user)
    s = sub.add_parser("audit", help="审计日志：verify 校验，anchor 写锚点，init-key 为旧日志生成审计密钥")
    s.add_argument("action", choices=["verify", "anchor", "init-key"])
    s.add_argument("--anchor", action="append", help="另行保存的锚点文件，一并核对（可多次给出）")
    s.set_defaults(func=cmd_audit)
    s = sub.add_parser("screen", help="运行规则目录（数据质量、收入监测）")
    s.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    s.add_argument("--as-of", help="筛查基准日 YYYY-MM-DD（默认今天）")
    s.add_argument("--user", help="以该用户身份运行（记入审计日志）")
    s.set_defaults(func=cmd_screen)
    s = sub.add_parser("income-policy", help="收入参数：各年度的防止返贫监测范围和收入计算口径")
    actions = s.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="列出本省各年度的收入参数").set_defaults(func=cmd_income_policy)
    s = actions.add_parser("set", help="录入新年度或更正某年度的收入参数（须写明依据）")
    s.add_argument("--year", type=int, required=True, help="年度")
    s.add_argument("--line", help="防止返贫监测范围（元/人·年）；录入新年度时必填")
    s.add_argument("--source", required=True, help="依据（文件名称、文号）")
    confirmed = s.add_mutually_exclusive_group()
    confirmed.add_argument("--confirmed", dest="confirmed", action="store_const", const=True,
                           help="已对照省级正式文件核实")  # fmt: skip
    confirmed.add_argument("--unconfirmed", dest="confirmed", action="store_const", const=False,
                           help="标为待核实（新年度的默认）")  # fmt: skip
    treatments = ["income", "offset_expense", "exclude"]
    s.add_argument(
        "--awards", choices=treatments, help="产业奖励、就业奖励：计入收入/冲减生产经营性支出/不计入"
    )
    s.add_argument("--special-subsidy", choices=treatments, help="专项用于减少生产经营性支出的补贴（同上）")
    claims = s.add_mutually_exclusive_group()
    claims.add_argument(
        "--claims", dest="claims", action="store_const", const=True, help="理赔收入计入转移性收入"
    )
    claims.add_argument(
        "--no-claims", dest="claims", action="store_const", const=False, help="理赔收入不计入"
    )
    s.add_argument("--divisor", choices=["annual", "current"], help="人均的分母：年度/当前家庭人口数")
    s.add_argument("--tolerance", help="与导入值的容差（元/人）")
    s.add_argument("--user", help="以该用户身份修改（县级管理员；记入审计日志，缺省为操作系统账号）")
    s.set_defaults(func=cmd_income_policy)
    s = sub.add_parser(
        "roster", help="部门名册：按已保存的列对应导入；`kinds` 列出类型，`sources` 列出已保存的来源"
    )
    actions = s.add_subparsers(dest="action", required=True)
    actions.add_parser("kinds", help="列出名册类型及其列").set_defaults(func=cmd_roster)
    s = actions.add_parser("sources", help="列出已保存列对应的数据来源")
    s.add_argument("--kind", help="只列此类型")
    s.set_defaults(func=cmd_roster)
    s = actions.add_parser("import", help="按该来源已保存的列对应导入名册文件")
    s.add_argument("file")
    s.add_argument("--kind", required=True, help="名册类型（见 fangpin roster kinds）")
    s.add_argument("--source", required=True, help="数据来源，与网页上传时填写的一致")
    s.add_argument("--period", required=True, help="数据期间（年月），如 202510")
    s.add_argument("--hashed-ids", action="store_true", help="证件号码已按约定哈希（64位）")
    s.add_argument("--user", help="以该用户身份导入（记入审计日志，缺省为操作系统账号）")
    s.set_defaults(func=cmd_roster)
    s = sub.add_parser(
        "purge", help="立即删除到期的含完整证件号码文件、导入文件和部门名册原文件（后台每小时也会执行）"
    )
    s.set_defaults(func=cmd_purge)
    s = sub.add_parser("demo", help="生成并导入示范县（绛县 140826）")
    s.add_argument("--people", type=int, default=250_000, help="人口数（默认 250000）")
    s.add_argument("--seed", type=int, default=20241026)
    s.add_argument("--out", default="", help="生成文件的目录（默认 数据目录/demo）")
    s.add_argument("--force", action="store_true", help="台账已有数据时仍重新导入")
    s.set_defaults(func=cmd_demo)
    s = sub.add_parser(
        "backup", help="把数据库和数据目录备份为一个加密文件（口令取自 FANGPIN_BACKUP_PASSPHRASE 或终端输入）"
    )
    s.add_argument("output", help="备份文件")
    s.add_argument("--with-keys", action="store_true", help="同时备份密钥文件（这份备份须与口令分开保管）")
    s.set_defaults(func=cmd_backup)
    s = sub.add_parser("restore", help="从备份文件恢复到空的数据目录（PostgreSQL：空的数据库）")
    s.add_argument("archive", help="备份文件")
    s.set_defaults(func=cmd_restore)
    s = sub.add_parser(
        "keys",
        help="数据加密密钥：status 查看，rotate 轮换（查找用的哈希密钥不轮换，以免部门名册和审计日志中的哈希失效）",
    )
    actions = s.add_subparsers(dest="action", required=True)
    actions.add_parser("status", help="各密钥及其加密的号码数").set_defaults(func=cmd_keys)
    r = actions.add_parser("rotate", help="生成新密钥并用它重新加密全部号码（一次完成，记入审计日志）")
    r.add_argument("--user", help="以该用户身份操作（记入审计日志，缺省为操作系统账号）")
    r.set_defaults(func=cmd_keys)
    r = actions.add_parser("retire", help="停用一个已没有号码使用的旧密钥")
    r.add_argument("key_id")
    r.add_argument("--user", help="以该用户身份操作（记入审计日志，缺省为操作系统账号）")
    r.set_defaults(func=cmd_keys)
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
    if args.command in KEYED_COMMANDS:
        from fangpin.common.crypto import require_keys

        require_keys()  # a missing or wrong key stops here, before the command reads or writes anything
    from fangpin.audit.keys import AuditKeyError

    try:
        sys.exit(args.func(args))
    except AuditKeyError as exc:  # the audit key is checked at the first entry a command writes
        print(f"fangpin：{exc}", file=sys.stderr)
        sys.exit(3)
