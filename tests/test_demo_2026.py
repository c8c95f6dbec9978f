"""The 2026 screening on the demo county (issue 11): 刚性支出困难 and 低保边缘 over the whole register.

The demo county is written with its 收支核算 (demo/accounting.py), imported through `load_county` as
`fangpin demo` does, snapshotted once and screened with the two rules of catalogue/65_joint_monitoring.toml
on DuckDB and on Spark: every finding must be a household the generator seeded and recorded in truth.csv
(precision 1.0) and every seeded one must be found (recall 1.0); a miss names the household. The county
must also read like a county (who has an accounting, how many are in hardship), the records must be in
the audit log, and under the transition regime (2025) neither rule runs, from the same data.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil

import pytest
from django.db import transaction

from fangpin.audit.models import AuditEntry
from fangpin.demo.actions import load_county
from fangpin.demo.faults import JOINT_RULES
from fangpin.demo.generator import write_demo_files
from fangpin.regions.actions import upsert_regions
from fangpin.registry.models import ExpenditureRecord, Household
from fangpin.rules.actions import enabled_rules, run_parameters, run_screening
from fangpin.rules.catalogue import Example, rule_by_id
from fangpin.rules.engines import bind, open_engine
from fangpin.rules.models import Finding
from fangpin.rules.parameters import sync_defaults
from fangpin.rules.snapshot import write_snapshot
from tests import builders
from tests.rule_examples import ExampleBuilder

pytestmark = pytest.mark.django_db
PEOPLE, SEED = 4000, 20262
AS_OF = dt.date(2026, 5, 20)  # under the 2026 regime; the income year is 2025
JAVA = shutil.which("java")
HARDSHIP = """
SELECT e.household_key, h.monitoring_category, h.risk_eliminated, h.household_type
FROM expenditure e JOIN income i ON i.household_key = e.household_key AND i.year = e.year
JOIN household h ON h.household_key = e.household_key
WHERE e.total > 0 AND (i.computed_net <= 0 OR e.total > :rigid_expense_share * i.computed_net)
  AND i.computed_per_capita < :rural_disposable_income_prev_year
"""


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo2026")
    files = write_demo_files(out / "files", people=PEOPLE, seed=SEED, year=AS_OF.year - 1, today=AS_OF)
    rules = [rule_by_id(rule_id) for rule_id in JOINT_RULES]
    snapshot = out / "snapshot"
    with django_db_blocker.unblock(), transaction.atomic():
        sync_defaults()
        load_county(files)
        values = run_parameters(rules, AS_OF, "14")
        write_snapshot(snapshot, AS_OF)
        households = dict(Household.objects.values_list("pk", "household_no"))
        kinds = {
            "monitored": Household.objects.exclude(monitoring_category="").exclude(risk_eliminated=True),
            "poverty": Household.objects.filter(household_type="脱贫户", monitoring_category=""),
            "other": Household.objects.filter(household_type="一般农户", monitoring_category=""),
        }
        coverage = {
            kind: (qs.filter(expenditures__year=AS_OF.year - 1).count(), qs.count())
            for kind, qs in kinds.items()
        }
        records = ExpenditureRecord.objects.count()
        audited = AuditEntry.objects.filter(model="registry.ExpenditureRecord", action="create").count()
        transaction.set_rollback(True)
    with open(files.truth, encoding="utf-8-sig") as fh:
        truth = [r for r in csv.DictReader(fh) if r["rule_id"] in JOINT_RULES]
    state = {"files": files, "rules": rules, "values": values, "snapshot": snapshot, "truth": truth,
             "households": households, "coverage": coverage, "records": records, "audited": audited,
             "results": {}}  # fmt: skip
    yield state
    shutil.rmtree(snapshot, ignore_errors=True)


def findings(county, engine):
    if engine == "spark" and not JAVA:
        pytest.skip("!!! no Java runtime: the Spark engine cannot start, Spark NOT CHECKED")
    if engine not in county["results"]:
        with open_engine(engine, county["snapshot"]) as runner:
            county["results"][engine] = {
                (rule.id, county["households"][int(row["household_key"])])
                for rule in county["rules"]
                for row in runner.run(rule, bind(rule.sql, county["values"]))
            }
    return county["results"][engine]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_every_2026_finding_is_seeded_and_every_seeded_one_is_found(county, engine):
    found = findings(county, engine)
    truth = {(r["rule_id"], r["household_no"]): r for r in county["truth"]}
    unseeded, missed = sorted(found - set(truth)), sorted(set(truth) - found)
    assert not unseeded, f"{engine}: findings on households written clean: " + "；".join(
        f"{rule} 户编号{no}" for rule, no in unseeded
    )
    assert not missed, f"{engine}: seeded and not found: " + "；".join(
        f"{rule} 户编号{no}（{truth[(rule, no)]['kind']}，{truth[(rule, no)]['file']}第{truth[(rule, no)]['row']}行）"
        for rule, no in missed
    )


@pytest.mark.slow
def test_the_demo_seeds_a_handful_of_each_and_names_them_in_truth(county):
    by_rule = {rule: [r for r in county["truth"] if r["rule_id"] == rule] for rule in JOINT_RULES}
    # three kinds of hardship (一般农户, 脱贫户, an eliminated household) at this size, one 低保边缘
    assert len(by_rule["RIGID_EXPENDITURE_DIFFICULTY"]) >= 3
    assert len(by_rule["GENERAL_BELOW_DIBAO_EDGE"]) >= 1
    for r in by_rule["RIGID_EXPENDITURE_DIFFICULTY"]:
        assert r["file"] == county["files"].expenditures.name and int(r["row"]) >= 2, r
        assert r["family"] == "收入监测" and r["kind"].startswith("刚性支出"), r


@pytest.mark.slow
def test_the_accounting_reads_like_a_county(county):
    """Most monitored households and 脱贫户 accounted, a few others; hardship is found where it should be
    (monitored households) and nowhere near a tenth of the county; every record is in the audit log."""
    coverage = county["coverage"]
    share = {kind: done / total for kind, (done, total) in coverage.items() if total}
    assert share["monitored"] >= 0.8 and share["poverty"] >= 0.7 and share["other"] <= 0.1, coverage
    assert county["records"] == county["audited"] > 0
    with open_engine("duckdb", county["snapshot"]) as runner:
        rows = runner.run(county["rules"][0], bind(HARDSHIP, county["values"]))
    outside = {int(r["household_key"]) for r in rows if not r["monitoring_category"] or r["risk_eliminated"]}
    seeded = {r["household_no"] for r in county["truth"] if r["rule_id"] == "RIGID_EXPENDITURE_DIFFICULTY"}
    assert {county["households"][k] for k in outside} == seeded
    assert len(rows) <= 0.03 * len(county["households"]), (
        f"{len(rows)} of {len(county['households'])} in hardship"
    )


def test_neither_2026_rule_runs_under_the_2025_regime_from_the_same_data():
    upsert_regions(builders.REGIONS)
    sync_defaults()
    builder = ExampleBuilder()
    [hardship] = builder.build(Example(expect=True, expenditure={"medical": 25000, "education": 3000}))
    [edge] = builder.build(
        Example(expect=True, income={"wage": 20000, "business": 10000, "business_expense": 3000})
    )
    assert not set(JOINT_RULES) & {r.id for r in enabled_rules(dt.date(2025, 6, 30))}
    assert set(JOINT_RULES) <= {r.id for r in enabled_rules(dt.date(2026, 6, 30))}
    old = run_screening(as_of=dt.date(2025, 6, 30))
    assert old.regime == "2025" and not set(JOINT_RULES) & set(old.rule_counts)
    assert not Finding.objects.filter(rule_id__in=JOINT_RULES).exists()
    new = run_screening(as_of=dt.date(2026, 6, 30))
    assert new.regime == "2026"
    found = dict(Finding.objects.filter(rule_id__in=JOINT_RULES).values_list("rule_id", "household_id"))
    assert found == {"RIGID_EXPENDITURE_DIFFICULTY": hardship.pk, "GENERAL_BELOW_DIBAO_EDGE": edge.pk}
    finding = Finding.objects.get(rule_id="RIGID_EXPENDITURE_DIFFICULTY")
    assert finding.family == "收入监测" and "刚性支出28,000元" in finding.message, finding.message


def test_the_rigid_total_counts_the_items_the_regimes_accounting_names(settings, tmp_path):
    """A province whose 2026 accounting counts only medical expenditure: education no longer makes a household
    one of 刚性支出困难, exactly as the household page's accounting (registry.accounting) counts it."""
    from fangpin.regimes.regime import CONFIG_DIR

    upsert_regions(builders.REGIONS)
    sync_defaults()
    [household] = ExampleBuilder().build(
        Example(expect=True, expenditure={"medical": 10000, "education": 12000})
    )
    rule = rule_by_id("RIGID_EXPENDITURE_DIFFICULTY")

    def fired(day: dt.date) -> set[int]:
        snapshot = tmp_path / f"snapshot-{len(list(tmp_path.iterdir()))}"
        write_snapshot(snapshot, day)
        with open_engine("duckdb", snapshot) as runner:
            return {
                int(row["household_key"])
                for row in runner.run(rule, bind(rule.sql, run_parameters([rule], day, "14")))
            }

    day = dt.date(2026, 6, 30)
    assert fired(day) == {household.pk}  # the national accounting: medical, education and care
    shipped = (CONFIG_DIR / "2026.toml").read_text(encoding="utf-8")
    province = shipped.replace('province = "*"', 'province = "14"', 1).replace(
        'rigid_items = ["medical", "education", "disability_care"]', 'rigid_items = ["medical"]', 1
    )
    assert 'rigid_items = ["medical"]' in province
    (tmp_path / "regimes").mkdir()
    (tmp_path / "regimes" / "2026.toml").write_text(province, encoding="utf-8")
    settings.FANGPIN_REGIMES_DIR = str(tmp_path / "regimes")
    assert fired(day) == set()
