from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.audit.actions import record_sensitive_read
from fangpin.field.entities import mask_name
from fangpin.regimes.regime import current as current_regime
from fangpin.regions.models import Region
from fangpin.registry import accounting
from fangpin.registry.facts import FactsForm
from fangpin.registry.models import Household
from fangpin.rules.models import WARNING_FAMILIES, Finding
from fangpin.web import summary
from fangpin.web.paging import by_key, newest_first
from fangpin.web.views import capability_required, forbidden, perform, submit

from . import actions, assistance, elimination, notice, referral
from .forms import (
    AdvanceForm,
    AnswerForm,
    ClueForm,
    EliminationForm,
    JointIntakeForm,
    MeasureForm,
    ObjectionForm,
    OpenCaseForm,
    ReasonForm,
    ReferForm,
    ReferralOutcomeForm,
    VerifyForm,
    VisitForm,
)  # fmt: skip
from .models import Attachment, Case, Clue, Measure, Objection, Outcome, Pairing, Referral, Visit
from .procedure import procedure
from .timeline import timeline

ROLE_LABELS = {r.value: r.label for r in Role}
OVERDUE_SHOWN = 50  # the most overdue; the count says how many there are in all


def _scoped_household(request: HttpRequest, pk: int) -> Household:
    return get_object_or_404(Household.objects.for_user(request.user).select_related("region"), pk=pk)


def _township_names() -> dict[str, str]:
    return {r.code[:9]: r.name for r in Region.objects.filter(level=4)}


# ---- inbox -----------------------------------------------------------------------------------------


@capability_required("view_register")
def inbox(request: HttpRequest) -> HttpResponse:
    clues = Clue.objects.for_user(request.user).select_related("household", "case")
    status = request.GET.get("status", "pending")
    if status in Clue.Status.values:
        clues = clues.filter(status=status)
    warnings = (Finding.objects.for_user(request.user)
                .filter(family__in=WARNING_FAMILIES, status=Finding.Status.OPEN, clue__isnull=True)
                .select_related("household", "member"))  # fmt: skip
    context = {
        "clues": newest_first(clues, request, param="clues_before"), "status": status,
        "statuses": Clue.Status.choices,
        "warnings": newest_first(warnings, request) if status == "pending" else [],
        "warning_count": warnings.count(),
    }  # fmt: skip
    return render(request, "monitoring/inbox.html", context)


@capability_required("report_clues")
def new_clue(request: HttpRequest, household_id: int) -> HttpResponse:
    household = _scoped_household(request, household_id)
    form = ClueForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():

        def run() -> HttpResponse:
            data = form.cleaned_data
            clue = actions.report_clue(user=request.user, household=household, source=data["source"],
                                       summary=data["summary"], reporter=data["reporter"], uploads=form.uploads())  # fmt: skip
            return redirect("monitoring:clue", pk=clue.pk)

        if response := submit(request, form, run):
            return response
    return render(request, "monitoring/clue_new.html", {"form": form, "household": household})


@require_POST
@capability_required("verify_warnings")
def take_warning(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_object_or_404(Finding.objects.for_user(request.user), pk=finding_id)
    try:
        clue = actions.clue_for_finding(finding, request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("monitoring:inbox")
    return redirect("monitoring:clue", pk=clue.pk)


@capability_required("view_register")
def clue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    clue = get_object_or_404(
        Clue.objects.for_user(request.user).select_related("household", "finding"), pk=pk
    )
    household = clue.household
    can_verify = clue.status == Clue.Status.PENDING and request.user.can("verify_warnings")
    regime = current_regime()
    form = VerifyForm(request.POST or None, request.FILES or None) if can_verify else None
    facts_form = (
        FactsForm(request.POST or None, household=household,
                  expenditure=regime if regime.accounting.rigid_items else None)
        if can_verify else None
    )  # fmt: skip
    # the 收支核算 as the register holds it now, and what it suggests, before the verifier's changes
    preview = (
        accounting.snapshot(accounting.account(household, regime=regime))
        if can_verify and regime.accounting.formula == "disposable" else None
    )  # fmt: skip
    intake_form = (
        JointIntakeForm(request.POST or None, kinds=regime.joint_intake.referral_kinds,
                        suggested=[tuple(s) for s in preview["suggested"]] if preview else [])
        if can_verify and referral.joint(regime) else None
    )  # fmt: skip
    valid = (request.method == "POST" and form is not None and form.is_valid() and facts_form.is_valid()
             and (intake_form is None or intake_form.is_valid()))  # fmt: skip
    if valid:

        def run() -> HttpResponse:
            monitor = bool(intake_form and intake_form.cleaned_data["monitor"])
            if monitor and form.cleaned_data["outcome"] != Outcome.CONFIRMED:
                raise ValidationError("纳入防止返贫致贫监测须核查结果为“确认有风险”")
            actions.verify_clue(
                user=request.user, clue=clue, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"],
                changes=facts_form.changed(), uploads=form.uploads(),
                referral_kinds=intake_form.referral_kinds() if intake_form else (),
                referral_note=intake_form.cleaned_data["referral_note"] if intake_form else "",
            )  # fmt: skip
            messages.success(request, "入户核查已记录" + ("，已转介民政" if clue.referrals.exists() else ""))
            if monitor and request.user.can("open_cases"):
                return redirect(reverse("monitoring:open", args=[household.pk]) + f"?clue={clue.pk}")
            return redirect("monitoring:clue", pk=clue.pk)

        if response := submit(request, form, run):
            return response
    stored_regime = referral.regime_of(clue)
    referrals = list(clue.referrals.select_related("referred_by", "outcome_by"))
    may_refer = (
        clue.status != Clue.Status.PENDING and stored_regime is not None and referral.joint(stored_regime)
        and request.user.can(referral.REFER) and request.user.covers(clue.region_code)
        and not household.referrals.filter(status=Referral.Status.PENDING).exists()
    )  # fmt: skip
    context = {
        "clue": clue, "household": household, "form": form, "facts_form": facts_form,
        "intake_form": intake_form, "preview": preview, "regime": regime,
        "attachments": clue.attachments.all(), "referrals": referrals,
        "refer_form": ReferForm(kinds=stored_regime.joint_intake.referral_kinds,
                                suggested=[tuple(s) for s in clue.accounting.get("suggested", [])])
        if may_refer else None,
        "can_open": clue.status == Clue.Status.VERIFIED and clue.outcome == "confirmed" and request.user.can("open_cases"),
    }  # fmt: skip
    return render(request, "monitoring/clue.html", context)


@require_POST
@capability_required(referral.REFER)
def refer_clue(request: HttpRequest, pk: int) -> HttpResponse:
    """转介民政 after the verification, from the accounting stored on it."""
    clue = get_object_or_404(Clue.objects.for_user(request.user), pk=pk)
    regime = referral.regime_of(clue)
    form = ReferForm(request.POST, kinds=regime.joint_intake.referral_kinds if regime else (), suggested=[])

    def run() -> Any:
        if not form.is_valid():
            raise ValidationError("请选择转介事项")
        referral.refer(
            user=request.user, clue=clue, kinds=form.cleaned_data["kinds"], note=form.cleaned_data["note"]
        )
        messages.success(request, "已转介民政")

    return perform(request, run, reverse("monitoring:clue", args=[clue.pk]))


# ---- 转介民政 -------------------------------------------------------------------------------------------


def _townships_in(user: Any) -> list[tuple[str, str]]:
    """The townships of the user's scope, for the filter (none for a village: it has one)."""
    region = referral.civil_region(user) if user.role == Role.DEPARTMENT else user.region
    if region is None:
        return []
    return [
        (r.code, r.name) for r in Region.objects.filter(level=4).order_by("code") if region.contains(r.code)
    ]


@capability_required(referral.VIEW)
def referrals(request: HttpRequest) -> HttpResponse:
    """转介民政: the referrals in scope by township and status, 民政's outcome form, counts by township."""
    user = request.user
    if user.role == Role.DEPARTMENT and not referral.is_civil_officer(user):
        return forbidden(request, PermissionDenied("只有民政部门数据员可以查看转介民政"))
    scoped = referral.visible(user)
    townships = _townships_in(user)
    township = request.GET.get("township", "")
    rows = scoped.select_related("household__region", "referred_by", "outcome_by", "clue")
    if township in {code for code, _ in townships}:
        rows = rows.in_region(Region.objects.get(code=township))
    else:
        township = ""
    status = request.GET.get("status", "pending")
    if status in Referral.Status.values:
        rows = rows.filter(status=status)
    elif status != "all":
        status = "pending"
        rows = rows.filter(status=status)
    page = newest_first(rows, request)
    kinds = current_regime().joint_intake.referral_kinds or tuple(
        dict.fromkeys(k for r in scoped.values_list("kinds", flat=True) for k in r)
    )
    context = {
        "page": page, "townships": townships, "township": township, "status": status,
        "statuses": Referral.Status.choices, "kinds": kinds,
        "rows": [(r, mask_name(r.household.head_name), ReferralOutcomeForm(kinds=r.kinds, prefix=f"r{r.pk}")
                  if referral.may_record(user, r) else None, referral.may_withdraw(user, r)) for r in page],
        "counts": referral.counts_by_township(scoped, kinds),
    }  # fmt: skip
    return render(request, "monitoring/referrals.html", context)


@require_POST
@capability_required(referral.RECORD)
def referral_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(referral.visible(request.user), pk=pk)
    form = ReferralOutcomeForm(request.POST, kinds=item.kinds, prefix=f"r{item.pk}")

    def run() -> Any:
        if not form.is_valid():
            raise ValidationError([f"{form.fields[k].label}：{'；'.join(v)}" for k, v in form.errors.items()])
        result = form.cleaned_data["result"]
        included = result != ReferralOutcomeForm.NOT_INCLUDED
        referral.record_outcome(user=request.user, referral=item, included=included,
                                result_kind=result if included else "", decided_on=form.cleaned_data["decided_on"],
                                note=form.cleaned_data["note"])  # fmt: skip
        messages.success(request, f"已录入民政审核结果：{mask_name(item.household.head_name)}户")

    return perform(request, run, reverse("monitoring:referrals") + "?" + request.GET.urlencode())


@require_POST
@capability_required(referral.REFER)
def referral_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(referral.visible(request.user), pk=pk)
    return perform(request, lambda: referral.withdraw(user=request.user, referral=item,
                                                      reason=request.POST.get("reason", "")),
                   reverse("monitoring:referrals"))  # fmt: skip


# ---- cases -----------------------------------------------------------------------------------------


def _case_overview(cases: QuerySet[Case]) -> dict[str, Any]:
    """Over every open case in scope: who is waiting past a step's limit, by village; and each
    township's share of identifications decided within the limits. Cached per data version."""
    rows = [(case, actions.clock(case)) for case in cases.filter(status=Case.Status.OPEN)]
    townships = _township_names()
    villages = dict(
        Region.objects.filter(level=5, code__in={c.region_code for c, _ in rows}).values_list("code", "name")
    )
    waiting: dict[str, list] = defaultdict(list)
    for case, tick in rows:
        if tick.step_overdue:
            place = f"{townships.get(case.region_code[:9], case.region_code[:9])} {villages.get(case.region_code, '')}"
            waiting[place].append((case, tick))
    timeliness: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases.filter(status=Case.Status.DONE, kind=Case.Kind.IDENTIFICATION):
        counts = timeliness[townships.get(case.region_code[:9], "")]
        counts[0] += actions.within_limit(case)
        counts[1] += 1
    return {
        "overdue_ids": [case.pk for case, tick in rows if tick.step_overdue or tick.overdue],
        "waiting": dict(sorted(waiting.items())),
        "timeliness": {k: (w, t, round(100 * w / t, 1)) for k, (w, t) in sorted(timeliness.items())},
    }


@capability_required("view_register")
def case_list(request: HttpRequest) -> HttpResponse:
    cases = Case.objects.for_user(request.user).select_related("household")
    kind = request.GET.get("kind", "")
    if kind in Case.Kind.values:
        cases = cases.filter(kind=kind)
    else:
        kind = ""
    overview = summary.cached(
        "case_overview", f"{summary.scope_key(request.user)}:{kind}", lambda: _case_overview(cases)
    )
    open_cases = cases.filter(status=Case.Status.OPEN)
    if request.GET.get("overdue"):
        open_cases = open_cases.filter(pk__in=overview["overdue_ids"])
    page = newest_first(open_cases, request)
    context = {
        "rows": [(case, actions.clock(case)) for case in page], "page": page, "open_count": open_cases.count(),
        "waiting": overview["waiting"], "kind": kind, "kinds": Case.Kind.choices,
        "procedures": [procedure(k) for k in Case.Kind.values], "timeliness": overview["timeliness"],
        "role_labels": ROLE_LABELS,
    }  # fmt: skip
    return render(request, "monitoring/case_list.html", context)


@capability_required("open_cases")
def open_case(request: HttpRequest, household_id: int) -> HttpResponse:
    household = _scoped_household(request, household_id)
    finding = clue = None
    if clue_id := request.GET.get("clue") or request.POST.get("clue"):
        clue = get_object_or_404(Clue.objects.for_user(request.user), pk=clue_id, household=household)
    elif finding_id := request.GET.get("finding") or request.POST.get("finding"):
        finding = Finding.objects.for_user(request.user).filter(pk=finding_id, household=household).first()
    form = OpenCaseForm(request.POST or None, from_clue=clue is not None,
                        initial={"source": "warning" if finding else "cadre"})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.setdefault("source", clue.source if clue else "cadre")

        def run() -> HttpResponse:
            case = actions.open_case(
                user=request.user, household=household, finding=finding, clue=clue, **data
            )
            return redirect("monitoring:case", pk=case.pk)

        if response := submit(request, form, run):
            return response
    return render(request, "monitoring/open_case.html",
                  {"form": form, "household": household, "finding": finding, "clue": clue})  # fmt: skip


@capability_required("view_register")
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.for_user(request.user).select_related("household__region"), pk=pk)
    flow = actions.case_procedure(case)
    step = flow.step(case.step)
    owns = actions.owns(request.user, case)
    in_notice = case.status == Case.Status.OPEN and step.notice
    context = {
        "case": case, "clock": actions.clock(case), "procedure": flow, "step": step,
        "events": case.events.select_related("user"), "owns": owns,
        "advance_form": AdvanceForm(checklist=step.checklist) if owns else None,
        "return_form": ReasonForm() if owns and flow.before(step.code) else None,
        "close_form": ReasonForm() if case.status == Case.Status.OPEN and request.user.role in ("county_staff", "county_admin") else None,
        "done_steps": {e.step for e in case.events.filter(action="done")},
        "role_labels": ROLE_LABELS, "in_notice": in_notice,
        "objections": case.objections.select_related("recorded_by", "answered_by"),
        "objection_form": ObjectionForm() if in_notice and owns else None,
        "answer_form": AnswerForm() if in_notice and owns else None,
        "criteria": elimination.criteria(case.household, case.elimination_method)
        if case.kind == Case.Kind.ELIMINATION and case.status == Case.Status.OPEN else None,
        "attachments": case.attachments.all(),
    }  # fmt: skip
    return render(request, "monitoring/case.html", context)


def _act(request: HttpRequest, pk: int, run) -> HttpResponse:  # type: ignore[no-untyped-def]
    case = get_object_or_404(Case.objects.for_user(request.user), pk=pk)
    return perform(request, lambda: run(case), reverse("monitoring:case", args=[case.pk]))


@require_POST
@capability_required("view_register")
def advance(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda case: actions.advance(
        user=request.user, case=case, checklist=request.POST.getlist("checklist"), note=request.POST.get("note", "")))  # fmt: skip


@require_POST
@capability_required("view_register")
def return_case(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda case: actions.return_case(user=request.user, case=case,
                                                              reason=request.POST.get("reason", "")))  # fmt: skip


@require_POST
@capability_required("view_register")
def close_case(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda case: actions.close_case(user=request.user, case=case,
                                                             reason=request.POST.get("reason", "")))  # fmt: skip


@require_POST
@capability_required("view_register")
def add_objection(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda case: actions.record_objection(
        user=request.user, case=case, content=request.POST.get("content", ""), raised_by=request.POST.get("raised_by", "")))  # fmt: skip


@require_POST
@capability_required("view_register")
def answer_objection(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(
        Objection.objects.filter(case__in=Case.objects.for_user(request.user)), pk=pk
    )
    return perform(request, lambda: actions.answer_objection(user=request.user, objection=objection,
                                                             answer=request.POST.get("answer", "")),
                   reverse("monitoring:case", args=[objection.case_id]))  # fmt: skip


@capability_required("view_register")
def notice_document(request: HttpRequest, village_code: str, kind: str, fmt: str) -> HttpResponse:
    if kind not in Case.Kind.values or fmt not in ("docx", "pdf"):
        raise Http404
    village = get_object_or_404(Region.objects.select_related("parent"), code=village_code, level=5)
    if not request.user.covers(village.code):
        return forbidden(request, PermissionDenied("不能下载其他村的公示"))
    document = notice.build(village, kind)
    body = notice.as_docx(document) if fmt == "docx" else notice.as_pdf(document)
    content_type = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document" if fmt == "docx"
                    else "application/pdf")  # fmt: skip
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(document.title)}.{fmt}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


# ---- assistance, visits, elimination ---------------------------------------------------------------


@capability_required("view_register")
def monitored(request: HttpRequest) -> HttpResponse:
    """Monitored households with their cadre, last visit and plan problems; overdue visits; cadre loads."""
    households = Household.objects.for_user(request.user).exclude(monitoring_category="")
    if request.GET.get("state") == "eliminated":
        households = households.filter(risk_eliminated=True)
    elif request.GET.get("state") != "all":
        households = households.exclude(risk_eliminated=True)
    if request.GET.get("problems"):
        with_problems = summary.cached(
            "plan_problems", f"{summary.scope_key(request.user)}:{request.GET.get('state', '')}",
            lambda: [h.pk for h in households.prefetch_related("members", "assistance", "cases")
                     if assistance.plan_problems(h)],
        )  # fmt: skip
        households = households.filter(pk__in=with_problems)
    page = by_key(
        households.select_related("region").prefetch_related("members", "assistance", "cases"), request
    )
    # the last visit of the page's households only (an annotation would group every monitored household)
    last_visits = dict(
        Visit.objects.filter(household__in=[h.pk for h in page]).values_list("household_id")
        .annotate(last=Max("visited_on")).order_by()
    )  # fmt: skip
    for household in page:
        household.last_visit = last_visits.get(household.pk)
    cadres = {p.household_id: p.cadre for p in Pairing.objects.filter(
        household__in=[h.pk for h in page], until__isnull=True).select_related("cadre")}  # fmt: skip
    in_scope = Household.objects.for_user(request.user)
    overdue = summary.cached(
        "overdue_all", summary.scope_key(request.user), lambda: assistance.overdue_visits(in_scope)
    )
    users = list(assistance.cadres_in(request.user.region).select_related("region"))
    load = assistance.cadre_load(users)
    context = {
        "rows": [(h, cadres.get(h.pk), assistance.plan_problems(h)) for h in page], "page": page,
        "total": households.count(), "state": request.GET.get("state", ""),
        "overdue": overdue[:OVERDUE_SHOWN], "overdue_count": len(overdue),
        "loads": sorted(((u, load.get(u.pk, 0)) for u in users), key=lambda x: -x[1]),
    }  # fmt: skip
    return render(request, "monitoring/monitored.html", context)


@capability_required("view_register")
def household_assistance(request: HttpRequest, pk: int) -> HttpResponse:
    household = _scoped_household(request, pk)
    members = list(household.members.order_by("id"))
    user = request.user
    may_assist = user.role in assistance.ASSISTING_ROLES and assistance.under_assistance(household)
    open_case = household.cases.filter(status=Case.Status.OPEN).first()
    cadres = assistance.cadres_for(household) if user.role in assistance.ASSIGNING_ROLES else []
    load = assistance.cadre_load(cadres)
    context = {
        "household": household, "members": members,
        "pairing": household.pairings.filter(until__isnull=True).select_related("cadre").first(),
        "past_pairings": household.pairings.exclude(until__isnull=True).select_related("cadre"),
        "cadres": [(c, load.get(c.pk, 0)) for c in cadres],
        "measures": household.assistance.select_related("member", "created_by"),
        "problems": assistance.plan_problems(household),
        "measure_form": MeasureForm(members=members) if may_assist else None,
        "visits": household.visits.select_related("visitor").prefetch_related("attachments")[:20],
        "can_visit": user.role in assistance.VISITING_ROLES,
        "interval": assistance.interval_for(household),
        "criteria": elimination.criteria(household)
        if household.monitoring_category and not household.risk_eliminated else None,
        "elimination_form": EliminationForm()
        if user.can("open_cases") and household.monitoring_category and not household.risk_eliminated and not open_case else None,
        "open_case": open_case,
        "open_step": actions.case_procedure(open_case).step(open_case.step).label if open_case else "",
        "can_revert": elimination.can_revert(user, household),
        "reversions": household.reversions.select_related("by"),
        "continuing": {i.name for items in assistance.catalogue().values() for i in items if i.continues},
    }  # fmt: skip
    return render(request, "monitoring/assistance.html", context)


def _on_household(request: HttpRequest, pk: int, run) -> HttpResponse:  # type: ignore[no-untyped-def]
    household = _scoped_household(request, pk)
    return perform(request, lambda: run(household), reverse("monitoring:assistance", args=[household.pk]))


@require_POST
@capability_required("view_register")
def pair(request: HttpRequest, pk: int) -> HttpResponse:
    def run(household: Household) -> Any:
        cadre = User.objects.filter(pk=request.POST.get("cadre") or 0).first()
        if cadre is None:
            raise ValidationError("请选择帮扶责任人")
        return assistance.pair(user=request.user, household=household, cadre=cadre)

    return _on_household(request, pk, run)


@require_POST
@capability_required("view_register")
def add_measure(request: HttpRequest, pk: int) -> HttpResponse:
    household = _scoped_household(request, pk)
    members = list(household.members.all())
    form = MeasureForm(request.POST, members=members)

    def run() -> Any:
        if not form.is_valid():
            raise ValidationError([f"{form.fields[k].label}：{'；'.join(v)}" for k, v in form.errors.items()])
        data = form.cleaned_data
        group, item_name = data["measure"].split("|", 1)
        member = next((m for m in members if str(m.pk) == data["member"]), None)
        assistance.add_measure(user=request.user, household=household, group=group, item_name=item_name,
                               start=data["start"], end=data["end"], funding=data["funding"],
                               funding_source=data["funding_source"], member=member, note=data["note"])  # fmt: skip
        for problem in assistance.plan_problems(household):
            messages.warning(request, f"{problem.basis} {problem.message}")

    return perform(request, run, reverse("monitoring:assistance", args=[household.pk]))


@require_POST
@capability_required("view_register")
def end_measure(request: HttpRequest, pk: int) -> HttpResponse:
    measure = get_object_or_404(Measure.objects.for_user(request.user), pk=pk)

    def run() -> Any:
        try:
            end = dt.date.fromisoformat(request.POST.get("end", ""))
        except ValueError as exc:
            raise ValidationError("请填写结束日期") from exc
        return assistance.end_measure(user=request.user, measure=measure, end=end)

    return perform(request, run, reverse("monitoring:assistance", args=[measure.household_id]))


@capability_required("view_register")
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    household = _scoped_household(request, pk)
    form = VisitForm(request.POST or None, request.FILES or None)
    facts_form = FactsForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid() and facts_form.is_valid():

        def run() -> HttpResponse:
            data = form.cleaned_data
            assistance.record_visit(user=request.user, household=household, visited_on=data["visited_on"],
                                    changes_note=data["changes_note"], notes=data["notes"],
                                    changes=facts_form.changed(), uploads=form.uploads())  # fmt: skip
            messages.success(request, "走访已记录")
            return redirect("monitoring:assistance", pk=household.pk)

        if response := submit(request, form, run):
            return response
    last = household.visits.order_by("-visited_on").first()
    return render(request, "monitoring/visit.html",
                  {"household": household, "form": form, "facts_form": facts_form, "last": last})  # fmt: skip


@require_POST
@capability_required("open_cases")
def open_elimination(request: HttpRequest, pk: int) -> HttpResponse:
    household = _scoped_household(request, pk)
    try:
        case = actions.open_elimination(user=request.user, household=household,
                                        method=request.POST.get("method", "帮扶消除"), note=request.POST.get("note", ""))  # fmt: skip
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("monitoring:assistance", pk=household.pk)
    return redirect("monitoring:case", pk=case.pk)


@require_POST
@capability_required("view_register")
def revert(request: HttpRequest, pk: int) -> HttpResponse:
    return _on_household(request, pk, lambda household: elimination.revert(
        user=request.user, household=household, reason=request.POST.get("reason", "")))  # fmt: skip


@capability_required("view_register")
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """A scan or photo, only inside the user's scope; every view is written to the audit log."""
    item = get_object_or_404(Attachment.objects.for_user(request.user), pk=pk)
    record_sensitive_read(instance=item, field_label=f"附件（{item.get_kind_display()}）",
                          household_id=item.household_id, region_code=item.region_code)  # fmt: skip
    return FileResponse(open(item.path, "rb"), as_attachment=True, filename=item.name)


@capability_required("view_register")
def household_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    household = _scoped_household(request, pk)
    return render(request, "monitoring/_timeline.html", {"events": timeline(household)})
