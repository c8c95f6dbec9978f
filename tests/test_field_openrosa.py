"""The OpenRosa server for ODK Collect (issue 10, first slice): the real XForm pyxform makes of the
shipped XLSForm, the form list and manifest in the spec's namespaces, the cadre's own households only,
submissions applied through the audited visit action, idempotent re-submission, 409, revoked tokens,
scope and stale household versions kept as conflicts."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from fangpin.accounts.actions import create_user
from fangpin.accounts.roles import Role
from fangpin.audit.models import AuditEntry
from fangpin.field import actions, entities, xforms
from fangpin.field.logs import FieldTokenFilter
from fangpin.field.models import FieldConflict, FieldSubmission, FieldToken
from fangpin.monitoring import assistance
from fangpin.monitoring.actions import report_clue
from fangpin.monitoring.models import Attachment, Measure, Source, Visit
from fangpin.registry.models import Household
from tests import builders
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
XF = "http://www.w3.org/2002/xforms"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200


@pytest.fixture
def cadre(register, township_reviewer):
    """A 帮扶责任人 of 古绛镇 paired with H001 only (H002 of the same township is not theirs)."""
    user = create_user(
        username="cadre_a", password=PASSWORD, role=Role.CADRE, region_code=builders.TOWNSHIP_A
    )
    assistance.pair(user=township_reviewer, household=Household.objects.get(household_no="H001"), cadre=user)
    return user


@pytest.fixture
def issued(cadre):
    row, token = actions.issue_token(user=cadre)
    return row, token


def base(token: str) -> str:
    return f"/field/{token}"


def instance_xml(token_client, token: str, **values: str) -> bytes:
    """A filled instance of the served XForm, as Collect would send it."""
    form = etree.fromstring(token_client.get(f"{base(token)}/forms/fangpin_visit.xml").content)
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


def post(client, token: str, xml: bytes, *media: tuple[str, bytes]):
    files = {"xml_submission_file": SimpleUploadedFile("submission.xml", xml, "text/xml")}
    for name, content in media:
        files[name] = SimpleUploadedFile(name, content, "image/jpeg")
    return client.post(f"{base(token)}/submission", files, HTTP_X_OPENROSA_VERSION="1.0")


def households_csv(client, token: str) -> list[dict[str, str]]:
    response = client.get(f"{base(token)}/forms/fangpin_visit/households.csv")
    assert response.status_code == 200 and response["X-OpenRosa-Version"] == "1.0"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def visit_values(household: Household, version: str, **extra: str) -> dict[str, str]:
    return {"household": str(household.pk), "household_version": version, "visited_on": "2026-03-02",
            "notes": "入户了解务工情况", "changes_note": "", "deviceid": "collect:abc123",
            "location": "35.49 111.57 560 5", **extra}  # fmt: skip


def test_the_xform_is_pyxforms_with_instance_id_and_the_household_select(issued, client):
    _, token = issued
    response = client.get(f"{base(token)}/forms/fangpin_visit.xml")
    assert response.status_code == 200 and response["X-OpenRosa-Version"] == "1.0"
    form = etree.fromstring(response.content)
    binds = {b.get("nodeset"): b for b in form.iter(f"{{{XF}}}bind")}
    assert binds["/data/meta/instanceID"].get("{http://openrosa.org/javarosa}preload") == "uid"
    assert "/data/household_version" in binds and "__version" in binds["/data/household_version"].get(
        "calculate"
    )
    assert binds["/data/location"].get("type") == "geopoint" and binds["/data/photo"].get("type") == "binary"
    secondary = [i for i in form.iter(f"{{{XF}}}instance") if i.get("id") == "households"]
    assert secondary[0].get("src") == "jr://file-csv/households.csv"
    select = form.find(f".//{{{XF}}}select1[@ref='/data/household']")
    assert select.find(f"{{{XF}}}itemset").get("nodeset") == "instance('households')/root/item"
    # converted once and cached by the XLSForm's hash
    digest = hashlib.sha256(xforms.xlsform_path("fangpin_visit").read_bytes()).hexdigest()
    from django.conf import settings

    assert (settings.DATA_DIR / "cache" / "xforms" / f"{digest}.xml").read_bytes() == response.content


def test_form_list_and_manifest_follow_the_openrosa_namespaces(issued, client):
    row, token = issued
    response = client.get(f"{base(token)}/formList")
    assert response.status_code == 200 and response["X-OpenRosa-Version"] == "1.0"
    assert response["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{LIST_NS}}}xforms"
    # the visit form first, then 一键报送 (入户核查: test_field_verify)
    xform = root.findall(f"{{{LIST_NS}}}xform")[0]
    assert xform.findtext(f"{{{LIST_NS}}}formID") == "fangpin_visit"
    assert xform.findtext(f"{{{LIST_NS}}}name") == "入户走访"
    download = xform.findtext(f"{{{LIST_NS}}}downloadUrl")
    form = client.get(download.replace("http://testserver", ""))
    assert xform.findtext(f"{{{LIST_NS}}}hash") == "md5:" + hashlib.md5(form.content).hexdigest()
    manifest_url = xform.findtext(f"{{{LIST_NS}}}manifestUrl").replace("http://testserver", "")
    manifest = etree.fromstring(client.get(manifest_url).content)
    assert manifest.tag == f"{{{MANIFEST_NS}}}manifest"
    (media,) = manifest.findall(f"{{{MANIFEST_NS}}}mediaFile")
    assert (
        media.get("type") == "entityList" and media.findtext(f"{{{MANIFEST_NS}}}filename") == "households.csv"
    )
    data = client.get(
        media.findtext(f"{{{MANIFEST_NS}}}downloadUrl").replace("http://testserver", "")
    ).content
    assert media.findtext(f"{{{MANIFEST_NS}}}hash") == "md5:" + hashlib.md5(data).hexdigest()
    row.refresh_from_db()
    assert row.last_sync_at is not None


def test_the_list_holds_only_the_users_households_masked(issued, client, village_cadre):
    _, token = issued
    h001 = Household.objects.get(household_no="H001")
    rows = households_csv(client, token)
    assert [r["name"] for r in rows] == [str(h001.pk)]  # paired with H001 only, not H002 of the township
    assert rows[0]["label"] == "张*国（东关村）" and rows[0]["last_visit"] == "未走访"
    assert rows[0]["__version"] == entities.version_of(h001) != "0"
    assert "i_wage" not in rows[0]  # a 帮扶责任人 does not verify: the phone carries no incomes
    # the village team carries the whole village: H001 only of the three households
    _, village_token = actions.issue_token(user=village_cadre)
    village_rows = households_csv(client, village_token)
    assert [r["name"] for r in village_rows] == [str(h001.pk)]
    # with a measure due and a clue quoting a name, a phone and an ID number: no list holds them in clear
    Measure.objects.create(household=h001, region_code=h001.region_code, group="产业帮扶", item="养殖奖补",
                           start=dt.date(2026, 1, 1), end=timezone.localdate() + dt.timedelta(days=3),
                           created_by=village_cadre)  # fmt: skip
    report_clue(user=village_cadre, household=h001, source=Source.HOTLINE,
                summary="李秀英来电13912345678，身份证140826197001010011，反映张建国受伤")  # fmt: skip
    text = client.get(f"{base(village_token)}/forms/fangpin_visit/households.csv").content.decode()
    text += client.get(f"{base(village_token)}/forms/fangpin_verify/households.csv").content.decode()
    clues = client.get(f"{base(village_token)}/forms/fangpin_verify/clues.csv").content.decode()
    assert "养殖奖补" in text and "李*英来电" in clues
    text += clues
    assert not re.search(r"(?<!\d)\d{15,17}[\dX]?(?!\d)", text) and not re.search(
        r"(?<!\d)1[3-9]\d{9}(?!\d)", text
    )
    assert "张建国" not in text and "李秀英" not in text


def test_a_submission_becomes_an_audited_visit_with_provenance(issued, client, cadre):
    row, token = issued
    h001 = Household.objects.get(household_no="H001")
    assert client.head(f"{base(token)}/submission").status_code == 204
    head = client.head(f"{base(token)}/submission")
    assert head["X-OpenRosa-Accept-Content-Length"] and head["X-OpenRosa-Version"] == "1.0"
    version = households_csv(client, token)[0]["__version"]
    xml = instance_xml(client, token, instanceID="uuid:v1", **visit_values(h001, version))
    response = post(client, token, xml, ("1716.jpg", JPEG))
    assert response.status_code == 201, response.content.decode()
    assert etree.fromstring(response.content).tag == f"{{{RESPONSE_NS}}}OpenRosaResponse"
    visit = Visit.objects.get(household=h001)
    assert (visit.visitor, visit.visited_on, visit.notes) == (cadre, dt.date(2026, 3, 2), "入户了解务工情况")
    submission = FieldSubmission.objects.get(instance_id="uuid:v1")
    assert (submission.visit, submission.device_id, submission.gps) == (
        visit,
        "collect:abc123",
        "35.49 111.57 560 5",
    )
    assert [a.name for a in visit.attachments.all()] == ["1716.jpg"]
    entry = AuditEntry.objects.get(model="monitoring.Visit", object_id=str(visit.pk), action="create")
    assert (entry.username, entry.source, entry.household_id) == ("cadre_a", "field", h001.pk)
    row.refresh_from_db()
    assert row.devices == ["collect:abc123"]
    # the household page says where the visit came from
    client.force_login(cadre)
    assert "来自手机" in client.get(reverse("monitoring:assistance", args=[h001.pk])).content.decode()


def test_resubmission_is_idempotent_adds_media_and_different_xml_is_409(issued, client):
    _, token = issued
    h001 = Household.objects.get(household_no="H001")
    version = households_csv(client, token)[0]["__version"]
    xml = instance_xml(client, token, instanceID="uuid:v2", **visit_values(h001, version))
    assert post(client, token, xml).status_code == 201
    assert post(client, token, xml, ("late.jpg", JPEG)).status_code == 201  # Collect's second batch of media
    assert post(client, token, xml, ("late.jpg", JPEG)).status_code == 201
    assert Visit.objects.filter(household=h001).count() == 1
    assert list(Attachment.objects.filter(household=h001).values_list("name", flat=True)) == ["late.jpg"]
    changed = instance_xml(client, token, instanceID="uuid:v2", **visit_values(h001, version, notes="改过的"))
    response = post(client, token, changed)
    assert response.status_code == 409 and response["X-OpenRosa-Version"] == "1.0"
    assert Visit.objects.get(household=h001).notes == "入户了解务工情况"


def test_a_revoked_or_unknown_token_is_refused_at_once(issued, client, cadre):
    row, token = issued
    h001 = Household.objects.get(household_no="H001")
    version = households_csv(client, token)[0]["__version"]
    xml = instance_xml(client, token, instanceID="uuid:v3", **visit_values(h001, version))
    actions.revoke_token(user=cadre, token=row)
    for response in (client.get(f"{base(token)}/formList"), post(client, token, xml),
                     client.get(f"{base(token)}/forms/fangpin_visit/households.csv"),
                     client.get(f"{base('x' * 43)}/formList")):  # fmt: skip
        assert response.status_code == 403 and response["X-OpenRosa-Version"] == "1.0"
    assert not Visit.objects.exists() and not FieldSubmission.objects.exists()
    # a new token replaces the old one: the old stays refused
    _, fresh = actions.issue_token(user=cadre)
    assert client.get(f"{base(fresh)}/formList").status_code == 200
    assert client.get(f"{base(token)}/formList").status_code == 403
    assert FieldToken.objects.filter(user=cadre, revoked_at__isnull=True).count() == 1


def test_a_household_outside_the_phone_list_is_refused(issued, client):
    _, token = issued
    for number in ("H002", "H003"):  # the township's but not paired; another township's
        other = Household.objects.get(household_no=number)
        xml = instance_xml(client, token, instanceID=f"uuid:{number}", **visit_values(other, "1"))
        assert post(client, token, xml).status_code == 403
    assert not Visit.objects.exists() and not FieldSubmission.objects.exists()


def test_a_stale_household_version_is_kept_as_a_conflict_not_applied(issued, client, township_reviewer):
    _, token = issued
    h001 = Household.objects.get(household_no="H001")
    version = households_csv(client, token)[0]["__version"]
    h001.dangerous_house = True  # the village changes a fact after the phone synced
    h001.save()
    assert entities.version_of(h001) != version
    xml = instance_xml(client, token, instanceID="uuid:v4", **visit_values(h001, version))
    response = post(client, token, xml, ("p.jpg", JPEG))
    assert response.status_code == 201 and "待村里核对" in response.content.decode()
    assert not Visit.objects.exists()
    conflict = FieldConflict.objects.get(household=h001)
    assert (conflict.submitted_version, conflict.current_version) == (version, entities.version_of(h001))
    assert [m["name"] for m in conflict.submission.media] == ["p.jpg"]
    # the township over the cadre sees the conflict waiting on its status page
    client.force_login(township_reviewer)
    page = client.get(reverse("field:index")).content.decode()
    assert "cadre_a" in page and re.search(r'num warn-text">1<', page)


def test_the_web_page_issues_a_qr_with_collect_settings_and_revokes(cadre, client):
    client.force_login(cadre)
    assert client.get(reverse("field:index")).status_code == 200
    response = client.post(reverse("field:issue"))
    page = response.content.decode()
    url = re.search(r'<code id="server-url">([^<]+)</code>', page).group(1)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"{base(token)}/formList").status_code == 200
    assert 'src="data:image/svg+xml' in page and response["Cache-Control"] == "no-store"
    settings = json.loads(zlib.decompress(base64.b64decode(actions.collect_settings(url))))
    assert settings["general"]["server_url"] == url and settings["admin"] == {}
    row = FieldToken.objects.get(user=cadre)
    assert row.token_hash != token and token not in row.token_hash
    assert not AuditEntry.objects.filter(after__icontains=token).exists()
    client.post(reverse("field:revoke", args=[row.pk]))
    assert client.get(f"{base(token)}/formList").status_code == 403


def test_the_token_never_reaches_a_log_line():
    from django.conf import settings

    assert "field_token" in settings.LOGGING["handlers"]["console"]["filters"]
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden: %s",
                               (f"/field/{token}/submission",), None)  # fmt: skip
    FieldTokenFilter().filter(record)
    assert token not in record.getMessage() and record.getMessage() == "Forbidden: /field/***/submission"
