"""Issue 10, third slice: the 入户核查 form from the phone (a pending clue verified through verify_clue,
the household facts pre-filled at sync and changed through the register with history), the
verification kept as a per-field conflict when the household changed since the sync (the village picks
per fact changed on both sides; facts nobody changed since are applied from the phone), and the measures
due on the phone's household list."""

# ruff: noqa: F811 (the fixture cadre comes from test_field_openrosa)
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from fangpin.audit.models import AuditEntry
from fangpin.field import actions, entities, xforms
from fangpin.field.models import FieldConflict, FieldSubmission
from fangpin.monitoring import actions as monitoring
from fangpin.monitoring import procedure
from fangpin.monitoring.models import Attachment, Clue, Measure, Outcome, Source
from fangpin.registry import facts
from fangpin.registry.models import Household
from tests.test_field_openrosa import JPEG, LIST_NS, XF, base, cadre, post  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

VERIFY = "fangpin_verify"


@pytest.fixture
def h001(register) -> Household:
    return Household.objects.get(household_no="H001")


@pytest.fixture
def team_token(register, village_cadre) -> str:
    """The Collect token of 东关村's village team (who verify clues)."""
    return actions.issue_token(user=village_cadre)[1]


@pytest.fixture
def clue(h001, village_cadre) -> Clue:
    return monitoring.report_clue(user=village_cadre, household=h001, source=Source.HOTLINE,
                                  summary="群众反映张建国务工受伤，联系电话13912345678，身份证140826197001010011")  # fmt: skip


def csv_rows(client, token: str, name: str, form_id: str = VERIFY) -> list[dict[str, str]]:
    response = client.get(f"{base(token)}/forms/{form_id}/{name}")
    assert response.status_code == 200 and response["X-OpenRosa-Version"] == "1.0"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def synced(client, token: str, household: Household) -> dict[str, str]:
    """The household's row of the list the phone downloaded."""
    return next(r for r in csv_rows(client, token, "households.csv") if r["name"] == str(household.pk))


def verify_xml(client, token: str, row: dict[str, str], **answers: str) -> bytes:
    """A filled instance of the served verify form, as Collect sends it after the household was picked
    from `row`: every fact and its hidden copy set from the list (the form's setvalue), the answers
    given over them."""
    form = etree.fromstring(client.get(f"{base(token)}/forms/{VERIFY}.xml").content)
    template = form.find(f".//{{{XF}}}instance/{{{XF}}}data")
    values = {"household": row["name"], "household_version": row["__version"], "income_year": row["income_year"],
              "deviceid": "collect:team1", "location": "35.49 111.57 560 5", "instanceID": "uuid:verify-1"}  # fmt: skip
    for column in entities.FACT_COLUMNS:
        if column != "income_year":
            values[column] = values[f"s_{column}"] = row[column]
    values |= answers

    def copy(source: etree._Element, parent: etree._Element | None) -> etree._Element:
        name = etree.QName(source).localname
        element = etree.Element(name, source.attrib) if parent is None else etree.SubElement(parent, name)
        for child in source:
            copy(child, element)
        if len(source) == 0:
            element.text = values.get(name, "")
        return element

    root = copy(template, None)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def answers(clue: Clue, **extra: str) -> dict[str, str]:
    return {"clue": str(clue.pk), "outcome": "confirmed", "verification_note": "入户核实，户主受伤在家休养",
            **extra}  # fmt: skip


# ---- the form and its lists ---------------------------------------------------------------------------


def test_the_verify_form_is_pyxforms_with_the_clue_list_and_the_facts_pre_filled(
    team_token, client, issued_cadre
):
    response = client.get(f"{base(team_token)}/forms/{VERIFY}.xml")
    assert response.status_code == 200 and response["X-OpenRosa-Version"] == "1.0"
    form = etree.fromstring(response.content)
    binds = {b.get("nodeset"): b for b in form.iter(f"{{{XF}}}bind")}
    assert binds["/data/meta/instanceID"].get("{http://openrosa.org/javarosa}preload") == "uid"
    for required in ("household", "clue", "outcome", "verification_note"):
        assert binds[f"/data/{required}"].get("required") == "true()", required
    assert (
        binds["/data/facts/i_wage"].get("type") == "decimal"
        and binds["/data/location"].get("type") == "geopoint"
    )
    sources = {i.get("id"): i.get("src") for i in form.iter(f"{{{XF}}}instance") if i.get("src")}
    assert sources == {"households": "jr://file-csv/households.csv", "clues": "jr://file-csv/clues.csv"}
    # the clue chosen among the household's own pending clues
    itemset = form.find(f".//{{{XF}}}select1[@ref='/data/clue']/{{{XF}}}itemset")
    assert (
        re.sub(r"\s", "", itemset.get("nodeset")) == "instance('clues')/root/item[household=/data/household]"
    )
    # each fact and its hidden copy set once, when the household is picked; never recalculated
    setvalues = {s.get("ref"): s.get("value") for s in form.iter(f"{{{XF}}}setvalue")}
    for column in entities.FACT_COLUMNS:
        question = f"/data/facts/{column}"
        assert column in setvalues[question] and "calculate" not in binds[question].attrib, column
        if column != "income_year":
            assert setvalues[f"/data/facts/s_{column}"] == setvalues[question]
    assert "__version" in setvalues["/data/household_version"]
    # the outcomes are monitoring's, word for word
    outcome = next(i for i in form.iter(f"{{{XF}}}instance") if i.get("id") == "outcome")
    assert [
        (i.findtext(f"{{{XF}}}name"), i.findtext(f"{{{XF}}}label")) for i in outcome.iter(f"{{{XF}}}item")
    ] == [(value, str(label)) for value, label in Outcome.choices]
    # a 帮扶责任人 does not verify clues (verify_clue's rule): the phone never offers the form
    _, token = issued_cadre
    ids = [f.findtext(f"{{{LIST_NS}}}formID") for f in
           etree.fromstring(client.get(f"{base(token)}/formList").content).findall(f"{{{LIST_NS}}}xform")]  # fmt: skip
    assert VERIFY not in ids and client.get(f"{base(token)}/forms/{VERIFY}.xml").status_code == 404
    assert client.get(f"{base(token)}/forms/{VERIFY}/clues.csv").status_code == 404


@pytest.fixture
def issued_cadre(cadre):
    return actions.issue_token(user=cadre)


def test_the_lists_carry_the_register_values_and_the_pending_clues_masked(
    team_token, client, h001, clue, village_cadre, township_reviewer, other_village_cadre
):
    row = synced(client, team_token, h001)
    record = h001.incomes.order_by("-year").first()
    assert (row["h_dangerous_house"], row["h_safe_drinking_water"], row["h_no_labour_household"]) == (
        "0",
        "1",
        "",
    )
    assert (row["income_year"], row["i_wage"], row["i_business"]) == (str(record.year), "30000.00", "8000.00")
    (listed,) = csv_rows(client, team_token, "clues.csv")
    assert (listed["name"], listed["household"]) == (str(clue.pk), str(h001.pk))
    assert listed["label"].startswith("热线/社会监督·") and "张*国" in listed["label"]
    assert "张建国" not in listed["label"] and "13912345678" not in listed["label"]
    assert "140826197001010011" not in listed["label"]
    # a clue verified leaves the list; another village's team has none of 东关村's
    other = monitoring.report_clue(user=township_reviewer, household=Household.objects.get(household_no="H002"),
                                   source=Source.CADRE, summary="西街村的线索")  # fmt: skip
    monitoring.verify_clue(user=village_cadre, clue=clue, outcome="no_risk", note="已核实")
    assert [r["name"] for r in csv_rows(client, team_token, "clues.csv")] == []
    _, other_token = actions.issue_token(user=other_village_cadre)
    assert csv_rows(client, other_token, "clues.csv") == []
    _, township_token = actions.issue_token(user=township_reviewer)
    assert [r["name"] for r in csv_rows(client, township_token, "clues.csv")] == []  # H002 is nobody's pair
    assert other.status == Clue.Status.PENDING


# ---- a verification from the phone --------------------------------------------------------------------


def test_a_verification_applies_through_verify_clue_with_history_and_provenance(
    team_token, client, h001, clue, village_cadre
):
    row = synced(client, team_token, h001)
    year = int(row["income_year"])
    xml = verify_xml(client, team_token, row, h_dangerous_house="1", i_wage="25000", photo="现场.jpg",
                     **answers(clue))  # fmt: skip
    response = post(client, team_token, xml, ("现场.jpg", JPEG))
    assert response.status_code == 201, response.content.decode()
    assert "入户核查已入库" in response.content.decode()
    clue.refresh_from_db()
    assert (clue.status, clue.outcome, clue.verified_by) == (Clue.Status.VERIFIED, "confirmed", village_cadre)
    assert clue.verification_note.startswith("入户核实，户主受伤在家休养\n更新信息：")
    assert "是否危房户：否 → 是" in clue.verification_note and f"{year}年工资性收入：30000.00 → 25000.00" in (
        clue.verification_note
    )
    h001.refresh_from_db()
    assert h001.dangerous_house is True and h001.safe_drinking_water is True  # untouched: no change
    assert h001.incomes.get(year=year).wage == Decimal("25000.00")
    entry = AuditEntry.objects.get(model="registry.Household", object_id=str(h001.pk), action="update",
                                   after__has_key="dangerous_house")  # fmt: skip
    assert (entry.username, entry.source, entry.after["dangerous_house"]) == ("village_a1", "field", True)
    assert AuditEntry.objects.filter(model="registry.IncomeRecord", action="update", source="field").exists()
    submission = FieldSubmission.objects.get(instance_id="uuid:verify-1")
    assert (submission.verified_clue, submission.status, submission.form_id) == (clue, "applied", VERIFY)
    assert (submission.device_id, submission.gps) == ("collect:team1", "35.49 111.57 560 5")
    assert [a.name for a in Attachment.objects.filter(clue=clue)] == ["现场.jpg"]
    # Collect sending again: nothing verified twice, the late photo added; other XML under the id is 409
    assert post(client, team_token, xml, ("信息采集表.jpg", JPEG)).status_code == 201
    assert FieldSubmission.objects.count() == 1
    assert sorted(Attachment.objects.filter(clue=clue).values_list("name", flat=True)) == [
        "信息采集表.jpg",
        "现场.jpg",
    ]
    changed = verify_xml(client, team_token, row, h_dangerous_house="0", **answers(clue))
    response = post(client, team_token, changed)
    assert response.status_code == 409 and response["X-OpenRosa-Version"] == "1.0"
    h001.refresh_from_db()
    assert h001.dangerous_house is True


def test_an_untouched_form_changes_no_fact(team_token, client, h001, clue):
    row = synced(client, team_token, h001)
    before = AuditEntry.objects.filter(model__in=entities.REGISTER_MODELS).count()
    assert post(client, team_token, verify_xml(client, team_token, row, **answers(clue))).status_code == 201
    clue.refresh_from_db()
    assert clue.status == Clue.Status.VERIFIED and "更新信息" not in clue.verification_note
    assert AuditEntry.objects.filter(model__in=entities.REGISTER_MODELS).count() == before


def test_out_of_scope_households_and_foreign_clues_are_refused(
    team_token, client, h001, clue, township_reviewer
):
    row = synced(client, team_token, h001)
    h003 = Household.objects.get(household_no="H003")  # another township's
    outside = verify_xml(
        client, team_token, row | {"name": str(h003.pk)}, instanceID="uuid:out", **answers(clue)
    )
    response = post(client, team_token, outside)
    assert response.status_code == 403 and "不在您的" in response.content.decode()
    # a clue of another household (西街村's, outside the team's village) under H001
    h002 = Household.objects.get(household_no="H002")
    foreign = monitoring.report_clue(
        user=township_reviewer, household=h002, source=Source.CADRE, summary="务工中断"
    )
    xml = verify_xml(client, team_token, row, instanceID="uuid:foreign", **answers(foreign))
    response = post(client, team_token, xml)
    assert response.status_code == 403 and "该线索不是本户的" in response.content.decode()
    assert not FieldSubmission.objects.exists()
    foreign.refresh_from_db()
    clue.refresh_from_db()
    assert foreign.status == clue.status == Clue.Status.PENDING


def test_a_clue_already_verified_is_refused_with_a_message_and_nothing_kept(
    team_token, client, h001, clue, township_reviewer
):
    row = synced(client, team_token, h001)
    monitoring.verify_clue(user=township_reviewer, clue=clue, outcome="no_risk", note="乡镇已核实")
    response = post(
        client, team_token, verify_xml(client, team_token, row, h_dangerous_house="1", **answers(clue))
    )
    text = etree.fromstring(response.content).findtext(".//{http://openrosa.org/http/response}message")
    assert response.status_code == 409 and response["X-OpenRosa-Version"] == "1.0"
    assert text.startswith("该线索已于") and "township_a" in text and "未入库" in text
    assert not FieldSubmission.objects.exists() and not FieldConflict.objects.exists()
    h001.refresh_from_db()
    assert h001.dangerous_house is False
    # answers the web form refuses are refused too: no outcome, no note
    fresh = monitoring.report_clue(
        user=township_reviewer, household=h001, source=Source.CADRE, summary="新线索"
    )
    for bad in ({"outcome": ""}, {"verification_note": "  "}, {"i_wage": "-5"}):
        xml = verify_xml(client, team_token, row, **(answers(fresh) | bad))
        assert post(client, team_token, xml).status_code == 400, bad
    assert not FieldSubmission.objects.exists()


# ---- the per-field conflict ---------------------------------------------------------------------------


@pytest.fixture
def conflict(team_token, client, h001, clue, township_reviewer) -> FieldConflict:
    """东关村's team verifies on the phone: 是否危房户 否 → 是 and the wage 30000 → 25000; after the sync the
    township changed the wage to 28000 and 是否解决安全饮用水 to 否 (which the phone left alone)."""
    row = synced(client, team_token, h001)
    year = int(row["income_year"])
    facts.apply(h001, {"i-wage": Decimal("28000"), "income_year": year, "h-safe_drinking_water": False})
    assert entities.version_of(h001) != row["__version"]
    xml = verify_xml(client, team_token, row, instanceID="uuid:verify-k", h_dangerous_house="1", i_wage="25000.0",
                     photo="现场.jpg", **answers(clue))  # fmt: skip
    response = post(client, team_token, xml, ("现场.jpg", JPEG))
    assert response.status_code == 201 and "待村里核对" in response.content.decode()
    return FieldConflict.objects.get()


def test_a_stale_verification_is_kept_and_shown_per_fact_in_the_registers_words(
    conflict, client, h001, clue, village_cadre
):
    clue.refresh_from_db()
    h001.refresh_from_db()
    assert clue.status == Clue.Status.PENDING and h001.dangerous_house is False  # nothing applied yet
    assert conflict.submission.verified_clue == clue and conflict.submission.status == "conflict"
    client.force_login(village_cadre)
    page = client.get(reverse("field:conflicts")).content.decode()
    year = h001.incomes.order_by("-year").first().year
    # the one fact changed on both sides is asked: phone, at sync, now
    contested = re.search(r"手机和台账都改过的项目（请逐项选择）.*?</table>", page, re.S).group()
    assert (
        f"<td>{year}年工资性收入</td><td>25,000.00元</td><td>30,000.00元</td><td>28,000.00元</td>"
        in contested
    )
    assert contested.count('type="radio"') == 2 and "采用手机值" in contested and "保留现值" in contested
    # the fact only the phone changed is applied without a question; the one only the register changed is not
    # the phone's at all
    only_phone = re.search(r"只有手机改过的项目（.*?</table>", page, re.S).group()
    assert "<td>是否危房户</td><td>是</td><td>否</td>" in only_phone and "radio" not in only_phone
    assert "是否解决安全饮用水" not in contested + only_phone
    # the outcome and the note as the phone sent them, the clue named, no internal names
    for text in ("确认有风险", "入户核实，户主受伤在家休养", "热线/社会监督", "入户核查"):
        assert text in page, text
    assert "该户没有待核查的线索" not in page  # a note of the form, not an answer
    visible = re.sub(r"<[^>]+>", " ", page)
    for internal in ("h_dangerous", "i_wage", "s_h_", "confirmed", "verification_note", "fangpin_verify",
                     "13912345678", "140826197001010011"):  # fmt: skip
        assert internal not in visible, internal


@pytest.mark.parametrize(("pick", "wage"), [("phone", "25000.00"), ("current", "28000.00")])
def test_the_village_picks_per_fact_once_audited(
    conflict, client, h001, clue, village_cadre, pick, wage, django_capture_on_commit_callbacks
):
    client.force_login(village_cadre)
    resolve = reverse("field:resolve", args=[conflict.pk])
    # 采用 without a pick for the contested fact: refused whole, nothing applied
    response = client.post(resolve, {"decision": "applied"}, follow=True)
    assert "请逐项选择采用手机值或保留现值" in response.content.decode()
    clue.refresh_from_db()
    assert clue.status == Clue.Status.PENDING and FieldConflict.objects.get().resolved_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resolve, {"decision": "applied", "pick-i-wage": pick}).status_code == 302
    clue.refresh_from_db()
    h001.refresh_from_db()
    year = h001.incomes.order_by("-year").first().year
    assert (clue.status, clue.outcome, clue.verified_by) == (Clue.Status.VERIFIED, "confirmed", village_cadre)
    assert clue.verification_note.startswith("入户核实，户主受伤在家休养")
    assert h001.dangerous_house is True  # nobody changed it since the sync: the phone's value
    assert h001.safe_drinking_water is False  # the township's change stands: the phone never touched it
    assert h001.incomes.get(year=year).wage == Decimal(wage)
    assert [a.name for a in Attachment.objects.filter(clue=clue)] == ["现场.jpg"]
    conflict.refresh_from_db()
    assert (conflict.decision, conflict.resolved_by, conflict.submission.status) == (
        "applied", village_cadre, "applied",
    )  # fmt: skip
    decisions = {f["label"]: f["decision"] for f in conflict.fields}
    assert decisions == {"是否危房户": "同步后台账未变，按手机填报",
                         f"{year}年工资性收入": "采用手机值" if pick == "phone" else "保留现值"}  # fmt: skip
    entry = AuditEntry.objects.get(model="field.FieldConflict", object_id=str(conflict.pk), action="update")
    assert entry.username == "village_a1" and entry.after["fields"] == conflict.fields
    update = AuditEntry.objects.get(model="monitoring.Clue", object_id=str(clue.pk), action="update")
    assert update.username == "village_a1" and update.after["status"] == "verified"
    # never twice
    for data in ({"decision": "applied", "pick-i-wage": "phone"}, {"decision": "rejected", "reason": "重复"}):
        assert "该冲突已处理" in client.post(resolve, data, follow=True).content.decode()
    assert AuditEntry.objects.filter(model="field.FieldConflict", action="update").count() == 1
    page = client.get(reverse("field:conflicts")).content.decode()
    assert "是否危房户：同步后台账未变，按手机填报（是）" in page


def test_a_conflict_whose_clue_was_verified_since_can_only_be_rejected(
    conflict, client, h001, clue, township_reviewer, village_cadre
):
    monitoring.verify_clue(user=township_reviewer, clue=clue, outcome="no_risk", note="乡镇已核实")
    client.force_login(village_cadre)
    page = client.get(reverse("field:conflicts")).content.decode()
    assert f'id="clue-done-{conflict.pk}"' in page and "只能不采用" in page and "township_a" in page
    assert (
        "采用（核查结果" not in page
        and 'value="applied"' not in page.split(f'id="conflict-{conflict.pk}"')[1]
    )
    with pytest.raises(ValidationError, match="只能选择不采用"):
        actions.resolve_conflict(user=village_cadre, conflict=conflict, apply=True, picks={"i-wage": "phone"})
    actions.resolve_conflict(user=village_cadre, conflict=conflict, apply=False, reason="线索已由乡镇核查")
    conflict.refresh_from_db()
    clue.refresh_from_db()
    assert (conflict.decision, conflict.submission.status, clue.outcome) == (
        "rejected",
        "rejected",
        "no_risk",
    )
    h001.refresh_from_db()
    assert h001.dangerous_house is False


# ---- measures due ------------------------------------------------------------------------------------


def _measure(household: Household, user, item: str, end: dt.date | None) -> Measure:
    return Measure.objects.create(household=household, region_code=household.region_code, group="产业帮扶",
                                  item=item, start=end - dt.timedelta(days=365) if end else dt.date(2026, 1, 1),
                                  end=end, created_by=user)  # fmt: skip


def test_measures_due_are_on_the_list_and_in_the_visit_note(
    team_token, client, h001, village_cadre, tmp_path
):
    today = timezone.localdate()
    soon, later, past = (
        today + dt.timedelta(days=10),
        today + dt.timedelta(days=60),
        today - dt.timedelta(days=5),
    )
    _measure(h001, village_cadre, "养殖奖补", soon)
    _measure(h001, village_cadre, "种植奖补", later)
    _measure(h001, village_cadre, "光伏收益", past)
    _measure(h001, village_cadre, "小额信贷", None)
    _measure(h001, village_cadre, "旧项目", today - dt.timedelta(days=200))
    row = synced(client, team_token, h001)
    assert row["measures_due"] == (f"产业帮扶·光伏收益（{past.month}月{past.day}日已到期）；"
                                   f"产业帮扶·养殖奖补（{soon.month}月{soon.day}日到期）")  # fmt: skip
    others = [
        r
        for r in csv_rows(client, team_token, "households.csv", "fangpin_visit")
        if r["name"] != str(h001.pk)
    ]
    assert all(r["measures_due"] == "无" for r in others)
    # the window is configuration (procedure.toml's [assistance] measures_due_days)
    shipped = (Path(procedure.__file__).with_name("procedure.toml")).read_text()
    assert re.search(r"^measures_due_days = 30$", shipped, re.M)
    own = tmp_path / "procedure.toml"
    own.write_text(shipped.replace("measures_due_days = 30", "measures_due_days = 90"))
    with override_settings(FANGPIN_PROCEDURE_FILE=str(own)):
        assert "种植奖补" in synced(client, team_token, h001)["measures_due"]
    # the visit form shows them in its note
    form = etree.fromstring(client.get(f"{base(team_token)}/forms/{xforms.VISIT}.xml").content)
    binds = {b.get("nodeset"): b for b in form.iter(f"{{{XF}}}bind")}
    assert "measures_due" in binds["/data/measures_due"].get("calculate")
    note = form.find(f".//{{{XF}}}input[@ref='/data/household_info']/{{{XF}}}label")
    assert "到期措施" in "".join(note.itertext()) and any(
        o.get("value") == " /data/measures_due " for o in note.iter(f"{{{XF}}}output")
    )
