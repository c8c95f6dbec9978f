"""Rule health (issue 13 point 7): each rule's findings in the last run as a share of the people or
households it reads; a rule firing on more than the threshold (1% by default) is marked 疑似规则或数据问题
on the catalogue, its rule page and the screening summary, so a county notices a misreading at once."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from fangpin import cli
from fangpin.common.idnumber import gender_of
from fangpin.jobs.actions import create_job, run_job
from fangpin.jobs.models import Kind
from fangpin.registry.models import IncomeRecord, Member
from fangpin.rules.actions import run_screening
from fangpin.rules.catalogue import load_catalogue, rule_by_id
from fangpin.rules.models import RuleSetting, ScreeningRun, percent
from tests import builders

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 6, 30)
WIDE = "DQ_GENDER_ID"  # person level: 3 of 200 people, 1.5%
NARROW = "INC_GENERAL_BELOW_LINE"  # household level: 1 of 200 households, 0.5%
MARK = "疑似规则或数据问题"
VILLAGES = (builders.VILLAGE_A1, builders.VILLAGE_A2, builders.VILLAGE_B1)
SURNAMES, GIVEN = "赵钱孙李周吴郑王", "明华强伟芳娜敏静丽军"


@pytest.fixture
def county_of_200(regions, tmp_path):
    """200 one-person households; only the two rules under test are switched on, so the test does
    not depend on what the rest of the catalogue finds in such a register."""
    from fangpin.registry.importer import import_register

    rows = []
    for n in range(200):
        id_number = builders.pid(n % 1000, dt.date(1960 + n // 100, 1 + n % 12, 1 + n % 28))
        name = SURNAMES[n % 8] + GIVEN[n // 8 % 10] + GIVEN[n // 80 % 10]
        gender = gender_of(id_number)
        rows += builders.family(f"H{n:03d}", VILLAGES[n % 3], [(name, id_number, "户主", gender)])
    result = import_register(builders.write_xlsx(tmp_path / "register.xlsx", rows))
    assert result.ok, [str(p) for p in result.problems]
    men = Member.objects.filter(gender="男").order_by("id").values_list("id", flat=True)[:3]
    Member.objects.filter(id__in=list(men)).update(gender="女")  # registered sex against the ID number
    IncomeRecord.objects.filter(household__household_no="H007").update(computed_per_capita=Decimal("3000"))
    RuleSetting.objects.bulk_create(
        RuleSetting(rule_id=rule.id, enabled=False)
        for rule in load_catalogue()
        if rule.id not in {WIDE, NARROW}
    )


def screen_as_job(user=None):
    job = create_job(kind=Kind.SCREENING, user=user, params={"as_of": AS_OF.isoformat(), "engine": "duckdb"})
    job = run_job(job.pk)
    assert job.status == "succeeded", job.message
    return job


def table_row(page: str, rule_id: str) -> str:
    """The catalogue's table row of one rule (not the list of suspect rules above the tables)."""
    start = page.index(f'<td><a href="{reverse("rules:rule", args=[rule_id])}">')
    return page[page.rindex("<tr>", 0, start) : page.index("</tr>", start)]


def test_a_run_keeps_the_people_and_households_of_its_snapshot(county_of_200):
    run = run_screening(as_of=AS_OF)
    assert (run.people, run.households) == (200, 200)
    assert run.rule_counts == {WIDE: 3, NARROW: 1}


def test_the_catalogue_marks_a_rule_firing_on_more_than_one_percent_and_not_one_below(
    client, county_of_200, county_staff
):
    screen_as_job(county_staff)
    client.force_login(county_staff)
    page = client.get(reverse("rules:catalogue")).content.decode()
    wide, narrow = table_row(page, WIDE), table_row(page, NARROW)
    assert ">3</span>" in wide and "1.5%" in wide and MARK in wide
    assert ">1</span>" in narrow and "0.5%" in narrow and MARK not in narrow
    assert "1条规则疑似规则或数据问题" in page  # the list above the tables, seen at once
    assert "占被检查人数/户数的比例" in page
    assert "部门预警规则读取部门名册，比例仍按台账的人数/户数计算" in page
    assert "200人、200户" in page


def test_the_rule_page_shows_the_share_of_the_people_it_reads_and_the_mark(
    client, county_of_200, county_staff
):
    screen_as_job(county_staff)
    client.force_login(county_staff)
    wide = client.get(reverse("rules:rule", args=[WIDE])).content.decode()
    assert "发现3人" in wide and "占被检查人数200的1.5%" in wide and MARK in wide
    assert "超过1%" in wide
    narrow = client.get(reverse("rules:rule", args=[NARROW])).content.decode()
    assert "发现1户" in narrow and "占被检查户数200的0.5%" in narrow and MARK not in narrow


def test_the_screening_summary_names_the_suspect_rule_on_the_job_and_run_pages(
    client, county_of_200, county_staff
):
    job = screen_as_job(county_staff)
    assert "1条规则疑似规则或数据问题（命中超过被检查人数/户数的1%）：DQ_GENDER_ID（1.5%）" in job.message
    assert NARROW not in job.message
    assert job.summary["households"] == 200 and job.summary["suspect_share"] == 0.01
    assert job.summary["suspects"] == [{"rule": WIDE, "found": 3, "read": 200, "unit": "人", "share": 0.015}]
    client.force_login(county_staff)
    assert "DQ_GENDER_ID（1.5%）" in client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    runs = client.get(reverse("rules:screening")).content.decode()
    assert MARK in runs and "DQ_GENDER_ID</a> 1.5%" in runs and NARROW not in runs


def test_fangpin_screen_prints_each_rules_share_and_the_mark(county_of_200, capsys):
    assert cli.cmd_screen(argparse.Namespace(as_of=AS_OF.isoformat(), engine="duckdb", user=None)) == 0
    out = capsys.readouterr().out
    wide = next(line for line in out.splitlines() if line.strip().startswith(WIDE))
    narrow = next(line for line in out.splitlines() if line.strip().startswith(NARROW))
    assert wide.split()[1:4] == ["3", "1.5%", "疑似规则或数据问题（超过1%）"]
    assert narrow.split()[1:] == ["1", "0.5%"]
    assert "疑似规则或数据问题（命中超过被检查人数/户数的1%）" in out  # the job's message


def test_the_threshold_setting_changes_which_rules_are_marked(client, county_of_200, county_staff, settings):
    screen_as_job(county_staff)
    client.force_login(county_staff)
    settings.FANGPIN_RULE_SUSPECT_SHARE = 0.004  # 0.4%: the 0.5% rule is now suspect too
    page = client.get(reverse("rules:catalogue")).content.decode()
    assert MARK in table_row(page, WIDE) and MARK in table_row(page, NARROW)
    settings.FANGPIN_RULE_SUSPECT_SHARE = 0.02  # 2%: neither
    page = client.get(reverse("rules:catalogue")).content.decode()
    assert MARK not in table_row(page, WIDE) and MARK not in table_row(page, NARROW)
    assert (
        MARK not in client.get(reverse("rules:rule", args=[WIDE])).content.decode().split("最近一次筛查")[1]
    )
    job = screen_as_job(county_staff)
    assert MARK not in job.message and job.summary["suspects"] == []


def test_a_run_of_one_rule_does_not_blank_the_other_rules_on_the_catalogue(
    client, county_of_200, county_staff
):
    screen_as_job(county_staff)
    run_screening(as_of=AS_OF, rules=[rule_by_id(WIDE)])  # 举一反三 reruns one rule
    client.force_login(county_staff)
    page = client.get(reverse("rules:catalogue")).content.decode()
    assert "0.5%" in table_row(page, NARROW) and "1.5%" in table_row(page, WIDE)


def test_a_run_from_before_households_were_counted_shows_no_share(client, county_of_200, county_staff):
    run = run_screening(as_of=AS_OF)
    ScreeningRun.objects.filter(pk=run.pk).update(households=0)
    client.force_login(county_staff)
    narrow = table_row(client.get(reverse("rules:catalogue")).content.decode(), NARROW)
    assert ">1</span>" in narrow and "—" in narrow and MARK not in narrow


@pytest.mark.parametrize(
    ("share", "shown"), [(0.003, "0.3%"), (0.015, "1.5%"), (0.0001, "<0.1%"), (0.0, "0.0%"), (1.0, "100.0%")]
)
def test_shares_are_shown_as_percentages_with_one_decimal(share, shown):
    assert percent(share) == shown
