"""Issue 10, second slice: the 一键报送 clue form from the phone (a Clue through report_clue, never a
conflict) and the village resolving a visit kept as a conflict (采用 through record_visit, or 不采用 with a
reason; once, in scope, audited)."""

# ruff: noqa: F811 (the fixtures cadre and issued come from test_field_openrosa)
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from fangpin.audit.models import AuditEntry
from fangpin.field import actions, entities
from fangpin.field.models import FieldConflict, FieldSubmission
from fangpin.monitoring.models import Attachment, Clue, Visit
from fangpin.registry.models import Household
from tests.test_field_openrosa import (  # noqa: F401 (fixtures)
    JPEG,
    LIST_NS,
    MANIFEST_NS,
    XF,
    base,
    cadre,
    households_csv,
    issued,
    post,
    visit_values,
)

pytestmark = pytest.mark.django_db


def instance_of(client, token: str, form_id: str, **values: str) -> bytes:
    """A filled instance of the served XForm `form_id`, as Collect would send it."""
    form = etree.fromstring(client.get(f"{base(token)}/forms/{form_id}.xml").content)
    data = form.find(f".//{{{XF}}}instance/{{{XF}}}data")
    root = etree.Element("data", id=data.get("id"), version=data.get("version"))
    for child in data:
        name = etree.QName(child).localname
        element = etree.SubElement(root, name)
        if name == "meta":
            etree.SubElement(element, "instanceID").text = values.get("instanceID", "uuid:0001")
        else:
            element.text = values.get(name, "")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def team_token(register, village_cadre):
    """The Collect token of 东关村's village team (who may register a clue)."""
    return actions.issue_token(user=village_cadre)[1]


def test_the_village_team_gets_all_forms_with_their_hashes_and_manifests(team_token, client, issued):
    response = client.get(f"{base(team_token)}/formList")
    forms = etree.fromstring(response.content).findall(f"{{{LIST_NS}}}xform")
    assert [(f.findtext(f"{{{LIST_NS}}}formID"), f.findtext(f"{{{LIST_NS}}}name")) for f in forms] == [
        ("fangpin_visit", "入户走访"), ("fangpin_clue", "一键报送"), ("fangpin_verify", "入户核查"),
    ]  # fmt: skip
    lists = {}
    for form in forms:
        xml = client.get(form.findtext(f"{{{LIST_NS}}}downloadUrl").replace("http://testserver", "")).content
        assert form.findtext(f"{{{LIST_NS}}}hash") == "md5:" + hashlib.md5(xml).hexdigest()
        manifest = etree.fromstring(
            client.get(form.findtext(f"{{{LIST_NS}}}manifestUrl").replace("http://testserver", "")).content
        )
        media_files = manifest.findall(f"{{{MANIFEST_NS}}}mediaFile")
        lists[form.findtext(f"{{{LIST_NS}}}formID")] = [
            m.findtext(f"{{{MANIFEST_NS}}}filename") for m in media_files
        ]
        for media in media_files:
            data = client.get(
                media.findtext(f"{{{MANIFEST_NS}}}downloadUrl").replace("http://testserver", "")
            )
            assert data.status_code == 200
            assert media.findtext(f"{{{MANIFEST_NS}}}hash") == "md5:" + hashlib.md5(data.content).hexdigest()
    assert lists == {"fangpin_visit": ["households.csv"], "fangpin_clue": ["households.csv"],
                     "fangpin_verify": ["households.csv", "clues.csv"]}  # fmt: skip
    # a list the form does not read is not served under it
    assert client.get(f"{base(team_token)}/forms/fangpin_visit/clues.csv").status_code == 404
    clue_form = etree.fromstring(client.get(f"{base(team_token)}/forms/fangpin_clue.xml").content)
    binds = {b.get("nodeset"): b for b in clue_form.iter(f"{{{XF}}}bind")}
    assert binds["/data/summary"].get("required") == "true()" and "/data/household_version" not in binds
    # a 帮扶责任人 reports what they find at the door (干部排查) too: their phone has both forms, not the
    # 入户核查 (verify_clue is the village's and the township's)
    _, token = issued
    forms = etree.fromstring(client.get(f"{base(token)}/formList").content).findall(f"{{{LIST_NS}}}xform")
    assert [f.findtext(f"{{{LIST_NS}}}formID") for f in forms] == ["fangpin_visit", "fangpin_clue"]
    paired = entities.field_households(issued[0].user).first()
    xml = instance_of(client, token, "fangpin_clue", instanceID="uuid:c0", household=str(paired.pk),
                      summary="务工收入中断")  # fmt: skip
    assert post(client, token, xml).status_code == 201
    assert Clue.objects.get().reported_by == issued[0].user


def test_a_clue_from_the_phone_is_a_clue_with_provenance_and_never_a_conflict(
    team_token, client, village_cadre
):
    h001 = Household.objects.get(household_no="H001")
    h001.dangerous_house = True  # the facts changed since the phone synced: no matter for a clue
    h001.save()
    xml = instance_of(client, team_token, "fangpin_clue", instanceID="uuid:c1", household=str(h001.pk),
                      summary="户主务工受伤，收入中断", deviceid="collect:team1", location="35.49 111.57 560 5")  # fmt: skip
    response = post(client, team_token, xml, ("伤情.jpg", JPEG))
    assert response.status_code == 201 and "线索已报送" in response.content.decode()
    clue = Clue.objects.get()
    assert (clue.household, clue.source, clue.summary, clue.reported_by, clue.status) == (
        h001, "cadre", "户主务工受伤，收入中断", village_cadre, Clue.Status.PENDING,
    )  # fmt: skip
    submission = FieldSubmission.objects.get(instance_id="uuid:c1")
    assert (submission.clue, submission.visit, submission.status) == (clue, None, "applied")
    assert (submission.device_id, submission.gps, submission.form_id) == (
        "collect:team1", "35.49 111.57 560 5", "fangpin_clue",
    )  # fmt: skip
    assert not FieldConflict.objects.exists() and not Visit.objects.exists()
    assert [a.name for a in Attachment.objects.filter(clue=clue)] == ["伤情.jpg"]
    entry = AuditEntry.objects.get(model="monitoring.Clue", object_id=str(clue.pk), action="create")
    assert (entry.username, entry.source, entry.household_id) == ("village_a1", "field", h001.pk)
    # Collect sending again: one clue, the late photo added to it; other XML under the same id is 409
    assert post(client, team_token, xml).status_code == 201
    assert post(client, team_token, xml, ("补拍.jpg", JPEG)).status_code == 201
    assert Clue.objects.count() == 1 and FieldSubmission.objects.count() == 1
    assert sorted(Attachment.objects.filter(clue=clue).values_list("name", flat=True)) == [
        "伤情.jpg",
        "补拍.jpg",
    ]
    changed = instance_of(client, team_token, "fangpin_clue", instanceID="uuid:c1", household=str(h001.pk),
                          summary="改过的")  # fmt: skip
    assert post(client, team_token, changed).status_code == 409
    assert Clue.objects.get().summary == "户主务工受伤，收入中断"
    # an empty summary is refused as the web form refuses it, and nothing is kept
    empty = instance_of(client, team_token, "fangpin_clue", instanceID="uuid:c2", household=str(h001.pk))
    assert post(client, team_token, empty).status_code == 400
    assert Clue.objects.count() == 1 and not FieldSubmission.objects.filter(instance_id="uuid:c2").exists()


@pytest.fixture
def conflict(issued, client):
    """The 帮扶责任人's visit of H001 with a photo, sent after the village changed H001's 是否危房户."""
    _, token = issued
    h001 = Household.objects.get(household_no="H001")
    version = households_csv(client, token)[0]["__version"]
    h001.dangerous_house = True
    h001.save()
    xml = instance_of(client, token, "fangpin_visit", instanceID="uuid:k1",
                      **visit_values(h001, version, changes_note="儿子外出务工", photo="现场.jpg"))  # fmt: skip
    assert post(client, token, xml, ("现场.jpg", JPEG)).status_code == 201
    return FieldConflict.objects.get()


def test_the_conflict_page_shows_both_sides_inside_the_scope_only(
    conflict, client, village_cadre, other_village_cadre, cadre
):
    url = reverse("field:conflicts")
    client.force_login(village_cadre)
    index = client.get(reverse("field:index")).content.decode()
    assert 'id="conflicts-link"' in index and "1 条待处理" in index
    page = client.get(url).content.decode()
    assert f'id="conflict-{conflict.pk}"' in page
    # the phone's answers in the form's labels, the photo as a scoped link
    for text in ("走访日期", "2026-03-02", "家庭情况变化", "儿子外出务工", "走访记录", "入户了解务工情况",
                 "collect:abc123", reverse("field:conflict_photo", args=[conflict.pk, 0])):  # fmt: skip
        assert text in page, text
    # and what changed since the phone's copy, as the household's history page says it
    assert "是否危房户：否 → 是" in page, page
    # the two versions as the times of the register changes they include, never audit sequence numbers
    synced = AuditEntry.objects.get(seq=int(conflict.submitted_version)).at
    assert f"截至{timezone.localtime(synced):%Y-%m-%d %H:%M}的修改" in page
    assert f"<td>{conflict.current_version}</td>" not in page and "户版本" not in page
    photo = client.get(reverse("field:conflict_photo", args=[conflict.pk, 0]))
    assert photo.status_code == 200 and b"".join(photo.streaming_content) == JPEG
    assert AuditEntry.objects.filter(action="sensitive_read", model="field.FieldSubmission",
                                     username="village_a1").count() == 1  # fmt: skip
    # 柳庄村's team: no such conflict, nothing to resolve or to download
    client.force_login(other_village_cadre)
    assert f'id="conflict-{conflict.pk}"' not in client.get(url).content.decode()
    resolve = reverse("field:resolve", args=[conflict.pk])
    assert client.post(resolve, {"decision": "applied"}).status_code == 404
    assert client.get(reverse("field:conflict_photo", args=[conflict.pk, 0])).status_code == 404
    # the 帮扶责任人 who sent it does not resolve it
    client.force_login(cadre)
    assert client.get(url).status_code == 403
    assert client.post(resolve, {"decision": "applied"}).status_code == 404
    assert client.get(resolve).status_code == 405
    assert not Visit.objects.exists() and FieldConflict.objects.get().resolved_at is None


def test_applying_records_exactly_one_visit_through_record_visit(
    conflict, client, village_cadre, cadre, django_capture_on_commit_callbacks
):
    kept = Path(conflict.submission.media[0]["path"])
    assert kept.is_file()
    client.force_login(village_cadre)
    resolve = reverse("field:resolve", args=[conflict.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resolve, {"decision": "applied"}).status_code == 302
    visit = Visit.objects.get()
    assert (visit.household.household_no, visit.visitor, visit.visited_on, visit.notes, visit.changes) == (
        "H001", cadre, dt.date(2026, 3, 2), "入户了解务工情况", "儿子外出务工",
    )  # fmt: skip
    assert [a.name for a in visit.attachments.all()] == ["现场.jpg"] and not kept.exists()
    conflict.refresh_from_db()
    submission = conflict.submission
    assert (conflict.decision, conflict.resolved_by, submission.visit, submission.status) == (
        "applied", village_cadre, visit, "applied",
    )  # fmt: skip
    assert conflict.resolved_at is not None and submission.media == []
    entry = AuditEntry.objects.get(model="field.FieldConflict", object_id=str(conflict.pk), action="update")
    assert entry.username == "village_a1" and entry.after["decision"] == "applied"
    created = AuditEntry.objects.get(model="monitoring.Visit", action="create")
    assert created.username == "village_a1"  # who put it in the register; the visit names the visitor
    # never twice: neither a second 采用 nor a 不采用 afterwards
    for data in ({"decision": "applied"}, {"decision": "rejected", "reason": "重复"}):
        response = client.post(resolve, data, follow=True)
        assert "该冲突已处理" in response.content.decode()
    assert Visit.objects.count() == 1 and FieldConflict.objects.get().decision == "applied"
    page = client.get(reverse("field:conflicts")).content.decode()
    assert "没有待处理的手机采集冲突" in page and 'id="resolved"' in page
    assert "没有待处理的" in client.get(reverse("field:index")).content.decode()


def test_rejecting_needs_a_reason_records_it_and_leaves_no_visit(conflict, client, township_reviewer):
    client.force_login(township_reviewer)  # the township over the village resolves too
    resolve = reverse("field:resolve", args=[conflict.pk])
    response = client.post(resolve, {"decision": "rejected", "reason": "  "}, follow=True)
    assert "请填写不采用的原因" in response.content.decode()
    assert FieldConflict.objects.get().resolved_at is None
    assert (
        client.post(resolve, {"decision": "rejected", "reason": "走访日期该户外出，记录有误"}).status_code
        == 302
    )
    conflict.refresh_from_db()
    assert (conflict.decision, conflict.reason, conflict.resolved_by) == (
        "rejected", "走访日期该户外出，记录有误", township_reviewer,
    )  # fmt: skip
    assert conflict.submission.status == "rejected" and conflict.submission.visit is None
    assert not Visit.objects.exists()
    entry = AuditEntry.objects.get(model="field.FieldConflict", object_id=str(conflict.pk), action="update")
    assert entry.username == "township_a" and entry.after["reason"] == "走访日期该户外出，记录有误"
    client.post(resolve, {"decision": "applied"})
    assert not Visit.objects.exists() and FieldConflict.objects.get().decision == "rejected"
    with pytest.raises(Exception, match="该冲突已处理"):
        actions.resolve_conflict(user=township_reviewer, conflict=conflict, apply=True)
    assert entities.version_of(conflict.household) == conflict.current_version
