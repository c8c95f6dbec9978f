from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from fangpin.audit.actions import household_as_of, verify
from fangpin.audit.context import acting_as
from fangpin.audit.models import Action, AuditEntry
from fangpin.registry.models import Household, Member

pytestmark = pytest.mark.django_db


def test_saves_and_deletes_write_before_and_after_with_who_and_request(register, county_staff):
    household = Household.objects.get(household_no="H001")
    with acting_as(county_staff, source="web", request_id="req-1"):
        household.road_type = "砂石路"
        household.save()
        Member.objects.get(name="李秀英").delete()
    update = AuditEntry.objects.get(action=Action.UPDATE, model="registry.Household")
    assert (update.username, update.request_id, update.source) == ("county_staff", "req-1", "web")
    assert update.before == {"road_type": ""} and update.after == {"road_type": "砂石路"}
    delete = AuditEntry.objects.get(action=Action.DELETE)
    assert delete.before["name"] == "李秀英" and delete.household_id == household.pk


def test_the_chain_verifies_after_imports_and_edits(register):
    result = verify()
    assert result.ok and result.checked == AuditEntry.objects.count() > 0


def test_the_database_refuses_to_update_or_delete_an_audit_entry(register):
    entry = AuditEntry.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(username="someone-else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def _without_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_entry_no_update")
            cursor.execute("DROP TRIGGER audit_entry_no_delete")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_change ON audit_auditentry")


def test_verify_detects_an_edited_entry(register):
    _without_triggers()
    entry = AuditEntry.objects.order_by("seq")[2]
    AuditEntry.objects.filter(pk=entry.pk).update(after={"name": "篡改"})
    result = verify()
    assert not result.ok and any(f"#{entry.seq} 的内容与其哈希不符" in p for p in result.problems)


def test_verify_detects_a_deleted_entry_in_the_middle_and_at_the_end(register):
    _without_triggers()
    entries = list(AuditEntry.objects.order_by("seq"))
    AuditEntry.objects.filter(pk=entries[3].pk).delete()
    assert any("序号不连续" in p for p in verify().problems)
    AuditEntry.objects.filter(pk=entries[-1].pk).delete()
    assert any("链头" in p or "序号" in p for p in verify().problems)


def test_a_household_can_be_shown_as_it_was_on_a_past_date(regions, tmp_path):
    from fangpin.registry.importer import import_register
    from tests import builders

    rows = builders.standard_rows()
    with time_machine.travel(dt.datetime(2025, 1, 10, tzinfo=dt.UTC)):
        assert import_register(builders.write_csv(tmp_path / "a.csv", rows)).ok
    rows[0]["户类型"] = rows[1]["户类型"] = "脱贫户"
    with time_machine.travel(dt.datetime(2025, 6, 10, tzinfo=dt.UTC)):
        assert import_register(builders.write_csv(tmp_path / "b.csv", rows)).ok
    household = Household.objects.get(household_no="H001")
    january = household_as_of(household.pk, dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
    june = household_as_of(household.pk, dt.datetime(2025, 7, 1, tzinfo=dt.UTC))
    key = ("registry.Household", str(household.pk))
    assert january[key]["household_type"] == "一般农户" and june[key]["household_type"] == "脱贫户"
    assert household_as_of(household.pk, dt.datetime(2024, 12, 1, tzinfo=dt.UTC)) == {}
    members = [v["name"] for (model, _), v in january.items() if model == "registry.Member"]
    assert sorted(members) == ["张建国", "李秀英"]


def test_the_audit_administrator_reads_the_log_and_verifies_the_chain(client, register, regions):
    from fangpin.accounts.actions import create_user
    from tests.conftest import PASSWORD

    auditor = create_user(username="auditor", password=PASSWORD, role="audit_admin")
    client.force_login(auditor)
    page = client.get("/audit/", {"action": "create"}).content.decode()
    assert "张建国" in page and "新增" in page
    assert "哈希链无断裂" in client.post("/audit/verify/").content.decode()


def test_nobody_else_reads_the_audit_log(client, register, county_admin):
    client.force_login(county_admin)
    assert client.get("/audit/").status_code == 403
    assert client.post("/audit/verify/").status_code == 403


def test_migrate_puts_back_triggers_a_table_rebuild_dropped(register):
    from fangpin.audit.triggers import ensure_append_only

    _without_triggers()
    ensure_append_only()  # what post_migrate runs after every `fangpin migrate`
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(username="someone-else")
