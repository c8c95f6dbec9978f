"""A county keeps working while a large file is imported: page views, logins and full views of a number
do not wait for the import's transaction. Sessions live outside the database; the audit entries a
page view writes go to the spool while the import holds the chain, and onto the chain after it.

Real processes on an SQLite data directory: a writer holds the lock in one, the users' requests run in another."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from tests import builders
from tests.cli_helpers import fangpin, fangpin_env, prepared
from tests.conftest import PASSWORD
from tests.test_processes import big_file

pytestmark = pytest.mark.slow

USERS_AT_WORK = """
import json, django
django.setup()
from django.test import Client
from django.conf import settings
settings.ALLOWED_HOSTS = ["*"]
from fangpin.audit import spool
from fangpin.registry.models import Member
client = Client()
seen = {"login": client.post("/login/", {"username": "cadre", "password": PASSWORD}).status_code}
for name, path in [("home", "/"), ("list", "/registry/households/"), ("findings", "/rules/findings/")]:
    seen[name] = client.get(path).status_code
member = Member.objects.order_by("id").first()
seen["reveal"] = client.post(f"/registry/members/{member.pk}/reveal/id_number/").status_code
seen["kept"] = [values["action"] for _, values in spool.waiting()]
print(json.dumps(seen))
"""


def write_locked(sqlite_path) -> bool:
    """Whether another transaction holds the database's write lock right now."""
    with sqlite3.connect(sqlite_path, timeout=0, isolation_level=None) as probe:
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True


def test_logins_page_views_and_reveals_go_on_while_a_writer_holds_the_lock_and_are_audited_after_it(tmp_path):
    # an import's publish is one short transaction now (tests/test_import_publish.py); what must hold is
    # that whoever holds the write lock, for however long, page views do not wait for it: here another
    # connection holds it for the whole of the users' work, as an import's publish would
    data = tmp_path / "data"
    sqlite_path = prepared(data, tmp_path)
    fangpin(data, "import", str(big_file(tmp_path, 200)), "--yes")
    fangpin(data, "user", "create", "--username", "cadre", "--role", "county_staff", "--region", builders.COUNTY,
            "--password", PASSWORD)  # fmt: skip
    writer = sqlite3.connect(sqlite_path, timeout=0, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE registry_household SET head_name = head_name")
        assert write_locked(sqlite_path)
        work = subprocess.run(
            [sys.executable, "-c", f"PASSWORD = {PASSWORD!r}\n{USERS_AT_WORK}"],
            env=fangpin_env(data) | {"DJANGO_SETTINGS_MODULE": "fangpin.settings"},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert work.returncode == 0, work.stderr[-3000:]
        still_locked = write_locked(sqlite_path)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    seen = json.loads(work.stdout.strip().splitlines()[-1])
    assert still_locked
    assert (seen["login"], seen["home"], seen["list"], seen["findings"], seen["reveal"]) == (
        302,
        200,
        200,
        200,
        200,
    )
    assert seen["kept"] == ["login", "sensitive_read"]  # kept, not waited for

    # after the lock is released the entries go on the chain (here the next command's append; the worker flushes
    # every minute), with their own time and user, once each, and the chain verifies
    fangpin(data, "audit", "verify")
    with sqlite3.connect(sqlite_path) as db:
        rows = db.execute(
            "SELECT action FROM audit_auditentry WHERE (action = 'login' AND object_repr = 'cadre')"
            " OR (action = 'sensitive_read' AND username = 'cadre') ORDER BY seq"
        ).fetchall()
    assert rows in ([], [("login",), ("sensitive_read",)])
    fangpin(data, "shell", "-v", "0", "-c", "from fangpin.audit.actions import flush_spool; flush_spool()")
    with sqlite3.connect(sqlite_path) as db:
        rows = db.execute(
            "SELECT action FROM audit_auditentry WHERE (action = 'login' AND object_repr = 'cadre')"
            " OR (action = 'sensitive_read' AND username = 'cadre') ORDER BY seq"
        ).fetchall()
    assert rows == [("login",), ("sensitive_read",)]
    fangpin(data, "audit", "verify")
