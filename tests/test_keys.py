"""The key file against the data it encrypted: a missing or wrong key stops every entry point before
anything is read or written; rotation re-encrypts under a recorded key id and keeps every lookup working.

Real `fangpin` processes on their own data directory and SQLite file."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests import builders
from tests.cli_helpers import fangpin, fangpin_env, prepared

MISSING = "找不到数据加密密钥文件"
WRONG = "与数据库中的数据不符"
IDS = sorted(str(row["证件号码"]) for row in builders.standard_rows())


def dump(db) -> str:
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())


def tokens(db) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id_number_enc FROM registry_member UNION ALL SELECT phone_enc FROM registry_member "
                            "UNION ALL SELECT phone_enc FROM registry_household").fetchall()  # fmt: skip
    return [r[0] for r in rows if r[0]]


def decrypted_ids(data) -> list[str]:
    code = (
        "import json; from fangpin.registry.models import Member; from fangpin.common.crypto import cipher; "
        "print(json.dumps(sorted(cipher().decrypt(m.id_number_enc, 'id') for m in Member.objects.all())))"
    )
    return json.loads(fangpin(data, "shell", "-v", "0", "-c", code).stdout)


def legacy_key_file(path, key_id: str = "legacy01") -> bytes:
    """A key file in the first, single-key format, as every installation before rotation has it."""
    key = os.urandom(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key_id": key_id, "encryption_key": base64.b64encode(key).decode(),
                                "hmac_key": base64.b64encode(os.urandom(32)).decode()}))  # fmt: skip
    return key


def g1_token(key: bytes, value: str, kind: str) -> str:
    """A token as the first format wrote it: no key id, the kind alone as associated data."""
    nonce = os.urandom(12)
    return (
        "g1:" + base64.b64encode(nonce + AESGCM(key).encrypt(nonce, value.encode(), kind.encode())).decode()
    )


@pytest.fixture
def register(tmp_path):
    """A data directory with the three standard households imported: (data dir, database, key file)."""
    data = tmp_path / "data"
    db = prepared(data, tmp_path)
    result = fangpin(data, "import", str(builders.write_csv(tmp_path / "r.csv", builders.standard_rows())))
    assert "人 新增5" in result.stdout
    return data, db, data / "keys" / "fangpin-keys.json"


def test_a_fresh_install_creates_its_key_file_on_first_import(tmp_path):
    data = tmp_path / "data"
    prepared(data, tmp_path)
    key_file = data / "keys" / "fangpin-keys.json"
    assert not key_file.exists()
    result = fangpin(data, "import", str(builders.write_csv(tmp_path / "r.csv", builders.standard_rows())))
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert "已生成新的数据加密密钥" in result.stderr
    assert decrypted_ids(data) == IDS


def refused_everywhere(data, db, tmp_path, expected: str) -> None:
    """import, screen, worker, serve and the WSGI app all stop with `expected`, and nothing changes."""
    key_file = data / "keys" / "fangpin-keys.json"
    key_before = key_file.read_bytes() if key_file.exists() else None
    before = dump(db)
    source = str(builders.write_csv(tmp_path / "again.csv", builders.standard_rows()))
    runs = [
        fangpin(data, "import", source, check=False),
        fangpin(data, "screen", check=False),
        fangpin(data, "worker", check=False),
        fangpin(data, "serve", "--port", "0", check=False),
        subprocess.run(
            [sys.executable, "-c", "import fangpin.wsgi"],
            env=fangpin_env(data),
            capture_output=True,
            text=True,
            timeout=120,
        ),
    ]
    for run in runs:
        assert run.returncode != 0, run.args
        assert expected in run.stderr and str(key_file) in run.stderr, run.stderr
        assert "Traceback" not in run.stderr and "从密钥备份中" in run.stderr
    assert dump(db) == before
    assert (key_file.read_bytes() if key_file.exists() else None) == key_before


def test_a_missing_key_file_beside_existing_data_stops_every_entry_point_and_no_key_is_made(
    register, tmp_path
):
    data, db, key_file = register
    key_file.rename(tmp_path / "kept-safe.json")
    refused_everywhere(data, db, tmp_path, MISSING)
    assert not key_file.exists()
    # once the key is put back from the backup, the same import finds everybody: no duplicates
    (tmp_path / "kept-safe.json").rename(key_file)
    again = fangpin(data, "import", str(builders.write_csv(tmp_path / "r2.csv", builders.standard_rows())))
    assert "人 新增0" in again.stdout


def test_a_wrong_key_file_is_refused_whether_its_key_id_is_unknown_or_its_key_differs(register, tmp_path):
    data, db, key_file = register
    current = json.loads(key_file.read_text())["current"]
    legacy_key_file(key_file, key_id="otherkey")  # another installation's key: its id names no token here
    refused_everywhere(data, db, tmp_path, WRONG)
    legacy_key_file(key_file, key_id=current)  # the right id, the wrong key material
    refused_everywhere(data, db, tmp_path, WRONG)


def test_rotation_re_encrypts_every_value_under_the_new_key_id_and_lookups_still_work(tmp_path):
    data = tmp_path / "data"
    db = prepared(data, tmp_path)
    key_file = data / "keys" / "fangpin-keys.json"
    legacy = legacy_key_file(key_file)  # an installation from before rotation: the single-key format
    source = str(builders.write_csv(tmp_path / "r.csv", builders.standard_rows()))
    fangpin(data, "import", source)
    with sqlite3.connect(db) as conn:  # and one value still in the first token format
        conn.execute("UPDATE registry_member SET id_number_enc = ? WHERE name = '张建国'",
                     (g1_token(legacy, builders.pid(11), "id"),))  # fmt: skip
    values = len(tokens(db))
    assert decrypted_ids(data) == IDS
    assert "密钥 legacy01（当前）" in (status := fangpin(data, "keys", "status").stdout)
    assert f"加密 {values} 个号码" in status

    refused = fangpin(data, "keys", "retire", "legacy01", check=False)
    assert refused.returncode == 1 and "当前密钥" in refused.stderr

    rotated = fangpin(data, "keys", "rotate")
    payload = json.loads(key_file.read_text())
    new = payload["current"]
    assert new != "legacy01" and set(payload["keys"]) == {"legacy01", new}
    assert f"legacy01 → {new}" in rotated.stdout and f"重新加密 {values} 个号码" in rotated.stdout
    assert all(token.startswith(f"g2:{new}:") for token in tokens(db))
    assert decrypted_ids(data) == IDS
    status = fangpin(data, "keys", "status").stdout
    assert f"密钥 {new}（当前）" in status and f"加密 {values} 个号码" in status and "加密 0 个号码" in status
    # the keyed hashes did not change: a re-import finds every person, search by ID finds them too
    assert "人 新增0" in fangpin(data, "import", source).stdout
    found = fangpin(data, "shell", "-v", "0", "-c",
                    "from fangpin.registry.models import Member; from fangpin.common.crypto import cipher; "
                    f"print(Member.objects.get(id_number_hash=cipher().digest('{builders.pid(31, builders.dt.date(1980, 2, 2))}', 'id')).name)")  # fmt: skip
    assert found.stdout.strip() == "王强"
    assert fangpin(data, "audit", "verify").returncode == 0
    with sqlite3.connect(db) as conn:
        detail = conn.execute("SELECT detail FROM audit_auditentry WHERE model = '密钥'").fetchone()[0]
    assert f"由 legacy01 换为 {new}" in detail and f"{values} 个号码" in detail

    # a value the old key still encrypts keeps it in service; after the next rotation it can go
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE registry_member SET id_number_enc = ? WHERE name = '王强'",
                     (g1_token(legacy, builders.pid(31, builders.dt.date(1980, 2, 2)), "id"),))  # fmt: skip
    refused = fangpin(data, "keys", "retire", "legacy01", check=False)
    assert refused.returncode == 1 and "仍有 1 个号码用密钥 legacy01 加密" in refused.stderr
    fangpin(data, "keys", "rotate")
    fangpin(data, "keys", "retire", "legacy01")
    payload = json.loads(key_file.read_text())
    assert "legacy01" not in payload["keys"] and "legacy_key_id" not in payload
    assert decrypted_ids(data) == IDS
    assert "人 新增0" in fangpin(data, "import", source).stdout
