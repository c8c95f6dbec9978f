"""The audit log proves itself: keyed chain, signed anchors outside the database, and a verify that names
each kind of tampering an attacker with the database (but not the key or the anchors) could try."""

from __future__ import annotations

import base64
import json
import sqlite3
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import connection

from fangpin.audit import keys as audit_keys_module
from fangpin.audit.actions import HASHED_FIELDS, compute_hash, compute_hmac, record, verify
from fangpin.audit.anchors import SIGNED_FIELDS, AnchorRefused, write_anchor
from fangpin.audit.context import acting_as
from fangpin.audit.keys import AuditKeyError, audit_keys
from fangpin.audit.models import Action, AuditEntry, ChainHead, Scheme
from tests import builders
from tests.cli_helpers import fangpin, prepared

pytestmark = pytest.mark.django_db


@pytest.fixture
def anchors(settings, tmp_path):
    """Anchors of this test only (the data directory is shared by the whole session)."""
    settings.FANGPIN_AUDIT_ANCHOR_DIR = str(tmp_path / "anchors")
    return tmp_path / "anchors"


def _sql(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _drop_triggers() -> None:
    """What an attacker with the database does first."""
    if connection.vendor == "sqlite":
        for name in ("audit_entry_no_update", "audit_entry_no_delete", "audit_head_no_delete"):
            _sql(f"DROP TRIGGER {name}")
    else:
        _sql("DROP TRIGGER audit_entry_no_change ON audit_auditentry")
        _sql("DROP TRIGGER audit_head_no_delete ON audit_chainhead")


def _restore_triggers() -> None:
    from fangpin.audit.triggers import install

    install(connection)


def _recompute_from(seq: int, *, key: bytes | None) -> None:
    """Recompute every hash from `seq` on, as a forger would: with the key (stolen), or without it as plain
    SHA-256 entries; then set the head to match, so only what lies outside the database can tell."""
    prev = AuditEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else "0" * 64
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        values = {name: getattr(entry, name) for name in HASHED_FIELDS}
        values["prev_hash"] = prev
        values["scheme"] = Scheme.HMAC if key else Scheme.SHA256
        prev = compute_hmac(values, key) if key else compute_hash(values)
        _sql(
            "UPDATE audit_auditentry SET prev_hash = %s, entry_hash = %s, scheme = %s WHERE id = %s",
            [values["prev_hash"], prev, values["scheme"], entry.pk],
        )
    last = AuditEntry.objects.order_by("-seq").first()
    _sql("UPDATE audit_chainhead SET seq = %s, entry_hash = %s WHERE id = 1", [last.seq, prev])


def _empty_log() -> None:
    """The test database already holds the entries `migrate` wrote (rule parameter defaults)."""
    _drop_triggers()
    _sql("DELETE FROM audit_auditentry")
    _sql("UPDATE audit_chainhead SET seq = 0, entry_hash = %s", ["0" * 64])
    _restore_triggers()


def _problems() -> list[str]:
    result = verify()
    assert not result.ok
    return result.problems


def _has(problems: list[str], text: str) -> bool:
    return any(text in p for p in problems)


def test_a_clean_log_verifies_with_its_anchors_and_every_entry_is_keyed(register, anchors):
    write_anchor()
    result = verify()
    assert result.ok, result.problems
    assert result.anchors == 1 and result.checked == AuditEntry.objects.count() > 10
    assert set(AuditEntry.objects.values_list("scheme", flat=True)) == {Scheme.HMAC}
    # an HMAC, not the plain SHA-256 anyone could recompute
    entry = AuditEntry.objects.order_by("seq").first()
    assert entry.entry_hash != compute_hash({n: getattr(entry, n) for n in HASHED_FIELDS})


def test_the_anchor_is_a_private_file_whose_signature_checks_with_its_own_public_key(register, anchors):
    path = write_anchor()
    assert path.parent == anchors and stat.S_IMODE(path.stat().st_mode) == 0o600
    payload = json.loads(path.read_text())
    last = AuditEntry.objects.order_by("-seq").first()
    assert (payload["序号"], payload["哈希"], payload["条数"]) == (last.seq, last.entry_hash, last.seq)
    # checked as the audit administrator would elsewhere, with nothing but the file and the method it states
    signed = json.dumps({k: payload[k] for k in SIGNED_FIELDS}, sort_keys=True, ensure_ascii=False,
                        separators=(",", ":")).encode()  # fmt: skip
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(payload["公钥"]))
    public.verify(base64.b64decode(payload["签名"]), signed)  # raises if it does not hold


def test_an_edited_anchor_or_one_signed_with_another_key_is_reported(register, anchors):
    path = write_anchor()
    payload = json.loads(path.read_text())
    payload["序号"] = 1
    path.write_text(json.dumps(payload, ensure_ascii=False))
    assert _has(_problems(), "的签名不符")
    forger = Ed25519PrivateKey.generate()
    payload["公钥"] = base64.b64encode(forger.public_key().public_bytes_raw()).decode()
    signed = json.dumps({k: payload[k] for k in SIGNED_FIELDS}, sort_keys=True, ensure_ascii=False,
                        separators=(",", ":")).encode()  # fmt: skip
    payload["签名"] = base64.b64encode(forger.sign(signed)).decode()
    path.write_text(json.dumps(payload, ensure_ascii=False))
    assert _has(_problems(), "不是用本平台的审计密钥签名的")


def test_verify_reports_a_changed_row(register, anchors):
    _drop_triggers()
    _restore_triggers()  # the attacker puts the triggers back to hide
    entry = AuditEntry.objects.order_by("seq")[4]
    _drop_triggers()
    _sql("UPDATE audit_auditentry SET username = 'nobody' WHERE id = %s", [entry.pk])
    _restore_triggers()
    problems = _problems()
    assert problems == [f"#{entry.seq} 的内容与其哈希不符（该记录被篡改，或哈希链被无密钥重算）"]


def test_verify_reports_a_deleted_row(register, anchors):
    _drop_triggers()
    _sql("DELETE FROM audit_auditentry WHERE seq = 3")
    _restore_triggers()
    problems = _problems()
    assert _has(problems, "序号不连续：期望 #3，实际 #4") and _has(problems, "#4 与前一条记录的链接不符")


def test_verify_reports_a_removed_tail_even_with_the_head_row_put_back(register, anchors):
    write_anchor()
    last = AuditEntry.objects.order_by("-seq").first().seq
    _drop_triggers()
    _sql("DELETE FROM audit_auditentry WHERE seq > %s", [last - 5])
    _restore_triggers()
    assert _has(_problems(), f"链头为 #{last}，最后一条记录为 #{last - 5}：末尾记录被删除")
    # the attacker also rewinds the head row: the anchor outside the database still knows
    kept = AuditEntry.objects.get(seq=last - 5)
    _sql("UPDATE audit_chainhead SET seq = %s, entry_hash = %s", [kept.seq, kept.entry_hash])
    problems = _problems()
    assert (
        len(problems) == 1
        and f"记录日志已到 #{last}，数据库中最后一条为 #{last - 5}：末尾记录被删除" in problems[0]
    )


def test_verify_reports_an_emptied_table(register, anchors):
    write_anchor()
    count = AuditEntry.objects.count()
    _drop_triggers()
    _sql("DELETE FROM audit_auditentry")
    _sql("UPDATE audit_chainhead SET seq = 0, entry_hash = %s", ["0" * 64])
    _restore_triggers()
    result = verify()
    assert result.checked == 0 and not result.ok
    assert result.problems == [
        f"审计日志为空，但锚点「{next(anchors.iterdir()).name}」记录当时已有 {count:,} 条：日志被清空"
    ]


def test_a_chain_recomputed_without_the_key_fails_as_a_downgrade_or_a_wrong_hmac(register, anchors):
    _drop_triggers()
    _sql("UPDATE audit_auditentry SET object_repr = '篡改' WHERE seq = 6")
    _recompute_from(6, key=None)  # plain SHA-256, relabelled as legacy entries
    _restore_triggers()
    assert _has(_problems(), "#6 是无密钥的旧式哈希，却写在启用审计密钥之后（哈希链被降级重算）")
    _drop_triggers()
    _recompute_from(6, key=b"a key the attacker made up")
    _restore_triggers()
    assert _has(_problems(), "#6 的内容与其哈希不符")


def test_a_chain_recomputed_with_a_stolen_key_is_caught_by_the_anchor(register, anchors):
    write_anchor()
    anchored = AuditEntry.objects.order_by("-seq").first().seq
    _drop_triggers()
    _sql("UPDATE audit_auditentry SET object_repr = '篡改' WHERE seq = 6")
    _recompute_from(6, key=audit_keys().hmac_key)
    _restore_triggers()
    problems = _problems()
    assert len(problems) == 1
    assert f"#{anchored} 的哈希与锚点「" in problems[0] and "哈希链被重算" in problems[0]


def test_verify_reports_a_deleted_or_edited_chain_head_row(register, anchors):
    last = AuditEntry.objects.order_by("-seq").first()
    _drop_triggers()
    _sql("UPDATE audit_chainhead SET entry_hash = %s", ["f" * 64])
    _restore_triggers()
    assert _problems() == [f"链头（#{last.seq}）与最后一条记录（#{last.seq}）不符：链头记录被修改"]
    _drop_triggers()
    _sql("DELETE FROM audit_chainhead")
    _restore_triggers()
    assert _has(_problems(), "链头记录不存在（被删除）")


def test_verify_reports_missing_disabled_or_altered_triggers(register):
    assert verify().ok
    if connection.vendor == "sqlite":
        _sql("DROP TRIGGER audit_entry_no_delete")
        assert _problems() == ["禁止删除审计记录的触发器不存在（已被删除，审计记录可被直接改动）"]
        # put back one that never fires
        _sql("CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry WHEN 0 "
             "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END")  # fmt: skip
    else:
        _sql("DROP TRIGGER audit_entry_no_truncate ON audit_auditentry")
        assert _problems() == ["禁止清空审计日志的触发器不存在（已被删除，审计记录可被直接改动）"]
        _restore_triggers()
        _sql("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_no_change")
        assert _problems() == ["禁止修改或删除审计记录的触发器已被停用"]
        _sql("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_no_change")
        _sql("CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
             "BEGIN RETURN OLD; END $$ LANGUAGE plpgsql")  # fmt: skip
        assert _problems() == ["防篡改触发器调用的函数不存在或已被改动（触发器不再拦截改动）"]
        _restore_triggers()
        _sql("DROP TRIGGER audit_entry_no_change ON audit_auditentry")
        _sql("CREATE TRIGGER audit_entry_no_change BEFORE UPDATE ON audit_auditentry "
             "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()")  # fmt: skip
    assert _has(_problems(), "已被改动")


def test_legacy_sha256_entries_verify_by_their_own_scheme_and_keyed_ones_follow(db, settings, tmp_path):
    """A log from before the keyed chain: plain SHA-256 entries (inserted as the old code wrote them)."""
    from django.utils import timezone

    settings.FANGPIN_AUDIT_KEY_FILE = str(tmp_path / "audit-key.json")
    _empty_log()
    prev = "0" * 64
    for seq in (1, 2, 3):
        values = {name: "" for name in HASHED_FIELDS}
        values |= {"seq": seq, "at": timezone.now(), "user_id": None, "household_id": None, "before": None,
                   "after": {"n": seq}, "action": "create", "username": "old", "source": "cli", "prev_hash": prev}  # fmt: skip
        prev = compute_hash(values)
        AuditEntry.objects.bulk_create([AuditEntry(**values, entry_hash=prev, scheme=Scheme.SHA256)])
    ChainHead.objects.filter(pk=1).update(seq=3, entry_hash=prev)
    # entries present, no key: nothing new is written, and no key appears beside them
    with pytest.raises(AuditKeyError, match=r"(?s)找不到审计密钥文件.*已有 3 条记录.*没有生成新密钥"):
        record(Action.UPDATE, detail="x")
    assert not (tmp_path / "audit-key.json").exists()
    assert _has(_problems(), "审计密钥文件缺失或损坏")
    # the administrator starts the keyed chain explicitly; from #4 on every entry is keyed
    audit_keys_module.start_keyed_chain()
    assert stat.S_IMODE((tmp_path / "audit-key.json").stat().st_mode) == 0o600
    record(Action.UPDATE, detail="第一条带密钥的记录")
    assert list(AuditEntry.objects.values_list("scheme", flat=True)) == ["sha256"] * 3 + ["hmac"]
    assert verify().ok
    with pytest.raises(AuditKeyError, match="已存在"):
        audit_keys_module.start_keyed_chain()
    # an edited legacy entry is still caught by its own scheme
    _drop_triggers()
    _sql("UPDATE audit_auditentry SET username = 'nobody' WHERE seq = 2")
    assert _has(_problems(), "#2 的内容与其哈希不符（该记录被篡改）")


def test_a_legacy_entry_after_a_keyed_one_is_refused(register, settings, tmp_path):
    last = AuditEntry.objects.order_by("-seq").first()
    values = {name: getattr(last, name) for name in HASHED_FIELDS}
    values |= {"seq": last.seq + 1, "prev_hash": last.entry_hash}
    forged = compute_hash(values)
    AuditEntry.objects.bulk_create([AuditEntry(**values, entry_hash=forged, scheme=Scheme.SHA256)])
    ChainHead.objects.filter(pk=1).update(seq=last.seq + 1, entry_hash=forged)
    assert _problems() == [f"#{last.seq + 1} 是无密钥的旧式哈希，却写在启用审计密钥之后（哈希链被降级重算）"]


def test_the_key_is_created_once_while_the_log_is_empty_and_private(db, settings, tmp_path):
    path = tmp_path / "keys" / "audit-key.json"
    settings.FANGPIN_AUDIT_KEY_FILE = str(path)
    _empty_log()
    record(Action.UPDATE, detail="第一条")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    record(Action.UPDATE, detail="第二条")
    assert path.read_bytes() == first and verify().ok
    path.unlink()
    with pytest.raises(AuditKeyError, match="请从密钥备份中把审计密钥文件恢复"):
        record(Action.UPDATE, detail="第三条")
    assert not path.exists() and AuditEntry.objects.count() == 2


def test_no_anchor_is_signed_for_a_log_that_does_not_verify(register, anchors):
    _drop_triggers()
    _sql("DELETE FROM audit_auditentry WHERE seq = 2")
    with pytest.raises(AnchorRefused, match="校验未通过"):
        write_anchor()
    assert not anchors.exists() or not list(anchors.iterdir())


# --- who changed users, roles, regions and settings ------------------------------------------------------


def test_creating_and_changing_a_user_is_audited_with_the_password_hash_redacted(regions, system_admin):
    from django.contrib.auth.models import Group

    from fangpin.accounts.actions import create_user
    from fangpin.regions.models import Region
    from tests.conftest import PASSWORD

    with acting_as(system_admin, source="web"):
        user = create_user(
            username="newcadre", password=PASSWORD, role="village", region_code=builders.VILLAGE_A1
        )
        user.role = "township"
        user.region = Region.objects.get(code=builders.TOWNSHIP_A)
        user.set_password("Another@2026pass")
        user.save()
        group = Group.objects.create(name="公示审核组")
        user.groups.add(group)
    entries = AuditEntry.objects.filter(model="accounts.User", object_id=str(user.pk)).order_by("seq")
    created, changed, grouped = entries
    assert created.action == Action.CREATE and created.username == system_admin.username
    assert created.after["role"] == "village" and created.after["password"] == "***"
    assert changed.before["role"] == "village" and changed.after["role"] == "township"
    assert changed.after["region_id"] == user.region_id and changed.after["password"] == "***"
    assert (grouped.before, grouped.after) == ({"groups": []}, {"groups": ["公示审核组"]})
    assert not any(PASSWORD in json.dumps(e.after, ensure_ascii=False) for e in entries)
    assert verify().ok


def test_a_login_does_not_log_a_user_change_for_last_login(client, village_cadre):
    from django.urls import reverse

    from tests.conftest import PASSWORD

    before = AuditEntry.objects.filter(action=Action.UPDATE, model="accounts.User").count()
    client.post(reverse("login"), {"username": village_cadre.username, "password": PASSWORD})
    assert AuditEntry.objects.filter(action=Action.LOGIN).exists()
    assert AuditEntry.objects.filter(action=Action.UPDATE, model="accounts.User").count() == before


def test_a_region_table_load_writes_its_entries_in_one_append(db):
    from fangpin.regions.actions import upsert_regions
    from fangpin.regions.models import Region

    with acting_as(None, source="cli", request_id="load-1"):
        result = upsert_regions(builders.REGIONS)
    entries = AuditEntry.objects.filter(model="regions.Region")
    assert result.created == len(builders.REGIONS) == entries.count()
    assert {e.request_id for e in entries} == {"load-1"} and len({e.at for e in entries}) == 1  # one append
    village = Region.objects.get(code=builders.VILLAGE_A1)
    entry = entries.get(object_id=str(village.pk))
    assert entry.action == Action.CREATE and entry.after["parent_id"] == village.parent_id
    renamed = [
        (code, name + "（新）" if code == builders.VILLAGE_A1 else name) for code, name in builders.REGIONS
    ]
    assert upsert_regions(renamed).updated == 1
    update = AuditEntry.objects.filter(model="regions.Region", action=Action.UPDATE).get()
    assert update.after["name"].endswith("（新）") and update.region_code == builders.VILLAGE_A1
    village.refresh_from_db()
    village.name = "改名村"
    village.save()  # a single edit goes through the model's signals
    assert AuditEntry.objects.filter(model="regions.Region", action=Action.UPDATE).count() == 2
    assert verify().ok


def test_rule_switches_and_parameters_are_audited(regions, county_admin):
    from fangpin.rules.actions import set_enabled

    with acting_as(county_admin, source="web"):
        set_enabled(rule_id="some_rule", enabled=False, user=county_admin)
    entry = AuditEntry.objects.filter(model="rules.RuleSetting").order_by("-seq").first()
    assert entry.username == "county_admin" and entry.after["enabled"] is False


# --- the pages and the command ----------------------------------------------------------------------------


def test_the_audit_administrator_lists_and_downloads_the_anchors(client, register, anchors):
    from fangpin.accounts.actions import create_user
    from tests.conftest import PASSWORD

    path = write_anchor()
    auditor = create_user(username="auditor", password=PASSWORD, role="audit_admin")
    client.force_login(auditor)
    page = client.get("/audit/anchors/").content.decode()
    assert path.name in page and "有效" in page
    download = client.get(f"/audit/anchors/{path.name}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == path.read_bytes()
    assert client.get("/audit/anchors/..%2Fkeys%2Faudit-key.json").status_code == 404
    assert "个锚点，哈希链无断裂" in client.post("/audit/verify/").content.decode()


def test_nobody_else_reads_the_anchors(client, register, anchors, county_admin):
    path = write_anchor()
    client.force_login(county_admin)
    assert client.get("/audit/anchors/").status_code == 403
    assert client.get(f"/audit/anchors/{path.name}").status_code == 403


@pytest.mark.slow
def test_the_command_anchors_verifies_and_exits_1_on_tampering(tmp_path):
    data = tmp_path / "data"
    db = prepared(data, tmp_path)
    fangpin(data, "import", str(builders.write_csv(tmp_path / "r.csv", builders.standard_rows())))
    assert stat.S_IMODE((data / "keys" / "audit-key.json").stat().st_mode) == 0o600
    anchored = fangpin(data, "audit", "anchor")
    (anchor,) = (data / "audit" / "anchors").iterdir()
    assert anchor.name in anchored.stdout and stat.S_IMODE(anchor.stat().st_mode) == 0o600
    assert "1 个锚点，哈希链无断裂" in fangpin(data, "audit", "verify").stdout
    kept = tmp_path / "kept-anchor.json"
    kept.write_bytes(anchor.read_bytes())  # the audit administrator's own copy
    with sqlite3.connect(db) as conn:  # someone with the file removes the tail, head and anchor included
        conn.execute("DROP TRIGGER audit_entry_no_delete")
        last = conn.execute("SELECT MAX(seq) FROM audit_auditentry").fetchone()[0]
        conn.execute("DELETE FROM audit_auditentry WHERE seq > ?", (last - 3,))
        row = conn.execute(
            "SELECT seq, entry_hash FROM audit_auditentry WHERE seq = ?", (last - 3,)
        ).fetchone()
        conn.execute("UPDATE audit_chainhead SET seq = ?, entry_hash = ?", row)
    anchor.unlink()
    bad = fangpin(data, "audit", "verify", check=False)
    assert bad.returncode == 1 and "禁止删除审计记录的触发器不存在" in bad.stderr
    fangpin(data, "migrate", "--no-input", "-v0")  # puts the trigger back; the missing tail stays missing
    with_copy = fangpin(data, "audit", "verify", "--anchor", str(kept), check=False)
    assert (
        with_copy.returncode == 1
        and f"记录日志已到 #{last}，数据库中最后一条为 #{last - 3}" in with_copy.stderr
    )
    # a lost key stops every command that writes the log, and no new key is made beside the entries
    (data / "keys" / "audit-key.json").unlink()
    lost = fangpin(data, "user", "create", "--username", "newadmin", "--role", "system_admin",
                   "--password", "Test@2026pass", check=False)  # fmt: skip
    assert lost.returncode != 0 and "找不到审计密钥文件" in lost.stderr
    assert not (data / "keys" / "audit-key.json").exists()
    assert "审计密钥文件缺失或损坏" in fangpin(data, "audit", "verify", check=False).stderr


def test_the_worker_writes_the_daily_anchor(register, anchors):
    from huey.contrib.djhuey import HUEY

    from fangpin.audit.tasks import daily_anchor

    periodic = HUEY._registry.periodic_tasks  # huey's Django integration found audit/tasks.py
    assert any(isinstance(task, daily_anchor.task_class) for task in periodic)
    daily_anchor.call_local()
    (path,) = anchors.iterdir()
    assert json.loads(path.read_text())["序号"] == AuditEntry.objects.order_by("-seq").first().seq


def test_a_lost_key_stops_a_page_that_writes_the_log_with_a_plain_message(
    client, village_cadre, settings, tmp_path
):
    from django.urls import reverse

    from tests.conftest import PASSWORD

    settings.FANGPIN_AUDIT_KEY_FILE = str(tmp_path / "gone.json")
    response = client.post(reverse("login"), {"username": village_cadre.username, "password": PASSWORD})
    assert response.status_code == 503 and "审计密钥文件缺失或损坏" in response.content.decode()
    assert not (tmp_path / "gone.json").exists()
