"""`fangpin backup` and `fangpin restore`: one encrypted, checksummed archive of a county's platform.

The archive (common/archive.py) holds a tar stream of
  database/fangpin.sqlite3  a consistent copy made with SQLite's online backup API, or
  database/fangpin.pgdump   `pg_dump -Fc` in the same snapshot as the row counts;
  data/<path>               the data directory's files (uploads, job results, audit anchors), not the
                            live database, the job queue, static files or temporary work;
  keys/<name>               the key file (and what sits beside it), only with --with-keys;
  manifest.json             last: version, time, database vendor, row counts, sha256 of every member.
Restore reads the whole archive once to check it (authentication, every checksum, the manifest) before
it writes anything, then a second time to write, into an empty data directory (and an empty database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .archive import DAMAGED, ArchiveError, DecryptingReader, EncryptingWriter

MANIFEST = "manifest.json"
PIECE = 1024 * 1024
# files under the data directory that a backup leaves out, and why
SKIPPED_TOP = {
    "static",  # collected static files: rebuilt from the code
    "screening",  # snapshots of a screening run: rebuilt by the next run
    "cache",  # matplotlib's font cache: rebuilt on first use
    "secret_key",  # session signing key: a restored platform makes a new one (everyone logs in again)
    "tmp",
    "temp",
}
# present in a data directory that fangpin has only started in: restore still counts it as empty
FRESH_ENTRIES = {"static", "cache", "secret_key", "jobs.sqlite3", "jobs.sqlite3-wal", "jobs.sqlite3-shm"}


def _write_private(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _vendor() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _app_version() -> str:
    try:
        return version("fangpin")
    except PackageNotFoundError:
        return ""


class _Hashing:
    """Wraps a readable file: what passes through is hashed on the way into the tar."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.sha = fh, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.sha.update(data)
        return data


# -- backup ---------------------------------------------------------------------------------------------


@dataclass
class BackupSummary:
    path: Path
    vendor: str
    tables: dict[str, int]
    files: int
    with_keys: bool
    size: int = 0


def _sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"]).resolve()


def _live_files() -> set[Path]:
    """The database and the job queue as files: copied through their own APIs, or not at all."""
    live = set()
    for base in (
        _sqlite_path(),
        Path(settings.DATA_DIR) / "jobs.sqlite3",
        Path(settings.DATA_DIR) / "test.sqlite3",
    ):
        for suffix in ("", "-wal", "-shm", "-journal"):
            live.add(base.with_name(base.name + suffix).resolve())
    return live


# the key files a `--with-keys` backup carries, by the setting that says where each one lives; the
# archive names them by setting, so restore puts each where this installation expects it
KEY_SETTINGS = ("FANGPIN_KEY_FILE", "FANGPIN_AUDIT_KEY_FILE")


def key_files() -> dict[str, Path]:
    """Setting name → configured path of each key file (the field keys; the audit chain and anchor keys)."""
    return {name: Path(getattr(settings, name)) for name in KEY_SETTINGS if getattr(settings, name, "")}


def data_files(skip: set[Path]) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every data-directory file a backup keeps."""
    root = Path(settings.DATA_DIR).resolve()
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and not (here == root and d in SKIPPED_TOP)
        )  # fmt: skip
        for name in sorted(names):
            path = here / name
            if (here == root and name in SKIPPED_TOP) or name.startswith(".") or name.endswith(".tmp"):
                continue
            if path.resolve() in skip or path.is_symlink() or not path.is_file():
                continue
            yield "data/" + path.relative_to(root).as_posix(), path


def _count_sqlite(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )]  # fmt: skip
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def _count_current() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
        return counts


def _pg_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD"),
                     ("PGDATABASE", "NAME")):  # fmt: skip
        if db.get(key):
            env[var] = str(db[key])
    return env


@contextmanager
def _database_copy(work: Path) -> Iterator[tuple[str, Path, dict[str, int]]]:
    """(member name, file, row counts) of a consistent copy of the live database."""
    if _vendor() == "sqlite":
        target = work / "fangpin.sqlite3"
        source = sqlite3.connect(
            _sqlite_path(), timeout=settings.DATABASES["default"]["OPTIONS"].get("timeout", 60)
        )
        try:
            with sqlite3.connect(target) as copy:
                source.backup(copy)  # one step: a read transaction, which WAL lets run beside writers
        finally:
            source.close()
        os.chmod(target, 0o600)
        yield "database/fangpin.sqlite3", target, _count_sqlite(target)
        return
    target = work / "fangpin.pgdump"
    connection.ensure_connection()
    with transaction.atomic(), connection.cursor() as cursor:
        # the dump and the counts read the same snapshot, so the manifest describes exactly the dump
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        result = subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", "-f", str(target)],
            env=_pg_env(), capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise ArchiveError("数据库导出（pg_dump）失败：" + result.stderr.strip()[-300:])
        counts = _count_current()
    os.chmod(target, 0o600)
    yield "database/fangpin.pgdump", target, counts


def backup(out: Path, *, passphrase: str, with_keys: bool) -> BackupSummary:
    """Write the archive to `out` (0600), atomically: a half-written archive never carries the final name."""
    out = out.resolve()
    partial = out.with_name(f".{out.name}.partial")
    members: dict[str, dict[str, Any]] = {}
    root = Path(settings.DATA_DIR).resolve()
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=root) as tmp, _database_copy(Path(tmp)) as copy:
        db_member, db_file, tables = copy
        with _write_private(partial) as raw:
            writer = EncryptingWriter(raw, passphrase, chunk=settings.FANGPIN_BACKUP_CHUNK_KIB * 1024,
                                      log2n=settings.FANGPIN_BACKUP_SCRYPT_LOG2)  # fmt: skip
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                entries = [(db_member, db_file)]
                keys = {name: path for name, path in key_files().items() if path.is_file()}
                never = {p.resolve() for p in keys.values()} | {out, partial}  # keys only with --with-keys
                entries += list(data_files(_live_files() | never))
                if with_keys:
                    entries += [("keys/" + name, path) for name, path in keys.items()]
                for name, path in entries:
                    _add(tar, name, path, members)
                manifest = {
                    "format": 1, "version": _app_version(), "created_at": timezone.now().isoformat(),
                    "database": _vendor(), "tables": tables, "with_keys": with_keys, "members": members,
                }  # fmt: skip
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            writer.close()
            raw.flush()
            os.fsync(raw.fileno())
    os.replace(partial, out)
    files = sum(1 for name in members if name.startswith("data/"))
    return BackupSummary(out, _vendor(), tables, files, with_keys, out.stat().st_size)


def _add(tar: tarfile.TarFile, name: str, path: Path, members: dict[str, dict[str, Any]]) -> None:
    info = tar.gettarinfo(str(path), arcname=name)
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    with path.open("rb") as fh:
        hashing = _Hashing(fh)
        tar.addfile(info, hashing)
    members[name] = {"sha256": hashing.sha.hexdigest(), "size": info.size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(dt.datetime.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


# -- restore --------------------------------------------------------------------------------------------


@dataclass
class Checked:
    """What a full read of the archive found: the manifest, proven against every member."""

    manifest: dict[str, Any]
    names: list[str] = field(default_factory=list)

    @property
    def with_keys(self) -> bool:
        return any(n.startswith("keys/") for n in self.names)

    @property
    def database_member(self) -> str:
        return next(n for n in self.names if n.startswith("database/"))


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    if name == MANIFEST:
        return True
    return (
        len(parts) >= 2 and parts[0] in {"database", "data", "keys"} and all(p not in {"", ".", ".."} for p in parts)
        and (parts[0] != "keys" or len(parts) == 2)
    )  # fmt: skip


def _read_archive(path: Path, passphrase: str, sink=None) -> Checked:  # type: ignore[no-untyped-def]
    """One pass over the archive. Each member is hashed and, when `sink` is given, handed to it piece by
    piece; any fault raises ArchiveError. The manifest must come last and name exactly what came before."""
    seen: dict[str, dict[str, Any]] = {}
    manifest: dict[str, Any] | None = None
    with path.open("rb") as raw:
        reader = DecryptingReader(raw, passphrase, max_log2n=settings.FANGPIN_BACKUP_SCRYPT_MAX_LOG2)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    if manifest is not None or not member.isfile() or not _safe_name(member.name):
                        raise ArchiveError(DAMAGED)
                    fh = tar.extractfile(member)
                    assert fh is not None
                    sha, size = hashlib.sha256(), 0
                    if member.name == MANIFEST:
                        data = fh.read()
                        manifest = json.loads(data)
                        continue
                    with sink(member.name) if sink else _nowhere() as out:
                        while piece := fh.read(PIECE):
                            sha.update(piece)
                            size += len(piece)
                            out.write(piece)
                    seen[member.name] = {"sha256": sha.hexdigest(), "size": size}
        except (tarfile.TarError, ValueError, KeyError, EOFError) as exc:
            raise ArchiveError(DAMAGED) from exc
        reader.drain()
    if (
        manifest is None
        or manifest.get("members") != seen
        or not any(n.startswith("database/") for n in seen)
    ):
        raise ArchiveError(DAMAGED)
    return Checked(manifest, list(seen))


class _Null:
    def write(self, data: bytes) -> int:
        return len(data)


@contextmanager
def _nowhere() -> Iterator[_Null]:
    yield _Null()


@dataclass
class RestoreSummary:
    manifest: dict[str, Any]
    tables: dict[str, int]
    files: int
    with_keys: bool
    key_files: list[Path]


class RestoreRefused(Exception):
    """Restore will not start: the message says why, in Chinese."""


def _occupied() -> list[str]:
    root = Path(settings.DATA_DIR)
    found = sorted(p.name for p in root.iterdir() if p.name not in FRESH_ENTRIES)
    static = root / "static"
    if static.is_dir() and any(static.iterdir()):
        found.append("static")
    sqlite_path = _sqlite_path()
    if _vendor() == "sqlite" and sqlite_path.exists() and sqlite_path.parent != root.resolve():
        found.append(str(sqlite_path))
    return found


def _precheck() -> None:
    if occupied := _occupied():
        shown = "、".join(occupied[:8]) + ("等" if len(occupied) > 8 else "")
        raise RestoreRefused(
            f"数据目录 {settings.DATA_DIR} 不是空的（其中有：{shown}）。\n"
            "恢复只写入空的数据目录，以免覆盖现有数据：请新建一个空目录，用 FANGPIN_DATA_DIR 指向它后再恢复。"
        )
    if _vendor() == "postgresql":
        try:
            tables = connection.introspection.table_names()
        except Exception as exc:
            raise RestoreRefused(f"无法连接 DATABASE_URL 指定的数据库：{exc}") from None
        if tables:
            raise RestoreRefused(
                f"DATABASE_URL 指定的数据库不是空的（已有 {len(tables)} 张表）。"
                "恢复只写入新建的空数据库：请新建一个数据库后再恢复。"
            )


def restore(archive: Path, *, passphrase: str) -> RestoreSummary:
    _precheck()
    checked = _read_archive(archive, passphrase)  # nothing is written until the whole archive checks out
    vendor = checked.manifest.get("database")
    if vendor != _vendor():
        names = {"sqlite": "SQLite（内置数据库）", "postgresql": "PostgreSQL"}
        raise RestoreRefused(
            f"这份备份来自 {names.get(vendor, '未知')} 数据库，而当前配置的是 {names[_vendor()]}："
            "请按备份时的数据库类型配置（PostgreSQL 用 DATABASE_URL 指向一个新建的空数据库）后再恢复。"
        )
    targets = key_files()
    for name in checked.names:
        setting = name.removeprefix("keys/")
        if name.startswith("keys/") and (setting not in targets or targets[setting].exists()):
            where = targets.get(setting, "")
            raise RestoreRefused(
                f"密钥文件 {where} 已存在：恢复不会覆盖它。请移走该文件，或用不带密钥的备份恢复。"
            )
    root = Path(settings.DATA_DIR).resolve()
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=root))
    try:
        _read_archive(archive, passphrase, sink=lambda name: _write_private(staging / name))
        _publish(staging, checked, targets)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    tables = _count_sqlite(_sqlite_path()) if _vendor() == "sqlite" else _count_current()
    if tables != checked.manifest["tables"]:
        raise ArchiveError("恢复后的数据库行数与备份清单不符，请勿使用该数据目录，并联系技术支持。")
    files = sum(1 for n in checked.names if n.startswith("data/"))
    return RestoreSummary(checked.manifest, tables, files, checked.with_keys, list(targets.values()))


def _publish(staging: Path, checked: Checked, targets: dict[str, Path]) -> None:
    root = Path(settings.DATA_DIR).resolve()
    dump = staging / checked.database_member
    if _vendor() == "sqlite":
        target = _sqlite_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(dump, target)
    else:
        result = subprocess.run(
            ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
             "-d", settings.DATABASES["default"]["NAME"], str(dump)],
            env=_pg_env(), capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise ArchiveError(
                "数据库恢复（pg_restore）失败，数据库没有改动：" + result.stderr.strip()[-300:]
            )
    data = staging / "data"
    if data.is_dir():
        for path in sorted(p for p in data.rglob("*") if p.is_file()):
            target = root / path.relative_to(data)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(path, target)
    keys = staging / "keys"
    if keys.is_dir():
        for path in sorted(keys.iterdir()):
            target = targets[path.name]
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(path, target)
