"""Builds the households that the rule catalogue's examples describe.

Every example starts from one clean household (a working couple and a school child, insured,
safe house and water, income well above the line) and changes what the example says. The clean
household itself must trigger no rule at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from itertools import count
from typing import Any

from django.db.models import CharField, DecimalField, TextField

from fangpin.common.bulk import fast_insert
from fangpin.common.crypto import cipher
from fangpin.common.idnumber import make_id, mask_id
from fangpin.common.phone import mask_phone
from fangpin.regions.models import Region
from fangpin.registry.models import RIGID_COMPONENTS, ExpenditureRecord, Household, IncomeRecord, Member
from fangpin.rules.catalogue import Example

AS_OF = dt.date(2025, 6, 30)
INCOME_YEAR = 2024
VILLAGE = "140826100201"

BASE_HOUSEHOLD: dict[str, Any] = {
    "household_type": "一般农户", "monitoring_category": "", "annual_size": 3, "current_size": 3,
    "cultivated_area": Decimal("5"), "forest_area": Decimal("0"), "returned_farmland_area": Decimal("0"),
    "orchard_area": Decimal("0"), "pasture_area": Decimal("0"), "water_area": Decimal("0"),
    "dangerous_house": False, "housing_area": Decimal("120"), "safe_drinking_water": True,
    "sanitary_toilet": True, "road_type": "水泥路", "distance_to_road": "0.5公里", "has_electricity": True,
    "risk_types": "", "measures": {}, "claims_income": Decimal("0"), "compliant_self_pay": Decimal("0"),
}  # fmt: skip
BASE_PERSON: dict[str, Any] = {
    "education": "初中", "school_status": "", "dropout_reason": "", "health": "健康", "labour_skill": "普通劳动力",
    "resident_medical_insurance": True, "employee_medical_insurance": False, "critical_illness_insurance": True,
    "resident_pension": True, "employee_pension": False, "dibao": False, "tekun": False, "work_place": "",
}  # fmt: skip
BASE_MEMBERS = {
    "head": {"name": "张大山", "relation": "户主", "gender": "男", "birth_date": "1980-03-01", "work_months": 10,
             "work_place": "本县"},
    "spouse": {"name": "李春花", "relation": "配偶", "gender": "女", "birth_date": "1982-05-01", "work_months": 10,
               "work_place": "运城市"},
    "child": {"name": "张小宝", "relation": "之子", "gender": "男", "birth_date": "2015-09-01",
              "school_status": "小学四年级", "education": "", "labour_skill": "无劳动力", "resident_pension": None},
}  # fmt: skip
BASE_INCOME = {"wage": Decimal("30000"), "business": Decimal("10000"), "property": Decimal("0"),
               "transfer": Decimal("0"), "business_expense": Decimal("3000")}  # fmt: skip


def _typed(model: type, values: dict[str, Any]) -> dict[str, Any]:
    """TOML has no null: an empty string in an example means "not filled in" for non-text fields."""
    out = {}
    for name, value in values.items():
        field = model._meta.get_field(name)
        if value == "" and not isinstance(field, CharField | TextField):
            value = None
        elif isinstance(field, DecimalField) and value is not None:
            value = Decimal(str(value))
        out[name] = value
    return out


class ExampleBuilder:
    def __init__(self) -> None:
        self.village = Region.objects.get(code=VILLAGE)
        self.numbers = count(1)
        self.sequences: dict[tuple[dt.date, str], int] = defaultdict(int)
        self.cipher = cipher()
        self.rosters: dict[str, Any] = {}

    def _id(self, birth: dt.date, gender: str) -> str:
        n = self.sequences[(birth, gender)]
        self.sequences[(birth, gender)] += 1
        return make_id("140826", birth, 2 * n + (1 if gender == "男" else 0))

    def build(self, example: Example) -> list[Household]:
        households = [self._household(example)]
        if example.twin:
            households.append(self._household(example))
        return households

    def _household(self, example: Example) -> Household:
        number = next(self.numbers)
        values = {**BASE_HOUSEHOLD, "phone": f"139{number:08d}", **example.household}
        phone = values.pop("phone")
        household = Household(
            household_no=f"EX{number:05d}",
            region=self.village,
            region_code=VILLAGE,
            **_typed(Household, values),
        )
        if phone:
            household.phone_enc = self.cipher.encrypt(phone, "phone")
            household.phone_hash = self.cipher.digest(phone, "phone")
            household.phone_masked = mask_phone(phone)
        specs = [
            {**BASE_PERSON, **BASE_MEMBERS[role], **getattr(example, role)}
            for role in ("head", "spouse", "child")
            if getattr(example, role) is not None
        ]
        if example.member:
            specs.append({**BASE_PERSON, "name": "王其人", "work_months": None, **example.member})
        household.head_name = specs[0]["name"]
        fast_insert(Household, [household])
        members = [self._member(household, spec) for spec in specs]
        fast_insert(Member, members)
        roles = dict(zip([r for r in ("head", "spouse", "child")] + (["member"] if example.member else []), members,
                         strict=False))  # fmt: skip
        self._rosters(example, household, roles)
        incomes = []
        for year, overrides in ((INCOME_YEAR, example.income), (INCOME_YEAR - 1, example.previous_income)):
            income = IncomeRecord(
                household=household,
                region_code=VILLAGE,
                year=year,
                **_typed(IncomeRecord, {**BASE_INCOME, **overrides}),
            )
            net = (
                (income.wage or 0)
                + (income.business or 0)
                + (income.property or 0)
                + (income.transfer or 0)
                - (income.business_expense or 0)
            )
            income.computed_net = Decimal(net)
            income.computed_per_capita = (Decimal(net) / len(members)).quantize(Decimal("0.01"))
            income.divisor_size = len(members)
            incomes.append(income)
        fast_insert(IncomeRecord, incomes)
        if example.expenditure:  # the rigid expenditure (收支核算) of the income year, "" for an unknown item
            items = {name: "" for name in RIGID_COMPONENTS} | example.expenditure
            fast_insert(ExpenditureRecord, [ExpenditureRecord(household=household, region_code=VILLAGE, year=INCOME_YEAR,
                                                              source="入户核查", **_typed(ExpenditureRecord, items))])  # fmt: skip
        Household.objects.filter(pk=household.pk).update(
            income_year=INCOME_YEAR, per_capita_income=incomes[0].computed_per_capita
        )
        return household

    def _rosters(self, example: Example, household: Household, roles: dict[str, Member]) -> None:
        from fangpin.accounts.models import User
        from fangpin.feeds.kinds import KINDS
        from fangpin.feeds.models import Roster, RosterRecord

        for number, spec in enumerate(example.rosters, start=1):
            spec = dict(spec)
            kind, person = spec.pop("kind"), roles[spec.pop("who")]
            if kind not in self.rosters:
                loader, _ = User.objects.get_or_create(
                    username="roster_loader", defaults={"role": "county_admin"}
                )
                self.rosters[kind] = Roster.objects.create(kind=kind, source="示例", period="202506",
                                                           file_path="", file_name="示例", uploaded_by=loader)  # fmt: skip
            date = dt.date.fromisoformat(spec.pop("date"))
            fields = {f.key: f for f in KINDS[kind].fields}
            values = {k: (f"{v:.2f}" if fields[k].kind == "money" else v) for k, v in spec.items()}
            RosterRecord.objects.create(
                roster=self.rosters[kind], kind=kind, row_number=number, id_hash=person.id_number_hash, member=person,
                household=household, region_code=VILLAGE, date=date, values=values,
            )  # fmt: skip

    def _member(self, household: Household, spec: dict[str, Any]) -> Member:
        spec = dict(spec)
        birth = dt.date.fromisoformat(spec.pop("birth_date"))
        id_birth = dt.date.fromisoformat(spec.pop("id_birth", birth.isoformat()))
        id_number = self._id(id_birth, spec.pop("id_gender", spec["gender"]))
        if card := spec.pop("disability_card", None):
            id_number += card
            spec["id_type"] = "残疾人证"
        phone = spec.pop("phone", "")
        member = Member(household=household, region_code=VILLAGE, birth_date=birth, **_typed(Member, spec))
        member.id_number_enc = self.cipher.encrypt(id_number, "id")
        member.id_number_hash = self.cipher.digest(id_number[:18], "id")
        member.id_number_masked = mask_id(id_number)
        if phone:
            member.phone_enc = self.cipher.encrypt(phone, "phone")
            member.phone_hash = self.cipher.digest(phone, "phone")
            member.phone_masked = mask_phone(phone)
        return member
