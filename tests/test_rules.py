"""Every rule of the catalogue on its own examples, on DuckDB and on Spark, with identical findings."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
from django.db import transaction

from fangpin.regions.actions import upsert_regions
from fangpin.rules.actions import run_parameters
from fangpin.rules.catalogue import Example, load_catalogue
from fangpin.rules.engines import bind, open_engine
from fangpin.rules.parameters import sync_defaults
from fangpin.rules.snapshot import write_snapshot
from tests import builders
from tests.rule_examples import AS_OF, ExampleBuilder

pytestmark = pytest.mark.django_db  # the database is set up only when a test of the session asks for it
RULES = load_catalogue()
JAVA = shutil.which("java")
CLEAN = "clean"


def _normalise(rows):
    def value(v):
        if isinstance(v, float | Decimal):
            return round(float(v), 2)
        return v

    return sorted(tuple(sorted((k, value(v)) for k, v in row.items())) for row in rows)


@pytest.fixture(scope="module")
def outcomes(django_db_setup, django_db_blocker, tmp_path_factory):
    """Build every example household, snapshot once, run all rules on both engines."""
    snapshot = tmp_path_factory.mktemp("snapshot")
    with django_db_blocker.unblock(), transaction.atomic():
        upsert_regions(builders.REGIONS)
        sync_defaults()
        builder = ExampleBuilder()
        clean = builder.build(Example(expect=False))[0].pk
        households = {
            (rule.id, i): [h.pk for h in builder.build(example)]
            for rule in RULES
            for i, example in enumerate(rule.examples)
        }
        values = run_parameters(list(RULES), AS_OF, "14")
        write_snapshot(snapshot, AS_OF)
        transaction.set_rollback(True)
    results = {}
    for engine in ("duckdb", "spark") if JAVA else ("duckdb",):
        with open_engine(engine, snapshot) as runner:
            results[engine] = {rule.id: runner.run(rule, bind(rule.sql, values)) for rule in RULES}
    shutil.rmtree(snapshot, ignore_errors=True)
    return {"clean": clean, "households": households, "results": results}


def _fired(outcomes, engine, rule_id):
    return {int(row["household_key"]) for row in outcomes["results"][engine][rule_id]}


@pytest.mark.slow
@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_the_rule_fires_on_its_positive_examples_and_not_on_its_negative_ones(outcomes, rule):
    assert any(e.expect for e in rule.examples) and any(not e.expect for e in rule.examples), "needs both"
    fired = _fired(outcomes, "duckdb", rule.id)
    for i, example in enumerate(rule.examples):
        households = set(outcomes["households"][(rule.id, i)])
        if example.expect:
            assert households & fired, f"example {i} should fire"
        else:
            assert not households & fired, f"example {i} should not fire"


@pytest.mark.slow
@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_duckdb_and_spark_find_exactly_the_same(outcomes, rule):
    if "spark" not in outcomes["results"]:
        pytest.skip("!!! no Java runtime: the Spark engine cannot start, DuckDB = Spark NOT CHECKED")
    assert _normalise(outcomes["results"]["duckdb"][rule.id]) == _normalise(
        outcomes["results"]["spark"][rule.id]
    )


@pytest.mark.slow
def test_the_clean_household_triggers_no_rule(outcomes):
    fired = [rule.id for rule in RULES if outcomes["clean"] in _fired(outcomes, "duckdb", rule.id)]
    assert fired == []


def test_every_rule_declares_its_evidence_and_a_message_that_uses_it():
    for rule in RULES:
        assert rule.name and rule.explanation and rule.evidence, rule.id
        for column in rule.evidence:
            assert column in rule.sql, f"{rule.id}: evidence column {column} is not selected"
