"""The demo county's 收支核算 (unified income-and-expenditure accounting, 2026 regime): the rigid expenditure
of the income year a county records at its home verifications, beside the income of the national export.

Who has a record, as a county's first year of joint monitoring would hold them: nearly every monitored
household and 脱贫户 (the villages account for them every year), and a few of the other households
(those a village visited for a clue or a 民政 application). The amounts are what the household paid
itself: a patient with a chronic illness 3,000–15,000 元 a year, a serious illness more, a student in
高中 or at university the fees and board, a severely disabled member the care; small outpatient bills
elsewhere. A household under monitoring may well spend more than half its income: that is why it is
monitored. Any other household is kept clear of 刚性支出困难 (catalogue/65_joint_monitoring.toml) with a
margin, except the ones faults.py seeds on purpose and records in truth.csv.

The records reach the register in `load_expenditures`, bulk, one audit entry each, like the demo's
measures: the platform records rigid expenditure at a home verification (registry.accounting), and no
national layout carries it.
"""

from __future__ import annotations

import csv
import random
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from .generator import COUNTY, Family, Person

if TYPE_CHECKING:
    from fangpin.accounts.models import User

    from .generator import CountyGenerator

ITEMS = ("medical", "education", "disability_care")
HEADER = ("户编号", "年度", "医疗支出（个人负担）", "教育支出", "残疾康复护理支出", "来源")
SOURCE = "入户核查"
# who has a record (the rest have none: not accounted, which is not zero)
COVERAGE = {"monitored": 0.92, "eliminated": 0.85, "poverty": 0.8, "other": 0.05}
# a clean household stays this far from the two lines of 刚性支出困难
SHARE_MARGIN, INCOME_MARGIN = Decimal("0.9"), Decimal("1.02")
# the most a household plausibly pays in a year, per person, for the seeded hardships
CAPS = {"患有大病": 60_000, "长期慢性病": 18_000, "university": 16_000, "高中": 6_500, "中职": 3_500, "severe": 12_000,
        "disabled": 3_000}  # fmt: skip


def file_name(year: int) -> str:
    return f"收支核算_{COUNTY[1]}_{year}.csv"


def _tens(value: float | Decimal) -> Decimal:
    return Decimal(int(value) // 10 * 10)


def severe(p: Person) -> bool:
    """一级、二级残疾 (the grade digit of the card, on the export or on file at 残联): needs care."""
    grade = (p.card or p.roster_card)[1:2]
    return p.health == "残疾" and grade in ("1", "2")


def school_kind(p: Person) -> str:
    school = p.school
    if school.startswith(("本科", "高职")):
        return "university"
    if school.startswith("高中"):
        return "高中"
    if school.startswith("中职"):
        return "中职"
    if school == "学前教育":
        return "preschool"
    return "compulsory" if p.student else ""


def natural(rng: random.Random, f: Family) -> dict[str, Decimal]:
    """What the household spent, from its members' facts."""
    medical = education = care = 0
    for p in f.members:
        if p.health == "患有大病":
            medical += rng.randint(8_000, 30_000)
        elif p.health == "长期慢性病":
            medical += rng.randint(3_000, 15_000)
        kind = school_kind(p)
        education += {"university": rng.randint(9_000, 15_000), "高中": rng.randint(3_000, 6_000),
                      "中职": rng.randint(1_000, 3_000), "preschool": rng.randint(1_500, 3_500),
                      "compulsory": rng.randint(300, 1_200)}.get(kind, 0)  # fmt: skip
        if severe(p):
            care += rng.randint(2_400, 9_000)
        elif p.health == "残疾" and rng.random() < 0.5:
            care += rng.randint(300, 1_500)
    if f.self_pay:  # the 合规自付支出 of the export is part of what the household paid itself
        medical = max(medical, int(f.self_pay) + rng.randint(0, int(f.self_pay) // 5))
    if not medical and rng.random() < 0.6:
        medical = rng.randint(200, 1_500)  # outpatient bills, medicine
    return {"medical": _tens(medical), "education": _tens(education), "disability_care": _tens(care)}


def capacity(f: Family) -> dict[str, Decimal]:
    """The most each item can plausibly be for this household (the seeded hardships stay inside it)."""
    medical = sum(CAPS.get(p.health, 0) for p in f.members)
    education = sum(CAPS.get(school_kind(p), 0) for p in f.members)
    care = sum(
        CAPS["severe"] if severe(p) else CAPS["disabled"] if p.health == "残疾" else 0 for p in f.members
    )
    return {"medical": Decimal(medical), "education": Decimal(education), "disability_care": Decimal(care)}


def active(f: Family) -> bool:
    return bool(f.category) and not f.eliminated


def clean_record(rng: random.Random, f: Family, parameters: dict[str, float]) -> dict[str, Decimal] | None:
    """The household's record, or None (no accounting). Outside active monitoring it stays clear of
    刚性支出困难: below the share of income with a margin, whenever its income is near or under the line."""
    if f.category:
        group = "monitored" if active(f) else "eliminated"
    else:
        group = "poverty" if f.household_type == "脱贫户" else "other"
    if rng.random() >= COVERAGE[group]:
        return None
    record = natural(rng, f)
    if active(f):
        return record
    if f.net <= 0:
        return None  # not accounted: a household with no income is for the village to visit first
    line = Decimal(str(parameters["rural_disposable_income_prev_year"])) * INCOME_MARGIN
    cap = Decimal(str(parameters["rigid_expense_share"])) * SHARE_MARGIN * f.net
    total = sum(record.values(), Decimal(0))
    if f.per_capita < line and total > cap:
        ratio = cap / total
        record = {name: _tens(value * ratio) for name, value in record.items()}
    return record


def hardship_record(rng: random.Random, f: Family, parameters: dict[str, float]) -> dict[str, Decimal] | None:
    """A seeded 刚性支出困难: the household's own items raised towards what they can plausibly be until the
    total is well above the share of income; None when its facts cannot carry that much."""
    share = Decimal(str(parameters["rigid_expense_share"]))
    line = Decimal(str(parameters["rural_disposable_income_prev_year"]))
    if f.net <= 0 or f.per_capita >= line * Decimal("0.97"):
        return None
    low, high = float(share) * 1.2, min(float(share) * 1.8, 0.95)
    target = f.net * Decimal(str(round(rng.uniform(low, high), 3)))
    record, caps = natural(rng, f), capacity(f)
    have, room = sum(record.values(), Decimal(0)), sum(caps.values(), Decimal(0))
    if have >= target:
        return record
    if room <= target or room <= have:
        return None
    t = (target - have) / (room - have)
    return {name: _tens(value + (max(caps[name], value) - value) * t) for name, value in record.items()}


def describe(record: dict[str, Decimal], f: Family) -> str:
    total = sum(record.values(), Decimal(0))
    return (
        f"刚性支出{total:,.0f}元（医疗{record['medical']:,.0f}、教育{record['education']:,.0f}、"
        f"残疾康复护理{record['disability_care']:,.0f}），家庭纯收入{f.net:,.0f}元，人均{f.per_capita:,.0f}元"
    )


class ExpenditureWriter:
    """收支核算_<县>_<年>.csv: one row per household with a record, as the generator completes them."""

    def __init__(self, path: Path, generator: CountyGenerator, seed: int) -> None:
        self.path = path
        self.year = generator.year
        self.parameters = generator.parameters
        self.rng = random.Random(seed)  # its own stream: the rest of the county does not move
        self.fh = open(path, "w", newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed in close())
        self.writer = csv.writer(self.fh)
        self.writer.writerow(HEADER)
        self.row = 1
        self.count = 0

    def see(self, f: Family) -> None:
        record = f.expenditure if f.expenditure is not None else clean_record(self.rng, f, self.parameters)
        if record is None:
            return
        self.writer.writerow([f.household_no, self.year, *(record[name] for name in ITEMS), SOURCE])
        self.row += 1
        self.count += 1
        f.rows["expenditure"] = self.row

    def close(self) -> None:
        self.fh.close()


def load_expenditures(path: Path, user: User | None = None) -> int:
    """The 收支核算 file into the register (ExpenditureRecord), bulk, with one audit entry per record."""
    from django.db import transaction
    from django.utils import timezone

    from fangpin.audit import actions as audit
    from fangpin.audit.models import Action
    from fangpin.common.bulk import fast_insert
    from fangpin.regimes.regime import regime_for
    from fangpin.registry.models import ExpenditureRecord, Household

    version = regime_for(timezone.localdate()).accounting.version
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))[1:]
    households = dict(
        Household.objects.filter(household_no__in=[r[0] for r in rows]).values_list("household_no", "pk")
    )
    regions = dict(Household.objects.filter(pk__in=households.values()).values_list("pk", "region_code"))
    records = [
        ExpenditureRecord(household_id=households[no], region_code=regions[households[no]], year=int(year),
                          medical=Decimal(medical), education=Decimal(education),
                          disability_care=Decimal(care), source=source, accounting_version=version)
        for no, year, medical, education, care, source in rows
        if no in households
    ]  # fmt: skip
    with transaction.atomic():
        fast_insert(ExpenditureRecord, records)
        audit.append([
            audit.PendingEntry(action=Action.CREATE, model="registry.ExpenditureRecord", object_id=str(r.pk),
                               object_repr=str(r), household_id=r.household_id, region_code=r.region_code,
                               after=audit.snapshot(r, drop_empty=True), detail="示范数据：收支核算（入户核查）")
            for r in records
        ])  # fmt: skip
    return len(records)
