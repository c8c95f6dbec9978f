from __future__ import annotations

import pytest

from fangpin.audit.context import acting_as
from fangpin.common.crypto import cipher
from fangpin.registry.exporter import export_register
from fangpin.registry.importer import import_register
from fangpin.registry.models import Household, IncomeRecord, Member
from tests import builders

pytestmark = pytest.mark.django_db
VOLATILE = {
    "id",
    "created_at",
    "updated_at",
    "household_id",
    "phone_enc",
    "id_number_enc",
    "region_id",
    "monitoring_contact_phone_enc",
    "info_collector_phone_enc",
    "policy_id",
}


def snapshot() -> dict:
    def row(obj):
        data = {
            f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in VOLATILE
        }
        if isinstance(obj, Member):
            data["id_number"] = cipher().decrypt(obj.id_number_enc, "id")
        return data

    return {
        "households": {h.household_no: row(h) for h in Household.objects.all()},
        "members": {
            m.id_number_hash: row(m) | {"household": m.household.household_no} for m in Member.objects.all()
        },
        "incomes": {(i.household.household_no, i.year): row(i) for i in IncomeRecord.objects.all()},
    }


def test_export_then_import_into_an_empty_register_gives_the_same_register(
    regions, county_admin, tmp_path, monkeypatch
):
    from fangpin.registry import exporter

    monkeypatch.setattr(exporter, "BATCH", 2)  # several keyset pages even for three households
    rows = builders.standard_rows()
    monitoring = [
        r
        | {
            "识别监测时间": "202304",
            "致贫/返贫风险1": "因病",
            "健康帮扶": "医保缴费补贴",
            "监测联系人电话": "13655556666",
            "网格员": "x",
        }
        for r in rows
        if r["户编号"] == "H002"
    ]
    assert import_register(builders.write_xlsx(tmp_path / "a.xlsx", rows)).ok
    assert import_register(builders.write_xlsx(tmp_path / "m.xlsx", monitoring)).ok
    before = snapshot()
    with acting_as(county_admin, source="web"):
        export_register(tmp_path / "out.xlsx", user=county_admin, layout="monitoring", year=2025, full=True)
    Household.objects.all().delete()
    assert Member.objects.count() == 0
    result = import_register(tmp_path / "out.xlsx")
    assert result.ok, result.problems
    after = snapshot()
    for member in before["members"].values():
        member["extra"] = {}  # unknown columns are kept on import but not written back to a national layout
    assert after == before
