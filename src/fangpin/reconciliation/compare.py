"""Comparing the register with the national side, household by household.

Both sides are reduced to the same values (`side values`): the members by the keyed hash of their ID,
and each compared field in one spelling. A difference is a field whose values disagree (the income
beyond the comparison's tolerance), read as officials read it. The fingerprint of an entry is a hash
over both sides' compared values: a 已核对 mark holds while it stays the same.

The register side is current as of the audit log's sequence number `Comparison.synced_seq`; `sync`
re-reads the households the log shows changed since, so a register change clears a mark at once.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from fangpin.audit import actions as audit
from fangpin.audit.models import Action, AuditEntry, ChainHead
from fangpin.monitoring.models import Measure
from fangpin.regions.models import Region
from fangpin.registry.models import Household, IncomeRecord, Member

from .models import CheckMark, Comparison, Difference, Entry

# households a page view re-reads at most; beyond it the page offers 重新比对 (a job) instead
SYNC_IN_REQUEST_MAX = 500
SYNC_IN_JOB_MAX = 1_000_000
BATCH = 1000
EMPTY = "（空）"
LABELS = {
    "household": "农户",
    "village": "所属村",
    "members": "家庭成员",
    "category": "监测对象类别",
    "risk_eliminated": "风险是否已消除",
    "eliminated_month": "消除监测时间",
    "elimination_method": "风险消除方式",
    "risk_types": "致贫/返贫风险",
    "income": "人均纯收入（元）",
}
# the list's filter by kind of difference: name → (label, fields)
GROUPS = {
    "household": ("仅一方有此户", ("household",)),
    "members": ("家庭成员", ("members",)),
    "village": ("所属村", ("village",)),
    "category": ("监测对象类别", ("category",)),
    "risk": ("风险消除情况", ("risk_eliminated", "eliminated_month", "elimination_method")),
    "risk_types": ("致贫/返贫风险", ("risk_types",)),
    "income": ("人均纯收入", ("income",)),
    "measures": ("帮扶措施", ()),  # every measure:<group> field
}
CLEARED = "比对结果已变化（国家系统或台账有改动），已核对标记自动取消"


def label(name: str) -> str:
    if name.startswith("measure:"):
        return f"帮扶措施（{name[8:]}）"
    return LABELS[name]


def group_q(group: str) -> Q:
    """Differences of one kind (a key of GROUPS)."""
    if group == "measures":
        return Q(field__startswith="measure:")
    return Q(field__in=GROUPS[group][1])


# --- the register side ----------------------------------------------------------------------------


def register_side(
    households: QuerySet[Household], *, year: int | None, cutoff: Any, fields: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """household_no → the register's values of `fields`, with pk, region_code, head_name and category."""
    fields = list(fields)
    rows = households.values(
        "pk", "household_no", "region_code", "head_name", "monitoring_category", "risk_eliminated",
        "eliminated_month", "elimination_method", "risk_types", "measures",
    )  # fmt: skip
    ids = households.values("pk")
    members: dict[int, dict[str, list[str]]] = {}
    for household_id, digest, name, masked, relation in Member.objects.filter(
        household_id__in=ids
    ).values_list("household_id", "id_number_hash", "name", "id_number_masked", "relation"):
        members.setdefault(household_id, {})[digest] = [name, masked, relation]
    incomes: dict[int, Decimal | None] = {}
    if "income" in fields and year:
        for household_id, computed, reported in IncomeRecord.objects.filter(
            household_id__in=ids, year=year
        ).values_list("household_id", "computed_per_capita", "reported_per_capita"):
            incomes[household_id] = computed if computed is not None else reported
    entered: dict[int, dict[str, set[str]]] = {}
    if any(f.startswith("measure:") for f in fields):
        running = Measure.objects.filter(household_id__in=ids, start__lte=cutoff).filter(
            Q(end__isnull=True) | Q(end__gte=cutoff)
        )
        for household_id, group, item in running.values_list("household_id", "group", "item"):
            entered.setdefault(household_id, {}).setdefault(group, set()).add(item)
    side: dict[str, dict[str, Any]] = {}
    for row in rows:
        pk = row["pk"]
        values: dict[str, Any] = {
            "pk": pk,
            "region_code": row["region_code"],
            "head_name": row["head_name"],
            "monitored": bool(row["monitoring_category"]),
            "members": members.get(pk, {}),
        }
        for name in fields:
            if name in ("category",):
                values[name] = row["monitoring_category"]
            elif name in ("risk_eliminated", "eliminated_month", "elimination_method"):
                values[name] = row[name]
            elif name == "risk_types":
                values[name] = sorted(r for r in row["risk_types"].split("、") if r)
            elif name == "income":
                value = incomes.get(pk)
                values[name] = None if value is None else str(value)
            elif name.startswith("measure:"):
                group = name[8:]
                imported = set((row["measures"] or {}).get(group, []))  # as the national export had them
                values[name] = measure_items(imported | entered.get(pk, {}).get(group, set()))
        side[row["household_no"]] = values
    return side


def measure_items(items: Iterable[str]) -> list[str]:
    """Measure names in one spelling: （）and () are the same measure, spaces are no difference."""
    return sorted({"".join(unicodedata.normalize("NFKC", item).split()) for item in items if item})


# --- comparing ------------------------------------------------------------------------------------


def _month(value: str) -> str:
    return f"{value[:4]}年{int(value[4:])}月" if len(value) == 6 and value.isdigit() else value


def shown(name: str, value: Any) -> str:
    """A compared value as an official reads it."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(value)
    if name == "eliminated_month":
        return _month(value)
    if name == "income":
        return f"{Decimal(value):,.2f}"
    return str(value)


def _person(values: list[str]) -> str:
    name, masked = values[0], values[1]
    return f"{name or '（无姓名）'}（{masked}）" if masked else name or "（无姓名）"


def _incomes_differ(ours: str | None, theirs: str | None, tolerance: Decimal) -> bool:
    if ours is None or theirs is None:
        return ours != theirs
    return abs(Decimal(ours) - Decimal(theirs)) > tolerance


def fingerprint(ours: dict[str, Any] | None, theirs: dict[str, Any] | None, fields: list[str]) -> str:
    """Over both sides' compared values only (members by hash): a change elsewhere keeps a mark."""

    def compared(values: dict[str, Any] | None) -> Any:
        if values is None:
            return None
        data = {name: values.get(name) for name in fields}
        data["members"] = sorted(values.get("members", {}))
        data["village"] = values.get("region_code")
        return data

    payload = json.dumps([compared(ours), compared(theirs)], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def differences(
    ours: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
    fields: list[str],
    tolerance: Decimal,
    village_names: dict[str, str],
) -> list[tuple[str, str, str]]:
    """(field, register's value, national value) for each way the household differs."""
    if ours is None or theirs is None:
        present = ours or theirs or {}
        there = f"有此户（{len(present.get('members', {}))}人）"
        return [("household", there if ours else "（无此户）", there if theirs else "（无此户）")]
    found: list[tuple[str, str, str]] = []
    if ours["region_code"] != theirs["region_code"]:
        found.append(("village", village_names.get(ours["region_code"], ours["region_code"]),
                      village_names.get(theirs["region_code"], theirs["region_code"])))  # fmt: skip
    mine, national = ours["members"], theirs["members"]
    for digest in sorted(set(mine) - set(national), key=lambda d: mine[d][0]):
        found.append(("members", _person(mine[digest]), "（无此人）"))
    for digest in sorted(set(national) - set(mine), key=lambda d: national[d][0]):
        found.append(("members", "（无此人）", _person(national[digest])))
    for name in fields:
        if name == "members":
            continue
        a, b = ours.get(name), theirs.get(name)
        differ = _incomes_differ(a, b, tolerance) if name == "income" else (a or None) != (b or None)
        if name == "risk_eliminated":
            differ = a != b
        if differ:
            found.append((name, shown(name, a), shown(name, b)))
    return found


def _village_names(codes: Iterable[str]) -> dict[str, str]:
    villages = Region.objects.filter(code__in=set(codes)).select_related("parent")
    return {v.code: f"{v.parent.name if v.parent else ''}{v.name}" for v in villages}


def _head_seq() -> int:
    head = ChainHead.objects.filter(pk=1).first()
    return head.seq if head else 0


def _entry(
    comparison: Comparison,
    key: str,
    ours: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
    names: dict[str, str],
) -> tuple[Entry, list[Difference]]:
    fields = comparison.compared
    region_code = (ours or theirs or {})["region_code"]
    entry = Entry(
        comparison=comparison,
        household_no=key,
        household_id=ours["pk"] if ours else None,
        region_code=region_code,
        head_name=(ours or {}).get("head_name") or (theirs or {}).get("head_name", ""),
        national=theirs,
        in_fangpin=ours is not None,
        fingerprint=fingerprint(ours, theirs, fields),
    )
    found = differences(ours, theirs, fields, comparison.tolerance, names)
    entry.differences = len(found)
    items = [
        Difference(comparison=comparison, region_code=region_code, field=name, label=label(name),
                   fangpin_value=a[:500], national_value=b[:500], position=i)
        for i, (name, a, b) in enumerate(found)
    ]  # fmt: skip
    return entry, items


def _wanted(ours: dict[str, Any] | None, theirs: dict[str, Any] | None, layout: str) -> bool:
    """A §3 file lists the monitoring objects: the register's other households are not expected in it."""
    return theirs is not None or (ours is not None and (layout != "monitoring" or ours["monitored"]))


def build(comparison: Comparison, national: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Compare the whole scope: every entry and difference anew, marks that no longer fit removed."""
    region = Region.objects.get(code=comparison.region_code)
    seq = _head_seq()  # read before the register: a change after it is found by the next sync
    ours = register_side(
        Household.objects.in_region(region), year=comparison.year, cutoff=comparison.cutoff,
        fields=comparison.compared,
    )  # fmt: skip
    keys = sorted(
        k for k in set(national) | set(ours) if _wanted(ours.get(k), national.get(k), comparison.layout)
    )
    names = _village_names([v["region_code"] for v in (*ours.values(), *national.values())])
    with transaction.atomic():
        comparison.entries.all().delete()
        prints: dict[str, tuple[str, int | None]] = {}
        for start in range(0, len(keys), BATCH):
            batch = [
                _entry(comparison, k, ours.get(k), national.get(k), names)
                for k in keys[start : start + BATCH]
            ]
            Entry.objects.bulk_create([e for e, _ in batch])
            Difference.objects.bulk_create(
                [_attach(d, e) for e, items in batch for d in items], batch_size=BATCH
            )
            prints |= {e.household_no: (e.fingerprint, e.household_id) for e, _ in batch}
        marks = CheckMark.objects.in_region(region)
        cleared = _settle(marks, prints)
        comparison.synced_seq = seq
        comparison.status = Comparison.Status.READY
        comparison.finished_at = timezone.now()
        comparison.summary = _summary(comparison) | {"cleared_marks": cleared}
        comparison.save()
    return comparison.summary


def _attach(item: Difference, entry: Entry) -> Difference:
    item.entry = entry
    return item


def _settle(marks: QuerySet[CheckMark], prints: dict[str, tuple[str, int | None]]) -> int:
    """Remove the marks whose household's fingerprint is no longer the one checked (audited)."""
    stale = [m for m in marks if prints.get(m.household_no, ("", None))[0] != m.fingerprint]
    if not stale:
        return 0
    CheckMark.objects.filter(pk__in=[m.pk for m in stale]).delete()
    audit.append([
        audit.PendingEntry(action=Action.DELETE, model="reconciliation.CheckMark", object_id=str(m.pk),
                           object_repr=str(m), household_id=prints.get(m.household_no, ("", None))[1],
                           region_code=m.region_code, before={"fingerprint": m.fingerprint, "note": m.note},
                           detail=CLEARED)
        for m in stale
    ])  # fmt: skip
    return len(stale)


def _summary(comparison: Comparison) -> dict[str, int]:
    entries = comparison.entries.all()
    return {
        "households": entries.count(),
        "different": entries.filter(differences__gt=0).count(),
        "only_national": entries.filter(in_fangpin=False).count(),
        "only_fangpin": entries.filter(national__isnull=True).count(),
        "differences": Difference.objects.filter(comparison=comparison).count(),
    }


def stored_national(comparison: Comparison) -> dict[str, dict[str, Any]]:
    return {
        key: values
        for key, values in comparison.entries.exclude(national__isnull=True).values_list(
            "household_no", "national"
        )
    }


def sync(comparison: Comparison, *, limit: int = SYNC_IN_REQUEST_MAX) -> bool:
    """Bring the register side up to the audit log's head for the households changed since the last
    sync. Returns False (nothing done) when more than `limit` households changed: then 重新比对."""
    head = _head_seq()
    if head <= comparison.synced_seq:
        return True
    changed = set(
        AuditEntry.objects.filter(seq__gt=comparison.synced_seq, seq__lte=head, household_id__isnull=False)
        .values_list("household_id", flat=True)
        .distinct()
    )
    if len(changed) > limit:
        return False
    region = Region.objects.get(code=comparison.region_code)
    ours = register_side(
        Household.objects.in_region(region).filter(pk__in=changed), year=comparison.year,
        cutoff=comparison.cutoff, fields=comparison.compared,
    )  # fmt: skip
    with transaction.atomic():
        if not Comparison.objects.filter(pk=comparison.pk, synced_seq=comparison.synced_seq).update(
            synced_seq=head
        ):
            return True  # another request synced it meanwhile
        existing = {
            e.household_no: e
            for e in comparison.entries.filter(Q(household_id__in=changed) | Q(household_no__in=list(ours)))
        }
        names = _village_names(
            [v["region_code"] for v in ours.values()] + [e.region_code for e in existing.values()]
        )
        prints: dict[str, tuple[str, int | None]] = {}
        for key in set(existing) | set(ours):
            old = existing.get(key)
            theirs = old.national if old else None
            mine = ours.get(key)
            if not _wanted(mine, theirs, comparison.layout):
                if old is not None:
                    old.delete()
                continue
            entry, items = _entry(comparison, key, mine, theirs, names)
            if old is not None:  # the same row (its page's address stays), with its differences anew
                entry.pk = old.pk
                old.items.all().delete()
            entry.save()
            Difference.objects.bulk_create([_attach(d, entry) for d in items])
            prints[key] = (entry.fingerprint, entry.household_id)
        keys = set(existing) | set(ours)
        _settle(CheckMark.objects.filter(household_no__in=list(keys)), prints)
        comparison.synced_seq = head
        comparison.summary = {**comparison.summary, **_summary(comparison)}
        Comparison.objects.filter(pk=comparison.pk).update(summary=comparison.summary)
    return True


def current(user: Any) -> Comparison | None:
    """The latest finished comparison whose region holds the user's region: what the user's pages show."""
    if getattr(user, "region", None) is None:
        return None
    for comparison in Comparison.objects.filter(status=Comparison.Status.READY).order_by(
        "-created_at", "-id"
    ):
        if user.region.code.startswith(_prefix(comparison.region_code)):
            return comparison
    return None


def _prefix(code: str) -> str:
    region = Region.objects.filter(code=code).first()
    return region.prefix if region else code
