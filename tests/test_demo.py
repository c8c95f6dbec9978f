from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter

import pytest
from python_calamine import CalamineWorkbook

from fangpin.demo.generator import CountyGenerator, write_demo_files
from fangpin.monitoring.procedure import procedure
from tests.cli_helpers import fangpin

pytestmark = pytest.mark.slow


def _cells(path) -> str:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_the_demo_county_is_deterministic_by_seed(tmp_path):
    a = write_demo_files(tmp_path / "a", people=800, seed=7, year=2025)
    b = write_demo_files(tmp_path / "b", people=800, seed=7, year=2025)
    c = write_demo_files(tmp_path / "c", people=800, seed=8, year=2025)
    assert _cells(a.members) == _cells(b.members) != _cells(c.members)
    assert a.regions.read_bytes() == b.regions.read_bytes()


def test_the_demo_county_has_the_real_county_code_and_about_200_villages():
    generator = CountyGenerator(100, 1, 2025)
    codes = [code for code, _ in generator.region_rows()]
    assert "140826000000" in codes
    villages = [c for c in codes if not c.endswith("000")]
    assert 170 <= len(villages) <= 230 and all(c.startswith("140826") and len(c) == 12 for c in villages)
    families = list(generator.families())
    assert all(m.id_number.startswith("140826") for f in families for m in f.members)


def test_fangpin_demo_imports_through_the_import_path_and_prints_a_login_per_role(tmp_path):
    data = tmp_path / "data"
    fangpin(data, "migrate", "--no-input", "-v0")
    result = fangpin(data, "demo", "--people", "1500")
    assert "导入成功" in result.stderr and "示范县已就绪" in result.stderr
    for username in ("xian_admin", "zhen_gujiang", "cun_demo", "dept_yibao", "dudao", "audit_admin"):
        assert username in result.stdout
    assert "监测帮扶：" in result.stderr
    states = json.loads(fangpin(data, "shell", "-v", "0", "-c",
                                "import json; from fangpin.monitoring import actions; from fangpin.monitoring.models import *;"
                                "cases = list(Case.objects.all());"
                                "print(json.dumps({'steps': sorted({c.kind + ':' + c.step for c in cases if c.status == 'open'}),"
                                "'status': sorted({c.kind + ':' + c.status for c in cases}),"
                                "'overdue': sum(actions.clock(c).step_overdue for c in cases),"
                                "'objections': [o.answered_at is None for o in Objection.objects.all()],"
                                "'clues': sorted({c.source for c in Clue.objects.filter(status='pending')}),"
                                "'reverted': Reversion.objects.count(), 'visits': Visit.objects.count(),"
                                "'pairings': Pairing.objects.count()}))").stdout)  # fmt: skip
    steps = [f"identification:{s.code}" for s in procedure("identification").steps]
    assert set(steps) <= set(states["steps"]) and "elimination:notice" in states["steps"]
    assert {"identification:done", "identification:closed", "elimination:done"} <= set(states["status"])
    assert states["overdue"] >= 2 and sorted(states["objections"]) == [False, True]
    assert {"self", "cadre"} <= set(states["clues"]) and states["reverted"] == 1
    assert states["visits"] > 0 and states["pairings"] > 0
    again = fangpin(data, "demo", "--people", "1500")
    assert "跳过生成和导入" in again.stderr
    assert "哈希链无断裂" in fangpin(data, "audit", "verify").stdout


def test_screening_the_demo_county_raises_every_department_warning_and_many_kinds_of_doubt(tmp_path):
    data = tmp_path / "data"
    fangpin(data, "migrate", "--no-input", "-v0")
    result = fangpin(data, "demo", "--people", "8000")
    assert "未通过校验" in result.stderr  # the Excel-damaged medical export is refused with its report
    counts = fangpin(data, "shell", "-v", "0", "-c",
                     "import json; from fangpin.rules.models import ScreeningRun;"
                     "print(json.dumps(ScreeningRun.objects.order_by('id').first().rule_counts))")  # fmt: skip
    rule_counts = json.loads(counts.stdout)
    silent = [rule for rule, n in rule_counts.items() if rule.startswith("DEPT_") and not n]
    assert silent == [], f"department warnings the demo never raises: {silent}"
    assert sum(1 for rule, n in rule_counts.items() if rule.startswith("DQ_") and n) >= 15
    # screened on the day it is built, it finds what was seeded and nothing else (truth.csv)
    with open(data / "demo" / "truth.csv", encoding="utf-8-sig") as fh:
        seeded = Counter(row["rule_id"] for row in csv.DictReader(fh))
    found = Counter({rule: n for rule, n in rule_counts.items() if n})
    assert found == seeded, f"found but not seeded: {found - seeded}; seeded but not found: {seeded - found}"
