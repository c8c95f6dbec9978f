"""An import plans every write outside the write lock and publishes the plan in one short transaction.

The publish reads no register row and builds no model object; a change of the register between the
plan and the publish makes the import plan again (and, when that keeps happening, write everything
inside the transaction as before), never lose the change or leave a broken audit chain. The planned
and the all-in-the-transaction ways write the same register and the same audit entries."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models.signals import pre_init

from fangpin.audit import actions as audit
from fangpin.audit.models import Action, AuditEntry
from fangpin.common.bulk import fast_insert
from fangpin.regions.models import Region
from fangpin.registry import importer
from fangpin.registry.importer import import_register
from fangpin.registry.models import Household, IncomeRecord, Member
from tests import builders
from tests.builders import pid, standard_rows

pytestmark = pytest.mark.django_db


class Publishes:
    """Every publish of the test: whether it wrote, the statements it ran, the model objects it built;
    `before` runs just before each one (another user's work between the plan and the publish)."""

    def __init__(self) -> None:
        self.results: list[bool] = []
        self.statements: list[tuple[str, int]] = []  # (sql, parameter rows)
        self.built: list[str] = []
        self.before: Any = None

    def spy(self, real: Any) -> Any:
        def publish(plan: importer._Plan) -> bool:
            if self.before is not None:
                self.before(len(self.results))

            def record(execute, sql, params, many, context):
                self.statements.append((sql, len(params) if many else 1))
                return execute(sql, params, many, context)

            def built(sender, **_):
                self.built.append(sender.__name__)

            pre_init.connect(built, weak=False, dispatch_uid="h3-publish-spy")
            try:
                with connection.execute_wrapper(record):
                    written = real(plan)
            finally:
                pre_init.disconnect(dispatch_uid="h3-publish-spy")
            self.results.append(written)
            return written

        return publish


@pytest.fixture
def publishes(monkeypatch) -> Publishes:
    spy = Publishes()
    monkeypatch.setattr(importer._Plan, "publish", spy.spy(importer._Plan.publish))
    return spy


def test_the_publish_reads_no_register_row_and_builds_no_object(regions, tmp_path, publishes):
    rows = standard_rows()
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows), chunk_size=2)
    assert result.ok, result.problems
    assert publishes.results == [True]
    assert publishes.built == []
    selects = [sql for sql, _ in publishes.statements if sql.lstrip().upper().startswith("SELECT")]
    register = [sql for sql in selects if "registry_" in sql]
    # the data version only: the largest id and the count of each register table
    assert register and all("COALESCE(MAX(id), 0), COUNT(*)" in sql for sql in register), register
    written = {}
    for sql, count in publishes.statements:
        if sql.startswith("INSERT INTO"):
            table = sql.split('"')[1]
            written[table] = written.get(table, 0) + count
    # hand-counted: 3 households, 5 people, 3 income records; one create entry each
    assert written == {
        "registry_household": 3,
        "registry_member": 5,
        "registry_incomerecord": 3,
        "audit_auditentry": 11,
    }
    assert (Household.objects.count(), Member.objects.count(), IncomeRecord.objects.count()) == (3, 5, 3)
    assert audit.verify().ok


def test_an_unconfirmed_or_strictly_refused_import_decides_without_the_lock(regions, tmp_path, publishes):
    rows = standard_rows()
    rows[3]["家庭成员联系电话"] = "12345"  # a value fault: kept and listed, after confirmation
    path = builders.write_csv(tmp_path / "a.csv", rows)
    waiting = import_register(path, confirmed=False, chunk_size=2)
    assert waiting.needs_confirmation and not waiting.ok
    assert waiting.members.created == 5 and waiting.publish_seconds == 0
    assert publishes.results == [] and Member.objects.count() == 0
    # a person the register holds in another household is found only by the plan: strict refuses it
    assert import_register(builders.write_csv(tmp_path / "b.csv", standard_rows())).ok
    moved = [r for r in standard_rows() if r["户编号"] == "H003"]
    moved[1] = dict(moved[1], 姓名="李秀英", 证件号码=pid(22, dt.date(1972, 5, 3)), 出生日期="1972-05-03")
    refused = import_register(builders.write_csv(tmp_path / "c.csv", moved), strict=True)
    assert not refused.ok and [p.row for p in refused.problems] == [3]
    assert publishes.results == [True]  # only the second import's
    assert Member.objects.get(name="李秀英").household.household_no == "H001"


def _change_road(attempt: int) -> None:
    """A village cadre saves a household (audited) while the import plans."""
    household = Household.objects.get(household_no="H002")
    household.road_type = f"硬化路{attempt}"
    household.save()


def test_a_household_saved_between_plan_and_publish_is_kept_and_the_import_plans_again(
    register, tmp_path, publishes
):
    rows = standard_rows()
    rows[2]["户类型"] = "一般农户"  # H002's only row: a change the import makes
    publishes.before = lambda attempt: attempt == 0 and _change_road(attempt)
    result = import_register(builders.write_csv(tmp_path / "b.csv", rows), chunk_size=2)
    assert result.ok, result.problems
    assert publishes.results == [False, True]
    household = Household.objects.get(household_no="H002")
    assert (household.road_type, household.household_type) == ("硬化路0", "一般农户")
    assert (result.households.updated, result.households.unchanged) == (1, 2)
    assert AuditEntry.objects.filter(model="registry.Household", object_id=str(household.pk)).count() == 3
    assert audit.verify().ok


def test_when_every_plan_is_overtaken_the_transaction_writes_it_all_and_nothing_is_lost(
    register, tmp_path, publishes
):
    rows = standard_rows()
    rows[2]["户类型"] = "一般农户"
    publishes.before = _change_road
    result = import_register(builders.write_csv(tmp_path / "b.csv", rows), chunk_size=2)
    assert result.ok, result.problems
    assert publishes.results == [False, False]
    household = Household.objects.get(household_no="H002")
    assert (household.road_type, household.household_type) == ("硬化路1", "一般农户")
    assert (result.households.updated, result.members.unchanged) == (1, 5)
    assert audit.verify().ok


def test_an_unaudited_insert_between_plan_and_publish_also_makes_it_plan_again(regions, tmp_path, publishes):
    village = Region.objects.get(code=builders.VILLAGE_A1)

    def someone_inserts(attempt: int) -> None:
        if attempt == 0:  # takes the id the plan had given the first household
            fast_insert(Household, [Household(household_no="X1", region=village, region_code=village.code)])

    publishes.before = someone_inserts
    result = import_register(builders.write_csv(tmp_path / "a.csv", standard_rows()), chunk_size=2)
    assert result.ok and publishes.results == [False, True]
    assert Household.objects.count() == 4 and Member.objects.count() == 5
    assert audit.verify().ok


def test_logins_and_views_between_plan_and_publish_do_not_stop_the_plan(regions, tmp_path, publishes):
    def someone_logs_in(attempt: int) -> None:
        audit.record(Action.LOGIN, object_repr="cadre")
        audit.record(Action.SENSITIVE_READ, model="registry.Member", detail="查看完整证件号码")

    publishes.before = someone_logs_in
    result = import_register(builders.write_csv(tmp_path / "a.csv", standard_rows()))
    assert result.ok and publishes.results == [True]
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-13:-11] == ["login", "sensitive_read"] and actions[-11:] == ["create"] * 11
    assert audit.verify().ok


def test_reimporting_the_same_file_through_the_plan_changes_nothing(register, tmp_path, publishes):
    before = AuditEntry.objects.count()
    result = import_register(builders.write_csv(tmp_path / "same.csv", standard_rows()), chunk_size=2)
    assert result.ok and not result.changed
    assert (result.households.unchanged, result.members.unchanged, result.incomes.unchanged) == (3, 5, 3)
    assert AuditEntry.objects.count() == before and publishes.results == [True]


# --- the planned and the all-in-the-transaction ways write the same ---------------------------------


def _second_file(tmp_path: Path) -> Path:
    """Heads replaced across chunks, a head the file drops, a confirmed move, a person met twice, a
    household whose rows disagree, a damaged ID found by 人口编号, and no 人口数 column (income per
    capita divided by the members)."""
    rows = {r["姓名"]: r for r in _numbered(standard_rows())}
    h001 = [
        dict(rows["张建国"], 与户主关系="配偶"),
        dict(rows["王强"], 户编号="H001", 与户主关系="之子", 村="东关村", 乡="古绛镇"),  # moved from H002
        dict(rows["李秀英"], 与户主关系="户主"),  # the new head, two chunks after the old one's row
    ]
    h001 = [dict(r, 户类型="一般农户", 监测对象类别="", 户联系电话="13912345678") for r in h001]
    h003 = [dict(rows["赵小龙"], 与户主关系="户主")]  # 赵敏 is not listed: she steps down
    h004 = builders.family(
        "H004", builders.VILLAGE_B1, [("钱多", pid(61), "户主", "男"), ("钱少", pid(62), "之女", "女")]
    )
    h004[1]["户类型"] = "脱贫户"  # disagrees with its first row
    twice = dict(h004[0])  # the same person again
    out = [*h001, *h003, *h004, twice]
    return builders.write_csv(tmp_path / "second.csv", [_sizeless(r) for r in out])


def _sizeless(row: dict[str, object]) -> dict[str, object]:
    """No 人口数: per-capita income is divided by the members the register holds after the import."""
    row.pop("年度家庭人口数", None)
    return row


def _numbered(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    for i, row in enumerate(rows, start=1):
        row["人口编号"] = f"P{i:04d}"
    return rows


def _third_file(tmp_path: Path) -> Path:
    """赵小龙 twice: by his ID in the first chunk, then with the ID damaged by Excel in the second, found
    by his 人口编号 as the first chunk left him (planned: the database does not have that yet)."""
    rows = {r["姓名"]: r for r in _numbered(standard_rows())}
    out = [
        dict(rows["赵小龙"], 与户主关系="户主", 健康状况="残疾"),
        dict(rows["赵敏"], 与户主关系="之母"),
        dict(rows["张建国"], 与户主关系="配偶", 户类型="一般农户", 监测对象类别=""),
        dict(rows["赵小龙"], 证件号码="1.40826E+17", 与户主关系="户主", 在校生状况="在校"),
    ]
    return builders.write_csv(tmp_path / "third.csv", [_sizeless(r) for r in out])


def _state() -> dict[str, Any]:
    def rows(model: type) -> list[dict[str, Any]]:
        return [
            # times differ, and so does ciphertext (a fresh nonce each time): the hashes and masks compare
            {
                k: v
                for k, v in values.items()
                if k not in ("updated_at", "created_at") and not k.endswith("_enc")
            }
            for values in model.objects.order_by("id").values()
        ]

    def timeless(data: dict[str, Any] | None) -> str:
        return repr({k: v for k, v in data.items() if k != "created_at"} if data else data)

    entries = sorted(
        (e.action, e.model, e.object_id, e.household_id, e.region_code, timeless(e.before), timeless(e.after),
         e.detail)
        for e in AuditEntry.objects.all()
    )  # fmt: skip
    return {"households": rows(Household), "members": rows(Member), "incomes": rows(IncomeRecord),
            "entries": entries}  # fmt: skip


class Discard(Exception):
    pass


@contextmanager
def discarded():
    try:
        with transaction.atomic():
            yield
            raise Discard
    except Discard:
        pass


def _same_ids() -> None:
    """PostgreSQL's sequences ignore the rollback: both runs start them at the same value (SQLite's
    counters roll back with the rows)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Household, Member, IncomeRecord, AuditEntry):
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), 100000, false)", [model._meta.db_table]
            )


def _scenario(tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    _same_ids()
    first = builders.write_csv(tmp_path / "first.csv", [_sizeless(r) for r in _numbered(standard_rows())])
    results = []
    for path, moves in ((first, False), (_second_file(tmp_path), True), (_third_file(tmp_path), False)):
        result = import_register(path, chunk_size=2, allow_moves=moves)
        assert result.ok, result.problems
        summary = result.summary()
        summary.pop("check_seconds"), summary.pop("publish_seconds")
        results.append(summary | {"faults": sorted((f.row, f.column, f.kind) for f in result.faults)})
    assert audit.verify().ok
    return results, _state()


def test_the_plan_writes_what_the_transaction_alone_would(regions, tmp_path, publishes, monkeypatch):
    with discarded():
        planned = _scenario(tmp_path)
    assert publishes.results == [True, True, True]
    monkeypatch.setattr(importer, "PLAN_ATTEMPTS", 0)
    with discarded():
        direct = _scenario(tmp_path)
    assert publishes.results == [True, True, True]  # no plan the second time
    assert planned[0] == direct[0]
    for part in ("households", "members", "incomes", "entries"):
        assert planned[1][part] == direct[1][part], part
    # the figures themselves, hand-counted
    second = planned[0][1]
    assert second["households"] == {"created": 1, "updated": 2, "unchanged": 0}
    assert second["moves"] == 1
    members = {m["name"]: m for m in planned[1]["members"]}
    assert (members["李秀英"]["relation"], members["张建国"]["relation"], members["赵敏"]["relation"]) == (
        "户主", "配偶", "之母"
    )  # fmt: skip
    assert ("与户主关系", "head_replaced") in {(c, k) for _, c, k in second["faults"]}
    # the third file's damaged row finds 赵小龙 as its first chunk left him, and cannot be a second head
    zhao = members["赵小龙"]
    assert (zhao["relation"], zhao["health"]) == ("", "健康")
    assert any(
        e[:3] == ("update", "registry.Member", str(zhao["id"])) and "'health': '残疾'" in e[5]
        for e in planned[1]["entries"]
    )
    assert (5, "与户主关系", "extra_head") in planned[0][2]["faults"]
    h001 = next(h for h in planned[1]["households"] if h["household_no"] == "H001")
    assert members["王强"]["household_id"] == h001["id"]
    income = next(i for i in planned[1]["incomes"] if i["household_id"] == h001["id"])
    assert income["divisor_size"] == 3
