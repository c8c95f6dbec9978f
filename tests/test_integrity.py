"""What is stored stays consistent with what the code decides: one 户主 per household, one finding per
rule, subject and period, across moves, re-imports and a second screening."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from fangpin.audit.models import AuditEntry
from fangpin.registry.importer import import_register
from fangpin.registry.models import Member
from fangpin.rules.actions import run_screening
from fangpin.rules.models import Finding
from tests import builders
from tests.builders import standard_rows

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 6, 30)


def rows_of(household_no: str) -> list[dict]:
    return [dict(r) for r in standard_rows() if r["户编号"] == household_no]


def heads(household_no: str) -> list[str]:
    return list(
        Member.objects.filter(household__household_no=household_no, relation="户主").values_list(
            "name", flat=True
        )
    )


def test_a_persons_finding_follows_them_to_their_new_household_on_the_next_screening(register, tmp_path):
    Member.objects.filter(name="王强").update(gender="女")  # DQ_GENDER_ID: a person-level finding
    run_screening(as_of=AS_OF)
    finding = Finding.objects.get(rule_id="DQ_GENDER_ID")
    assert finding.household.household_no == "H002"

    moved = dict(rows_of("H002")[0], 户编号="H003", 乡="横水镇", 村="柳庄村", 与户主关系="之兄", 性别="女")
    path = builders.write_csv(tmp_path / "moved.csv", [*rows_of("H003"), moved])
    assert import_register(path, allow_moves=True).moves == 1

    second = run_screening(as_of=AS_OF)  # failed on the per-member uniqueness before
    finding.refresh_from_db()
    assert Finding.objects.filter(rule_id="DQ_GENDER_ID").count() == 1
    assert finding.household.household_no == "H003" and finding.last_run == second
    assert finding.region_code == finding.household.region_code


def test_a_second_head_in_one_file_is_listed_and_the_database_refuses_two(regions, tmp_path):
    rows = standard_rows()
    spouse = next(r for r in rows if r["姓名"] == "李秀英")
    spouse["与户主关系"] = "户主"
    result = import_register(builders.write_csv(tmp_path / "two-heads.csv", rows))
    assert result.ok
    assert [(f.row, f.kind) for f in result.faults] == [(3, "extra_head")]
    assert heads("H001") == ["张建国"]
    li = Member.objects.get(name="李秀英")
    assert li.relation == "" and li.value_faults["与户主关系"] == {"kind": "extra_head", "shown": "户主"}

    run_screening(as_of=AS_OF)
    finding = Finding.objects.get(rule_id="DQ_HEAD_COUNT")
    assert finding.household_id == li.household_id and finding.message == "该户有2名户主"

    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=li.pk).update(relation="户主")


def test_a_later_file_naming_a_new_head_without_the_old_one_steps_the_old_one_down(register, tmp_path):
    new_head = dict(rows_of("H001")[1], 与户主关系="户主")  # 李秀英 alone, now 户主; 张建国 not listed
    result = import_register(builders.write_csv(tmp_path / "new-head.csv", [new_head]))
    assert result.ok and [(f.row, f.kind) for f in result.faults] == [(2, "head_replaced")]
    assert heads("H001") == ["李秀英"]
    old = Member.objects.get(name="张建国")
    assert old.relation == "" and old.value_faults["与户主关系"]["kind"] == "head_replaced"
    assert AuditEntry.objects.filter(object_id=str(old.pk), detail__contains="户主变更").exists()
    run_screening(as_of=AS_OF)
    assert (
        Finding.objects.get(rule_id="DQ_HEAD_COUNT", status=Finding.Status.OPEN).household_id
        == old.household_id
    )

    # the village's corrected file lists both: the fault and the finding clear
    rows = rows_of("H001")
    rows[0]["与户主关系"], rows[1]["与户主关系"] = "配偶", "户主"
    assert import_register(builders.write_csv(tmp_path / "fixed.csv", rows)).ok
    old.refresh_from_db()
    assert old.relation == "配偶" and "与户主关系" not in old.value_faults
    run_screening(as_of=AS_OF)
    assert Finding.objects.get(rule_id="DQ_HEAD_COUNT").status == Finding.Status.CLEARED


def test_a_head_swap_within_one_file_imports_without_faults(register, tmp_path):
    rows = rows_of("H001")
    rows[0]["与户主关系"], rows[1]["与户主关系"] = "配偶", "户主"  # the new head's row comes second
    result = import_register(builders.write_csv(tmp_path / "swap.csv", rows))
    assert result.ok and result.faults == []
    assert heads("H001") == ["李秀英"]
    assert Member.objects.get(name="张建国").relation == "配偶"


def test_an_import_stages_its_rows_and_takes_the_write_lock_only_to_publish(regions, tmp_path, monkeypatch):
    """The rows are read and checked before the transaction begins; a refused file never opens one."""
    from fangpin.registry import importer

    events: list[str] = []
    real_parse, real_atomic = importer._Importer.parse, importer.transaction.atomic

    def parse(self, row):
        events.append("parse")
        return real_parse(self, row)

    def atomic(*args, **kwargs):
        events.append("transaction")
        return real_atomic(*args, **kwargs)

    monkeypatch.setattr(importer._Importer, "parse", parse)
    monkeypatch.setattr(importer.transaction, "atomic", atomic)
    assert import_register(builders.write_csv(tmp_path / "ok.csv", standard_rows())).ok
    first_transaction = next(i for i, e in enumerate(events) if e == "transaction")
    assert events[:first_transaction] == ["parse"] * 5 and "parse" not in events[first_transaction:]

    events.clear()
    rows = standard_rows()
    rows[0]["村"] = "不存在村"  # a row that cannot be placed: the file is refused
    result = import_register(builders.write_csv(tmp_path / "bad.csv", rows))
    assert not result.ok and result.problems
    assert not [e for e in events if e == "transaction"]
    staging = Path(settings.DATA_DIR) / "staging"
    assert list(staging.iterdir()) == []  # staged rows live in unnamed files only
