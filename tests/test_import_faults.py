"""Faults of values the national system holds: imported, listed, never guessed; people never moved silently."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.audit.models import AuditEntry
from fangpin.common.crypto import cipher
from fangpin.registry import vocabularies
from fangpin.registry.columns import ALL_COLUMNS
from fangpin.registry.importer import import_register
from fangpin.registry.models import Household, Member
from tests import builders
from tests.builders import pid, standard_rows

pytestmark = pytest.mark.django_db


def test_a_person_already_registered_in_another_household_is_listed_and_not_moved(register, tmp_path):
    # a later file holds 李秀英 (of H001) as a member of H003
    rows = [r for r in standard_rows() if r["户编号"] == "H003"]
    moved = dict(
        rows[1], 姓名="李秀英", 证件号码=pid(22, builders.dt.date(1972, 5, 3)), 出生日期="1972-05-03"
    )
    moved["与户主关系"], moved["性别"] = "之母", "女"
    result = import_register(builders.write_csv(tmp_path / "later.csv", [*rows, moved]))
    assert result.ok, result.problems
    assert [(f.row, f.kind) for f in result.faults] == [(4, "duplicate_person")]
    li = Member.objects.get(name="李秀英")
    assert li.household.household_no == "H001"
    assert li.value_faults["重复人员"] == {"kind": "duplicate_person", "shown": "户编号H003（第4行）"}


def test_a_confirmed_move_is_recorded_in_the_audit_log_and_clears_the_duplicate(register, tmp_path):
    rows = [r for r in standard_rows() if r["户编号"] == "H003"]
    moved = dict(
        rows[1], 姓名="李秀英", 证件号码=pid(22, builders.dt.date(1972, 5, 3)), 出生日期="1972-05-03"
    )
    moved["与户主关系"], moved["性别"] = "之母", "女"
    path = builders.write_csv(tmp_path / "later.csv", [*rows, moved])
    import_register(path)
    result = import_register(path, allow_moves=True)
    assert result.ok and result.moves == 1
    li = Member.objects.get(name="李秀英")
    assert li.household.household_no == "H003" and "重复人员" not in li.value_faults
    entry = AuditEntry.objects.filter(
        model="registry.Member", object_id=str(li.pk), detail__contains="迁移"
    ).get()
    assert "household_id" in entry.after


def test_a_later_correct_file_clears_the_faults_its_columns_showed(regions, tmp_path):
    rows = standard_rows()
    rows[3]["家庭成员联系电话"] = "12345"
    import_register(builders.write_csv(tmp_path / "a.csv", rows))
    assert Member.objects.get(name="赵敏").value_faults
    rows[3]["家庭成员联系电话"] = "13700002222"
    assert import_register(builders.write_csv(tmp_path / "b.csv", rows)).ok
    assert Member.objects.get(name="赵敏").value_faults == {}


def test_none_words_in_a_post_or_measure_column_mean_none_and_synonyms_read_as_one_value(regions, tmp_path):
    rows = standard_rows()
    for row, post in zip(rows, ["否", "无", "—", "", "护林员"], strict=True):
        row["公益性岗位"] = post
    rows[2]["户类型"] = "普通农户"
    rows[0]["是否危房户"] = rows[1]["是否危房户"] = "×"
    rows[4]["健康帮扶"] = "无"
    result = import_register(builders.write_csv(tmp_path / "a.csv", rows))
    assert result.ok and not result.faults, result.faults
    posts = dict(Member.objects.values_list("name", "public_welfare_post"))
    assert posts == {"张建国": "", "李秀英": "", "王强": "", "赵敏": "", "赵小龙": "护林员"}
    assert Household.objects.get(household_no="H002").household_type == "一般农户"
    assert Household.objects.get(household_no="H001").dangerous_house is False
    assert Household.objects.get(household_no="H003").measures == {}


ENUMERATED = {
    "证件类型": ("居民身份证", "身份证"),
    "与户主关系": ("妻", "配偶"),
    "性别": ("1", "男"),
    "文化程度": ("文盲", "文盲或半文盲"),
    "在校生状况": ("初中二年级", "八年级"),
    "健康状况": ("长期慢性病患者", "长期慢性病"),
    "劳动技能": ("半劳动力", "弱劳动力或半劳动力"),
    "公益性岗位": ("无", ""),
    "义务教育阶段未上学原因": ("—", ""),
    "户类型": ("普通农户", "一般农户"),
    "监测对象类别": ("突发严重困难户（监测对象）", "突发严重困难户"),
    "风险消除方式": ("帮扶消除", "帮扶消除"),
    "实施开发式帮扶措施情况": ("否", ""),
    **{f"致贫/返贫风险{i}": ("务工就业不稳", "因务工就业不稳") for i in range(1, 6)},
}


@pytest.mark.parametrize("label", sorted(ENUMERATED))
def test_each_enumerated_column_reads_its_vocabulary_and_keeps_unknown_words_out(label):
    column = next(c for c in ALL_COLUMNS if c.label == label)
    vocabulary = vocabularies.VOCABULARIES[column.target]
    spelled, canonical = ENUMERATED[label]
    assert vocabulary.read(spelled) == (canonical, True)
    assert vocabulary.read("") == ("", True)
    if vocabulary.values:
        assert vocabulary.read("火星人") == ("", False)
        assert all(vocabulary.read(v) == (v, True) for v in vocabulary.values)


def test_every_enumerated_and_yes_no_column_of_the_layouts_has_a_vocabulary():
    for column in ALL_COLUMNS:
        if column.kind == "enum":
            assert column.target in vocabularies.VOCABULARIES, column.label


@pytest.mark.parametrize(
    ("text", "expected"),
    [("是", True), ("√", True), ("Y", True), ("1", True), ("有", True), ("否", False), ("×", False),
     ("N", False), ("0", False), ("无", False), ("", None), ("不清楚", None)],
)  # fmt: skip
def test_yes_no_columns_read_every_spelling_and_empty_is_unknown(text, expected):
    value, known = vocabularies.read_yes_no(text)
    assert value is expected and known == (text != "不清楚")


def test_a_message_never_quotes_a_long_number_typed_into_a_word_column():
    assert vocabularies.shown("140826197001010011") == "140*************11"
    assert vocabularies.shown("13912345678") == "139******78"


# --- the check before the commit, as a job ------------------------------------------------------


def _faulty_upload(tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = standard_rows()
    for i, row in enumerate(rows, start=1):
        row["人口编号"] = f"P{i:04d}"
    rows[0]["证件号码"] = "1.40826E+17"
    rows[3]["家庭成员联系电话"] = "12345"
    path = builders.write_csv(tmp_path / "a.csv", rows)
    return SimpleUploadedFile("户成员信息.csv", path.read_bytes())


def test_an_upload_with_faults_waits_for_confirmation_then_imports_whole(
    client, regions, county_staff, tmp_path
):
    from django.urls import reverse

    from fangpin.jobs.actions import run_job
    from fangpin.registry.actions import queue_import

    client.force_login(county_staff)
    job = queue_import(user=county_staff, upload=_faulty_upload(tmp_path), year=None)
    job = run_job(job.pk)
    assert job.status == "awaiting" and Member.objects.count() == 0
    assert {f["kind"]: f["count"] for f in job.summary["faults"]} == {
        "id_excel_number": 1,
        "phone_invalid": 1,
    }
    assert job.result_name.endswith("数据疑点说明.xlsx")
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "确认导入" in page and "证件号码被Excel存成数字" in page and "待确认" in page
    response = client.post(reverse("registry:confirm_import", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "queued" and job.params["confirmed"]
    job = run_job(job.pk)
    assert job.status == "succeeded" and Member.objects.count() == 5
    assert "2处数据疑点已按原值导入" in job.message


def test_a_strict_upload_refuses_value_faults_and_nobody_confirms_another_users_import(
    client, regions, county_staff, county_admin, tmp_path
):
    from django.urls import reverse

    from fangpin.jobs.actions import run_job
    from fangpin.registry.actions import queue_import

    strict = run_job(
        queue_import(user=county_staff, upload=_faulty_upload(tmp_path), year=None, strict=True).pk
    )
    assert strict.status == "rejected" and Member.objects.count() == 0
    waiting = run_job(queue_import(user=county_staff, upload=_faulty_upload(tmp_path), year=None).pk)
    client.force_login(county_admin)
    assert client.post(reverse("registry:confirm_import", args=[waiting.pk])).status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == "awaiting"


# --- 证件号码待修正 ------------------------------------------------------------------------------


@pytest.fixture
def damaged(regions, tmp_path):
    rows = standard_rows()
    for i, row in enumerate(rows, start=1):
        row["人口编号"] = f"P{i:04d}"
    rows[0]["证件号码"] = "1.40826E+17"  # 张建国, 东关村
    rows[3]["证件号码"] = "1.40826E+17"  # 赵敏, 柳庄村
    assert import_register(builders.write_csv(tmp_path / "a.csv", rows)).ok
    return Member.objects.get(name="张建国"), Member.objects.get(name="赵敏")


def test_a_village_lists_only_its_own_ids_to_correct_and_corrects_one_from_the_household_book(
    client, damaged, village_cadre
):
    from django.urls import reverse

    zhang, zhao = damaged
    client.force_login(village_cadre)
    page = client.get(reverse("registry:id_corrections")).content.decode()
    assert "张建国" in page and "赵敏" not in page and "被Excel存成数字" in page
    assert (
        client.post(reverse("registry:correct_id", args=[zhao.pk]), {"id_number": pid(42)}).status_code == 404
    )
    wrong = client.post(
        reverse("registry:correct_id", args=[zhang.pk]), {"id_number": pid(11)[:17] + "Y"}, follow=True
    )
    assert "证件号码" in wrong.content.decode() and Member.objects.get(pk=zhang.pk).value_faults
    taken = client.post(
        reverse("registry:correct_id", args=[zhang.pk]),
        {"id_number": pid(22, builders.dt.date(1972, 5, 3))},
        follow=True,
    )
    assert "已登记在另一人名下" in taken.content.decode()
    done = client.post(reverse("registry:correct_id", args=[zhang.pk]), {"id_number": pid(11)}, follow=True)
    assert "已更正张建国" in done.content.decode()
    zhang.refresh_from_db()
    assert zhang.id_number_hash == cipher().digest(pid(11), "id") and zhang.value_faults == {}
    entry = AuditEntry.objects.filter(
        model="registry.Member", object_id=str(zhang.pk), action="update"
    ).latest("id")
    assert entry.after["id_number_masked"] == zhang.id_number_masked and pid(11) not in str(entry.after)
    assert "张建国" not in client.get(reverse("registry:id_corrections")).content.decode()


def test_a_corrected_id_survives_the_next_import_of_the_damaged_export_and_its_finding_clears(
    damaged, county_staff, tmp_path
):
    from fangpin.registry.actions import correct_id
    from fangpin.rules.actions import run_screening
    from fangpin.rules.catalogue import load_catalogue
    from fangpin.rules.models import Finding

    zhang, _ = damaged
    rules = [r for r in load_catalogue() if r.id == "DQ_ID_EXCEL_DAMAGED"]
    run_screening(rules=rules)
    assert Finding.objects.filter(rule_id="DQ_ID_EXCEL_DAMAGED", status="open").count() == 2
    correct_id(user=county_staff, member=zhang, id_number=pid(11))
    rows = standard_rows()
    for i, row in enumerate(rows, start=1):
        row["人口编号"] = f"P{i:04d}"
    rows[0]["证件号码"] = rows[3]["证件号码"] = "1.40826E+17"
    assert import_register(builders.write_csv(tmp_path / "again.csv", rows)).ok
    assert Member.objects.count() == 5
    zhang.refresh_from_db()
    assert zhang.id_number_hash == cipher().digest(pid(11), "id")
    run_screening(rules=rules)
    open_findings = Finding.objects.filter(rule_id="DQ_ID_EXCEL_DAMAGED", status="open")
    assert [f.member.name for f in open_findings] == ["赵敏"]


def test_a_csv_damaged_past_its_header_is_refused_with_the_line_and_nothing_is_written(regions, tmp_path):
    rows = []
    for n in range(8):  # 40 rows: the damage lies past the rows the header search reads
        for row in standard_rows():
            rows.append(
                dict(row, 户编号=f"{row['户编号']}-{n}", 证件号码=pid(100 + len(rows), dt.date(1975, 1, 1)))
            )
    path = builders.write_csv(tmp_path / "a.csv", rows, encoding="gbk")
    data = path.read_bytes().split(b"\r\n")
    data[29] = data[29] + b"\xff"
    path.write_bytes(b"\r\n".join(data))
    for parallel in (False, True):
        result = import_register(path, parallel=parallel, chunk_size=4)
        assert not result.ok and "第30行" in result.problems[-1].message, result.problems
        assert Member.objects.count() == 0
