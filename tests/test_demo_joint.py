"""The demo county shows the 2026 joint work (demo/joint.py): `fangpin demo` refers households to 民政 with
民政's decisions recorded back, and classifies the demo village's 脱贫户, so that /cases/referrals/ and
/classification/progress/ are not empty on the first login. The pages are read as the demo's users see
them (each in their own scope), and held to the database and to plausible dates and clocks."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli_helpers import fangpin

pytestmark = pytest.mark.slow
PEOPLE, SEED = 4000, 20241026

# In the demo's own process: each user's two pages, and what the database says they should show.
READ = """
import json, datetime as dt
from django.test import Client
from django.utils import timezone
from fangpin.accounts.models import User
from fangpin.classification import actions as ca
from fangpin.classification.models import Assessment
from fangpin.monitoring.models import Referral
from fangpin.registry.models import Household
out = {"pages": {}, "db": {}}
for name in ("xian_admin", "cun_demo", "dept_minzheng"):
    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(username=name))
    pages = {}
    for key, url in (("referrals", "/cases/referrals/?status=all"), ("progress", "/classification/progress/")):
        response = client.get(url)
        pages[key] = {"status": response.status_code, "html": response.content.decode()}
    out["pages"][name] = pages
village = User.objects.get(username="cun_demo").region
now = timezone.now()
out["db"] = {
    "village": village.name, "village_code": village.code,
    "referrals": sorted(Referral.objects.values_list("pk", flat=True)),
    "village_referrals": sorted(Referral.objects.filter(region_code=village.code).values_list("pk", flat=True)),
    "statuses": list(Referral.objects.values_list("status", flat=True)),
    "referred_days": [(now - r).total_seconds() / 86400 for r in Referral.objects.values_list("referred_at", flat=True)],
    "decided": [[str(r.referred_at.date()), str(r.decided_on), str(timezone.localdate())]
                for r in Referral.objects.exclude(decided_on=None)],
    "village_poverty": Household.objects.filter(region_code=village.code, household_type="脱贫户").count(),
    "assessed_elsewhere": Assessment.objects.exclude(region_code=village.code).count(),
    "clocks": [[ca.clock(a).elapsed_days, ca.clock(a).step_elapsed_days, ca.clock(a).step.days, ca.clock(a).total_days,
                (now - a.started_at).total_seconds() / 86400] for a in Assessment.objects.all()],
    "classes": sorted(Assessment.objects.filter(status="approved").values_list("final_class", flat=True)),
}
print(json.dumps(out, ensure_ascii=False))
"""


def _cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


def _table(html: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    """The header cells (last header row) and the body and footer rows of a table, as text."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    head = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[0], re.S)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("</thead>")[1], re.S)
    return _cells(head[-1]), [_cells(r) for r in rows]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("joint") / "data"
    fangpin(data, "migrate", "--no-input", "-v0")
    built = fangpin(data, "demo", "--people", str(PEOPLE), "--seed", str(SEED))
    read = json.loads(fangpin(data, "shell", "-v", "0", "-c", READ).stdout.strip().splitlines()[-1])
    return {"stderr": built.stderr, **read}


def test_the_demo_says_what_it_seeded(demo):
    line = re.search(
        r"转介民政：(\d+)户（民政已纳入(\d+)户、未纳入(\d+)户，待民政审核(\d+)户）", demo["stderr"]
    )
    assert line, demo["stderr"][-2000:]
    referred, included, not_included, pending = map(int, line.groups())
    statuses = demo["db"]["statuses"]
    assert referred == len(statuses) and pending == statuses.count("pending")
    assert included == statuses.count("included") and not_included == statuses.count("not_included")
    assert re.search(rf"脱贫人口分类评估：{demo['db']['village']}发起\d+户，县级审定\d+户", demo["stderr"])


def test_the_referrals_page_counts_the_county_and_only_the_village_for_the_village(demo):
    db = demo["db"]
    county = demo["pages"]["xian_admin"]["referrals"]["html"]
    assert set(map(int, re.findall(r'id="referral-(\d+)"', county))) == set(db["referrals"])
    header, rows = _table(county, "referral-counts")
    total = dict(zip(header, rows[-1], strict=True))
    assert total["乡镇"] == "合计" and int(total["转介户数"]) == len(db["referrals"]) >= 8
    # about half decided by 民政, both ways; the rest waiting
    decided = sum(int(total[f"已纳入{k}"]) for k in ("低保", "低保边缘", "特困", "临时救助")) + int(
        total["未纳入"]
    )
    assert int(total["待民政审核"]) >= 3 and int(total["未纳入"]) >= 1 and decided - int(total["未纳入"]) >= 1
    assert 0.3 <= decided / int(total["转介户数"]) <= 0.7
    assert len(rows) - 1 >= 3, "referrals in several townships"
    # the village sees its own referrals only, counted in its one township
    village = demo["pages"]["cun_demo"]["referrals"]["html"]
    shown = set(map(int, re.findall(r'id="referral-(\d+)"', village)))
    assert shown == set(db["village_referrals"]) and shown, (shown, db["village_referrals"])
    header, rows = _table(village, "referral-counts")
    assert len(rows) == 2 and int(dict(zip(header, rows[-1], strict=True))["转介户数"]) == len(shown)
    # 民政's data officer sees the county and may record the pending ones
    civil = demo["pages"]["dept_minzheng"]["referrals"]["html"]
    assert set(map(int, re.findall(r'id="referral-(\d+)"', civil))) == set(db["referrals"])
    assert civil.count('class="outcome-form"') == db["statuses"].count("pending")


def test_referral_dates_are_plausible(demo):
    days = demo["db"]["referred_days"]
    assert all(0 <= d <= 120 for d in days), days
    for referred, decided, today in demo["db"]["decided"]:
        assert referred <= decided < today


def test_the_progress_page_shows_the_demo_village_at_every_step_within_its_clocks(demo):
    db = demo["db"]
    assert db["village_poverty"] >= 4 and db["assessed_elsewhere"] == 0
    header, rows = _table(demo["pages"]["cun_demo"]["progress"]["html"], "progress-table")
    assert len(rows) == 2, rows  # its township, and the total
    assert header == ["村级评估", "乡镇审核", "县级审定", "稳定脱贫户", "持续帮扶户", "兜底保障户"], header
    row = dict(zip(["乡镇", "户数", "已发起", "村级评估", "乡镇审核", "县级审定", "超时", "稳定脱贫户", "持续帮扶户",
                    "兜底保障户"], rows[0], strict=True))  # fmt: skip
    assert int(row["户数"]) == int(row["已发起"]) == db["village_poverty"]
    in_work = [int(row[s]) for s in ("村级评估", "乡镇审核", "县级审定")]
    approved = [int(row[c]) for c in ("稳定脱贫户", "持续帮扶户", "兜底保障户")]
    assert all(in_work) and sum(in_work) + sum(approved) == db["village_poverty"]
    assert sum(approved) >= 1 and len(set(db["classes"])) >= min(2, len(db["classes"]))
    assert int(row["超时"]) <= 1
    # the county: every township listed, progress in the demo village's only
    _, rows = _table(demo["pages"]["xian_admin"]["progress"]["html"], "progress-table")
    started = [int(r[2]) for r in rows[:-1]]
    assert len(rows) - 1 >= 5 and started.count(0) == len(started) - 1
    for elapsed, step_elapsed, step_days, total_days, since in db["clocks"]:
        assert 0 < since < total_days and elapsed <= total_days and step_elapsed <= step_days + 3
