"""`fangpin backup` and `fangpin restore` on real files and real processes: the round trip gives back the
same register (counts, audit chain, a decrypted ID, the attachments), and a damaged, cut or wrongly
unlocked archive is refused before anything is written."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import pytest

from tests import builders
from tests.cli_helpers import drop_postgres, fangpin, prepared, scratch_postgres

PASSPHRASE = "县里的备份口令 2026"
PHOTO = b"\xff\xd8\xff\xe0 a photo of the house \xff\xd9"
FRESH = {"static", "secret_key", "jobs.sqlite3", "jobs.sqlite3-wal", "jobs.sqlite3-shm"}
ZHANG = builders.pid(11)


def backup_env(mp: pytest.MonkeyPatch) -> None:
    mp.setenv("FANGPIN_BACKUP_PASSPHRASE", PASSPHRASE)
    mp.setenv("FANGPIN_BACKUP_SCRYPT_LOG2", "15")  # cheaper for tests; restore reads it from the archive
    mp.setenv("FANGPIN_BACKUP_CHUNK_KIB", "64")  # several chunks even for a small register


@pytest.fixture(autouse=True)
def passphrase(monkeypatch):
    backup_env(monkeypatch)


def sqlite_counts(db) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%'")]  # fmt: skip
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def postgres_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def zhang_id(data, url: str = "") -> str:
    code = (
        "from fangpin.registry.models import Member; from fangpin.common.crypto import cipher; "
        "print(cipher().decrypt(Member.objects.get(name='张建国').id_number_enc, 'id'))"
    )
    return fangpin(data, "shell", "-v", "0", "-c", code, database_url=url).stdout.strip()


def build_register(data, tmp_path, url: str = "") -> None:
    """The standard households, a screening run and an attachment under the data directory's files."""
    prepared(data, tmp_path, url)
    fangpin(
        data,
        "import",
        str(builders.write_csv(tmp_path / "r.csv", builders.standard_rows())),
        database_url=url,
    )
    fangpin(data, "screen", database_url=url)
    photo = data / "files" / "monitoring" / "1" / "入户照片.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(PHOTO)


def left_empty(data) -> bool:
    return not data.exists() or {p.name for p in data.iterdir()} <= FRESH


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """One register (SQLite) and its two archives, with and without the key file."""
    tmp = tmp_path_factory.mktemp("backup")
    with pytest.MonkeyPatch.context() as mp:
        backup_env(mp)
        data = tmp / "data"
        build_register(data, tmp)
        with_keys, without = tmp / "with-keys.fpbak", tmp / "data-only.fpbak"
        made = fangpin(data, "backup", str(with_keys), "--with-keys")
        assert "已备份到" in made.stdout and "含密钥文件" in made.stdout
        assert "不含密钥文件" in fangpin(data, "backup", str(without)).stdout
    return data, with_keys, without


def test_a_county_restores_its_backup_into_a_new_data_directory(archives, tmp_path):
    source, with_keys, _ = archives
    assert oct(with_keys.stat().st_mode & 0o777) == "0o600"
    blob = with_keys.read_bytes()
    assert ZHANG.encode() not in blob and b"SQLite format" not in blob and "张建国".encode() not in blob
    target = tmp_path / "restored"
    restored = fangpin(target, "restore", str(with_keys))
    assert "已恢复" in restored.stdout and "与备份清单一致" in restored.stdout
    assert sqlite_counts(target / "fangpin.sqlite3") == sqlite_counts(source / "fangpin.sqlite3")
    assert sqlite_counts(target / "fangpin.sqlite3")["registry_member"] == 5
    assert "哈希链无断裂" in fangpin(target, "audit", "verify").stdout
    assert zhang_id(target) == ZHANG
    photo = target / "files" / "monitoring" / "1" / "入户照片.jpg"
    assert photo.read_bytes() == PHOTO and oct(photo.stat().st_mode & 0o777) == "0o600"
    for key_file in (source / "keys").iterdir():  # the field keys and the audit keys
        restored_key = target / "keys" / key_file.name
        assert restored_key.read_bytes() == key_file.read_bytes()
        assert oct(restored_key.stat().st_mode & 0o777) == "0o600"
    # what a backup leaves out: the job queue, static files, screening snapshots
    assert not (target / "screening").exists() or not any((target / "screening").iterdir())


def test_without_the_key_file_the_restored_platform_stops_until_the_key_is_put_back(archives, tmp_path):
    source, _, without = archives
    target = tmp_path / "restored"
    restored = fangpin(target, "restore", str(without))
    key_file = target / "keys" / "fangpin-keys.json"
    assert "备份中没有密钥文件" in restored.stdout and str(key_file) in restored.stdout
    stopped = fangpin(target, "screen", check=False)
    assert stopped.returncode != 0 and "找不到数据加密密钥文件" in stopped.stderr
    assert not key_file.exists()
    shutil.copytree(source / "keys", target / "keys", dirs_exist_ok=True)  # from the separate key backup
    assert fangpin(target, "screen").returncode == 0
    assert zhang_id(target) == ZHANG


def damaged_copies(archive, tmp_path) -> dict[str, object]:
    data = archive.read_bytes()
    header_end = 16 + 4 + int.from_bytes(data[16:20], "big")
    sealed_chunk = 64 * 1024 + 16
    assert len(data) > header_end + 3 * sealed_chunk  # the archive spans several chunks
    flipped = bytearray(data)
    flipped[header_end + sealed_chunk + 1000] ^= 0x01
    copies = {
        "一个字节被改动": bytes(flipped),
        "在块中间截断": data[: len(data) // 2],
        "恰在块边界截断": data[: header_end + 2 * sealed_chunk],
        "末尾多出数据": data + b"\x00",
        "文件头被改动": data[:30] + bytes([data[30] ^ 0x01]) + data[31:],
    }
    paths = {}
    for label, content in copies.items():
        path = tmp_path / f"{len(paths)}.fpbak"
        path.write_bytes(content)
        paths[label] = path
    return paths


def test_a_damaged_or_truncated_archive_is_refused_and_nothing_is_written(archives, tmp_path):
    _, with_keys, _ = archives
    for label, path in damaged_copies(with_keys, tmp_path).items():
        target = tmp_path / f"target-{path.stem}"
        refused = fangpin(target, "restore", str(path), check=False)
        assert refused.returncode == 1, label
        assert "未恢复" in refused.stderr and ("损坏" in refused.stderr or "不完整" in refused.stderr), label
        assert "Traceback" not in refused.stderr, label
        assert left_empty(target), (label, sorted(p.name for p in target.iterdir()))


def test_a_wrong_passphrase_is_refused_and_nothing_is_written(archives, tmp_path, monkeypatch):
    _, with_keys, _ = archives
    monkeypatch.setenv("FANGPIN_BACKUP_PASSPHRASE", "别人的口令 0000")
    target = tmp_path / "target"
    refused = fangpin(target, "restore", str(with_keys), check=False)
    assert refused.returncode == 1 and "备份口令不正确" in refused.stderr
    assert left_empty(target)


def test_restore_refuses_a_data_directory_that_is_not_empty(archives, tmp_path):
    source, with_keys, _ = archives
    before = sqlite_counts(source / "fangpin.sqlite3")
    refused = fangpin(source, "restore", str(with_keys), check=False)
    assert refused.returncode == 1 and "不是空的" in refused.stderr and "fangpin.sqlite3" in refused.stderr
    assert sqlite_counts(source / "fangpin.sqlite3") == before
    target = tmp_path / "target"
    target.mkdir()
    (target / "旧台账.xlsx").write_bytes(b"x")
    refused = fangpin(target, "restore", str(with_keys), check=False)
    assert refused.returncode == 1 and "旧台账.xlsx" in refused.stderr
    assert not (target / "fangpin.sqlite3").exists()


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL round trip: DATABASE_URL",
)
def test_a_postgresql_register_round_trips_through_pg_dump_into_an_empty_database(tmp_path):
    source_name, target_name = f"fangpin_bk_src_{os.getpid()}", f"fangpin_bk_dst_{os.getpid()}"
    source_url, target_url = scratch_postgres(source_name), scratch_postgres(target_name)
    if source_url is None or target_url is None:
        pytest.skip("PostgreSQL is not reachable")
    try:
        source = tmp_path / "data"
        build_register(source, tmp_path, source_url)
        archive = tmp_path / "pg.fpbak"
        fangpin(source, "backup", str(archive), "--with-keys", database_url=source_url)
        manifest_vendor = fangpin(tmp_path / "sqlite-target", "restore", str(archive), check=False)
        assert manifest_vendor.returncode == 1 and "PostgreSQL" in manifest_vendor.stderr
        refused = fangpin(tmp_path / "busy", "restore", str(archive), check=False, database_url=source_url)
        assert refused.returncode == 1 and "不是空的" in refused.stderr
        target = tmp_path / "restored"
        fangpin(target, "restore", str(archive), database_url=target_url)
        assert postgres_counts(target_url) == postgres_counts(source_url)
        assert postgres_counts(target_url)["registry_member"] == 5
        assert fangpin(target, "audit", "verify", database_url=target_url).returncode == 0
        assert zhang_id(target, target_url) == ZHANG
        assert (target / "files" / "monitoring" / "1" / "入户照片.jpg").read_bytes() == PHOTO
    finally:
        drop_postgres(source_name)
        drop_postgres(target_name)


def test_the_manifest_names_every_member_with_its_checksum(archives, tmp_path):
    """Read back through the library, as restore does: the manifest lists the database, the files, the key."""
    _, with_keys, without = archives
    for archive, keys in ((with_keys, True), (without, False)):
        code = (
            "import json; from pathlib import Path; from fangpin.common.backup import _read_archive; "
            f"print(json.dumps(_read_archive(Path({str(archive)!r}), {PASSPHRASE!r}).manifest))"
        )
        run = fangpin(tmp_path / "reader", "shell", "-v", "0", "-c", code)
        manifest = json.loads(run.stdout)
        names = set(manifest["members"])
        assert "database/fangpin.sqlite3" in names and "data/files/monitoring/1/入户照片.jpg" in names
        assert ("keys/FANGPIN_KEY_FILE" in names) is keys and ("keys/FANGPIN_AUDIT_KEY_FILE" in names) is keys
        assert not any("fangpin-keys" in n or "audit-key" in n for n in names if n.startswith("data/"))
        assert not any(
            "jobs.sqlite3" in n or n.startswith(("data/static/", "data/screening/")) for n in names
        )
        assert manifest["tables"]["registry_member"] == 5 and manifest["database"] == "sqlite"
        assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())
