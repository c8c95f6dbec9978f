"""The rectification ledger: import of a finding list, the status flow and who may do each step,
returned items, evidence before 申请销号, scoping, the export layout, the 清零 figure."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.audit.models import AuditEntry
from fangpin.jobs.models import Job, Kind
from fangpin.rectification import actions
from fangpin.rectification.exporter import export_ledger
from fangpin.rectification.importer import import_list
from fangpin.rectification.models import Batch, Event, Item, Status
from fangpin.regions.models import Region
from tests import builders

pytestmark = pytest.mark.django_db

LIST = [
    {"序号": 1, "问题描述": "部分监测户帮扶措施与风险类型不匹配", "问题类别": "帮扶措施", "涉及乡镇": "古绛镇", "涉及村": "",
     "牵头单位": "古绛镇人民政府", "责任人": "王镇长", "完成时限": "2026年12月31日", "整改措施": "逐户核对，补齐措施",
     "关联规则": "DQ_MEASURE_FOR_ILLNESS"},
    {"序号": 2, "问题描述": "横水镇柳庄村1户脱贫户住危房未纳入监测", "问题类别": "应纳未纳", "涉及乡镇": "横水镇",
     "涉及村": "柳庄村", "牵头单位": "横水镇人民政府", "责任人": "李书记", "完成时限": "2026-01-15", "整改措施": "入户核实"},
    {"序号": 3, "问题描述": "全县数据比对机制不健全", "问题类别": "工作机制", "涉及乡镇": "", "涉及村": "",
     "牵头单位": "县农业农村局", "责任人": "张局长", "完成时限": "2027/3/1", "整改措施": "建立月度比对制度"},
]  # fmt: skip


@pytest.fixture
def batch(county_staff, tmp_path):
    batch = actions.create_batch(user=county_staff, name="2024年省督导组反馈问题", source="supervision",
                                 region=county_staff.region)  # fmt: skip
    path = builders.write_xlsx(tmp_path / "清单.xlsx", LIST, titles=("省督导组反馈问题清单",))
    result = import_list(user=county_staff, batch=batch, path=str(path))
    assert result.ok, [str(p) for p in result.problems]
    return batch


def evidence():
    return SimpleUploadedFile("整改照片.jpg", b"\xff\xd8\xff fake jpeg")


def test_an_inspectors_list_is_imported_with_synonyms_regions_and_dates(batch):
    items = list(batch.items.order_by("number"))
    assert [i.region.name for i in items] == ["古绛镇", "柳庄村", "绛县"]
    assert items[0].responsible_unit == "古绛镇人民政府" and items[0].deadline == dt.date(2026, 12, 31)
    assert items[0].rule_id == "DQ_MEASURE_FOR_ILLNESS" and items[1].deadline == dt.date(2026, 1, 15)
    assert all(i.status == Status.PENDING for i in items)
    assert Event.objects.filter(kind=Event.Kind.CREATED).count() == 3


def test_a_bad_list_is_refused_row_by_row_and_nothing_is_written(county_staff, tmp_path):
    batch = actions.create_batch(
        user=county_staff, name="审计反馈", source="audit", region=county_staff.region
    )
    rows = [dict(r) for r in LIST]
    rows[0]["完成时限"] = "明年"
    rows[1]["涉及乡镇"] = "不存在镇"
    rows[2]["牵头单位"] = ""
    result = import_list(
        user=county_staff, batch=batch, path=str(builders.write_csv(tmp_path / "b.csv", rows))
    )
    assert not result.ok
    assert {(p.row, p.column) for p in result.problems} == {(2, "整改时限"), (3, "乡镇"), (4, "责任单位")}
    assert not Item.objects.exists()


def test_the_whole_flow_from_township_work_to_county_closure_moves_the_cleared_figure(
    batch, township_reviewer, county_staff
):
    item = batch.items.get(number=1)  # 古绛镇: the township's own item
    assert actions.ledger_counts(batch.items.all())["cleared_percent"] == 0.0
    actions.report_progress(user=township_reviewer, item=item, note="已核对12户")
    assert item.status == Status.IN_PROGRESS and "已核对12户" in item.progress
    with pytest.raises(ValidationError, match="佐证材料"):
        actions.apply_for_closure(user=township_reviewer, item=item, result="已全部补齐")
    actions.report_progress(user=township_reviewer, item=item, note="", upload=evidence())
    actions.apply_for_closure(user=township_reviewer, item=item, result="已全部补齐")
    with pytest.raises(PermissionDenied):
        actions.close(user=township_reviewer, item=item)  # only the owning level 销号
    actions.close(user=county_staff, item=item, note="核查属实")
    item.refresh_from_db()
    assert item.status == Status.CLOSED and item.closed_at is not None
    assert actions.ledger_counts(batch.items.all())["cleared_percent"] == pytest.approx(33.3)
    assert AuditEntry.objects.filter(
        model="rectification.Item", action="update", object_id=str(item.pk)
    ).exists()


def test_a_returned_item_goes_back_to_work_with_its_reason(batch, township_reviewer, county_staff):
    item = batch.items.get(number=1)
    actions.report_progress(user=township_reviewer, item=item, note="完成", upload=evidence())
    actions.apply_for_closure(user=township_reviewer, item=item, result="完成")
    with pytest.raises(ValidationError, match="理由"):
        actions.return_item(user=county_staff, item=item, reason="")
    actions.return_item(user=county_staff, item=item, reason="佐证材料不能说明措施已落实")
    assert item.status == Status.IN_PROGRESS
    assert item.events.filter(kind=Event.Kind.RETURNED, note__contains="佐证材料").exists()


def test_a_township_cannot_work_on_another_townships_item(batch, township_reviewer):
    other = batch.items.get(number=2)  # 横水镇
    with pytest.raises(PermissionDenied):
        actions.report_progress(user=township_reviewer, item=other, note="x")


def test_the_ledger_is_scoped_and_the_county_batch_shows_only_the_townships_items(
    client, batch, township_reviewer, other_village_cadre
):
    client.force_login(township_reviewer)
    page = client.get(reverse("rectification:batch", args=[batch.pk])).content.decode()
    assert "部分监测户帮扶措施" in page and "柳庄村1户" not in page and "数据比对机制" not in page
    other = batch.items.get(number=2)
    assert client.get(reverse("rectification:item", args=[other.pk])).status_code == 404
    client.force_login(other_village_cadre)  # 柳庄村 sees its item, not 古绛镇's
    page = client.get(reverse("rectification:batch", args=[batch.pk])).content.decode()
    assert "柳庄村1户" in page and "部分监测户帮扶措施" not in page


def test_department_officers_see_no_ledger(client, batch, department_officer):
    client.force_login(department_officer)
    assert client.get(reverse("rectification:ledger")).status_code == 403


def test_the_export_has_the_layout_units_hand_in_and_is_scoped(
    batch, township_reviewer, county_staff, tmp_path
):
    export_ledger(tmp_path / "county.xlsx", user=county_staff, batch=batch)
    sheet = openpyxl.load_workbook(tmp_path / "county.xlsx").active
    assert sheet["A1"].value == "2024年省督导组反馈问题整改台账"
    assert [c.value for c in sheet[3]] == ["序号", "问题描述", "责任单位", "责任人", "整改措施", "整改时限", "整改进展",
                                          "完成情况", "销号时间"]  # fmt: skip
    assert [sheet.cell(row=r, column=1).value for r in (4, 5, 6)] == [1, 2, 3]
    export_ledger(tmp_path / "township.xlsx", user=township_reviewer, batch=batch)
    rows = [
        r
        for r in openpyxl.load_workbook(tmp_path / "township.xlsx").active.iter_rows(
            min_row=4, values_only=True
        )
        if r[0]
    ]
    assert [r[0] for r in rows if isinstance(r[0], int)] == [1]


def test_the_browserless_flow_through_the_pages(client, batch, township_reviewer, county_staff):
    item = batch.items.get(number=1)
    client.force_login(township_reviewer)
    client.post(reverse("rectification:progress", args=[item.pk]), {"note": "正在核对", "file": evidence()})
    client.post(reverse("rectification:apply", args=[item.pk]), {"result": "已补齐措施"})
    item.refresh_from_db()
    assert item.status == Status.APPLIED
    page = client.get(reverse("rectification:item", args=[item.pk])).content.decode()
    assert "review-form" not in page and "整改照片.jpg" in page
    client.force_login(county_staff)
    client.post(reverse("rectification:review", args=[item.pk]), {"decision": "close", "note": "同意"})
    item.refresh_from_db()
    assert item.status == Status.CLOSED
    ledger = client.get(reverse("rectification:ledger")).content.decode()
    assert "33.3%" in ledger


def test_a_list_goes_through_the_mapping_step_and_creates_its_batch_or_nothing(
    client, county_staff, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(county_staff)
    rows = [dict(r) for r in LIST]
    for row in rows:
        row["需整改的具体问题"] = row.pop("问题描述")  # no synonym: the clerk maps it by hand
    rows[1]["完成时限"] = "尽快"
    bad = builders.write_xlsx(tmp_path / "bad.xlsx", rows).read_bytes()
    mapping_url = reverse("rectification:list_mapping")

    def post(url, data):  # the worker reads the list (header, then rows): never the web request
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, data)
        job = Job.objects.order_by("-id").first()
        assert response.url == reverse("jobs:detail", args=[job.pk])
        return job, client.get(response.url).content.decode()

    job, page = post(reverse("rectification:new_batch"), {"name": "纪检反馈", "source": "discipline",
                                                         "file": SimpleUploadedFile("bad.xlsx", bad)})  # fmt: skip
    assert job.kind == Kind.READ_HEADER and f'href="{mapping_url}"' in page
    page = client.get(mapping_url).content.decode()
    assert "问题描述（必需）" in page and 'value="完成时限" selected' in page
    mapping = {"number": "序号", "description": "需整改的具体问题", "category": "问题类别", "township": "涉及乡镇",
               "village": "涉及村", "responsible_unit": "牵头单位", "responsible_person": "责任人",
               "deadline": "完成时限", "measures": "整改措施", "rule_id": "关联规则"}  # fmt: skip
    job, page = post(mapping_url, mapping)
    assert job.kind == Kind.IMPORT_LIST and job.status == "rejected"
    assert "未通过校验" in page and "尽快" in page and not Batch.objects.exists()
    rows[1]["完成时限"] = "2027-06-30"
    good = builders.write_xlsx(tmp_path / "good.xlsx", rows).read_bytes()
    post(reverse("rectification:new_batch"), {"name": "纪检反馈", "source": "discipline",
                                              "file": SimpleUploadedFile("good.xlsx", good)})  # fmt: skip
    job, page = post(mapping_url, mapping)
    batch = Batch.objects.get()
    assert job.status == "succeeded" and reverse("rectification:batch", args=[batch.pk]) in page
    assert client.get(mapping_url).url == reverse("jobs:detail", args=[job.pk])  # never imported twice
    assert batch.items.count() == 3 and batch.items.get(number=1).description.startswith("部分监测户")
    assert Region.objects.get(code=builders.COUNTY) == batch.region


def test_overdue_items_surface_on_the_home_page_of_the_responsible_users(
    client, batch, other_village_cadre, township_reviewer, time_machine
):
    time_machine.move_to(dt.datetime(2026, 2, 1, tzinfo=dt.UTC))  # item 2 (柳庄村) was due 2026-01-15
    client.force_login(other_village_cadre)
    page = client.get(reverse("home")).content.decode()
    assert "逾期未销号的整改问题" in page and "柳庄村1户" in page
    client.force_login(township_reviewer)  # 古绛镇's item is not overdue yet
    assert "overdue-items" not in client.get(reverse("home")).content.decode()


def test_ju_yi_fan_san_links_every_case_the_rule_finds_in_scope_and_proposes_closure_once_fixed(
    register, county_staff, township_reviewer
):
    from fangpin.registry.models import Member
    from fangpin.rules.actions import run_screening

    Member.objects.filter(name__in=["张建国", "王强", "赵敏"]).update(
        gender="女"
    )  # wrong in H001, H002; 赵敏 is right
    batch = actions.create_batch(
        user=county_staff, name="自查问题", source="self", region=county_staff.region
    )
    item = actions.add_item(user=county_staff, batch=batch, description="性别与证件号码不符", region=county_staff.region,
                            responsible_unit="县农业农村局", deadline=dt.date(2026, 12, 31), rule_id="DQ_GENDER_ID")  # fmt: skip
    town_item = actions.add_item(user=county_staff, batch=batch, description="古绛镇同类问题",
                                 region=township_reviewer.region, responsible_unit="古绛镇", deadline=dt.date(2026, 12, 31),
                                 rule_id="DQ_GENDER_ID")  # fmt: skip
    assert (
        actions.extend_to_scope(user=township_reviewer, item=town_item) == 2
    )  # H001 and H002 are both 古绛镇
    assert actions.extend_to_scope(user=county_staff, item=item) == 2
    assert set(item.households.values_list("household_no", flat=True)) == {"H001", "H002"}
    assert item.events.filter(kind=Event.Kind.LINKED).exists()
    assert actions.proposed_closure(item) == ""
    Member.objects.filter(name__in=["张建国", "王强"]).update(gender="男")  # corrected at the source
    run = run_screening()
    proposal = actions.proposed_closure(item)
    assert proposal.startswith("建议销号") and f"#{run.pk}" in proposal and "2户" in proposal


def test_the_county_enters_an_item_by_hand_and_sees_counts_by_region(
    client, batch, county_staff, township_reviewer
):
    client.force_login(county_staff)
    client.post(reverse("rectification:add_item", args=[batch.pk]), {
        "description": "东关村公示栏未张贴监测户公示", "region": builders.VILLAGE_A1, "responsible_unit": "古绛镇人民政府",
        "deadline": "2027-01-31", "rule_id": "",
    })  # fmt: skip
    item = batch.items.get(description__startswith="东关村")
    assert item.number == 4 and item.region.code == builders.VILLAGE_A1
    page = client.get(reverse("rectification:batch", args=[batch.pk])).content.decode()
    assert 'id="by-region"' in page and "古绛镇" in page and "横水镇" in page
    client.force_login(township_reviewer)
    assert client.post(reverse("rectification:add_item", args=[batch.pk]), {}).status_code == 403


def test_a_corrupt_or_non_table_list_is_refused_with_a_message_not_an_error_page(client, county_staff):
    client.force_login(county_staff)
    for name, content, said in (
        ("l.xlsx", b"PK\x03\x04 not a workbook", "已损坏"),
        ("l.pdf", b"%PDF-1.4", "请上传"),
    ):
        response = client.post(reverse("rectification:new_batch"), {"name": "x", "source": "self",
                                                                     "file": SimpleUploadedFile(name, content)})  # fmt: skip
        assert response.status_code == 200
        assert said in response.content.decode()
    assert not Batch.objects.exists()
