"""The entity list a phone carries: the cadre's own households only, masked, with a version per
household so that a submission made on facts someone has changed since can be told apart."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Max, QuerySet

from fangpin.accounts.roles import Role
from fangpin.audit.models import AuditEntry
from fangpin.monitoring.models import Visit
from fangpin.registry.models import Household

# whole-village lists for the village team; everyone else (a 帮扶责任人, a township official who is paired
# with households too) carries their paired households only: a township's list on a phone is too much
VILLAGE_LIST_ROLES = (Role.VILLAGE,)
# the register rows whose change makes a phone's copy of the household stale
REGISTER_MODELS = ("registry.Household", "registry.Member", "registry.IncomeRecord")
COLUMNS = ("name", "label", "__version", "village", "last_visit", "risks")


def field_households(user: Any) -> QuerySet[Household]:
    """The households a user's phone may list and submit for: checked again at every submission."""
    in_scope = Household.objects.for_user(user)
    if user.role in VILLAGE_LIST_ROLES:
        return in_scope
    return in_scope.filter(pairings__cadre=user, pairings__until__isnull=True)


def mask_name(name: str) -> str:
    """张*国, 王*, 欧阳**雪: the first character (and the last of three or more) stay readable."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def versions(household_ids: list[int]) -> dict[int, str]:
    """The household's version: the sequence number of the newest audit entry about its register rows
    (a visit or a case step is no change of facts). Every change of the register is on the chain."""
    rows = (
        AuditEntry.objects.filter(household_id__in=household_ids, model__in=REGISTER_MODELS)
        .values("household_id").annotate(v=Max("seq")).order_by()
    )  # fmt: skip
    found = {row["household_id"]: str(row["v"]) for row in rows}
    return {pk: found.get(pk, "0") for pk in household_ids}


def version_of(household: Household) -> str:
    return versions([household.pk])[household.pk]


def rows(user: Any) -> list[dict[str, str]]:
    households = list(
        field_households(user).select_related("region")
        .only("id", "head_name", "region__name", "risk_types", "risk_eliminated", "monitoring_category")
        .order_by("region_code", "household_no")
    )  # fmt: skip
    ids = [h.pk for h in households]
    last = dict(
        Visit.objects.filter(household_id__in=ids).values_list("household").annotate(Max("visited_on"))
    )
    version = versions(ids)
    out = []
    for h in households:
        masked, village = mask_name(h.head_name), h.region.name
        open_risks = h.risk_types if h.monitoring_category and not h.risk_eliminated else ""
        day = last.get(h.pk)
        out.append({
            "name": str(h.pk), "label": f"{masked}（{village}）", "__version": version[h.pk], "village": village,
            "last_visit": f"{day:%Y-%m-%d}" if day else "未走访", "risks": open_risks,
        })  # fmt: skip
    return out


def households_csv(user: Any) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(user))
    return buffer.getvalue().encode("utf-8")
