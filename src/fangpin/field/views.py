"""The OpenRosa server a phone talks to (/field/<token>/…: formList, the XForm, its manifest, the
households list, submission) and the web page where a cadre gets the token as a QR code and the village
sees each cadre's sync status and resolves the submissions kept as conflicts.

The token is the only credential of the OpenRosa views: no session, no CSRF (a phone has neither), and
the token never reaches a log (field.logs scrubs it from every record)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fangpin.audit.actions import record_sensitive_read
from fangpin.audit.context import acting_as
from fangpin.audit.middleware import client_ip
from fangpin.audit.models import Action, AuditEntry
from fangpin.common.limits import MB
from fangpin.registry.views import history_changes as audit_changes  # the household history page's rendering
from fangpin.retention.scrub import scrub
from fangpin.web.paging import newest_first
from fangpin.web.views import forbidden, perform

from . import actions, entities, verification, xforms
from .models import FieldConflict, FieldSubmission, FieldToken

OPENROSA = {"X-OpenRosa-Version": "1.0"}
RESPONSE_NS = "http://openrosa.org/http/response"
LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
XML = "text/xml; charset=utf-8"
# the lists a form may read (its jr://file-csv/ instances), each built for the token's user at every sync
LISTS = {"households.csv": entities.households_csv, "clues.csv": entities.clues_csv}


def _openrosa_message(text: str, status: int) -> HttpResponse:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<OpenRosaResponse xmlns="{RESPONSE_NS}">'
            f'<message nature="">{escape(text)}</message></OpenRosaResponse>')  # fmt: skip
    return HttpResponse(body.encode(), status=status, content_type=XML)


def openrosa(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The token checked on every request (a revoked one is refused at once), the request run as the
    token's user in the audit log, and the OpenRosa headers on every response, refusals included."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
        row = actions.authenticate(token)
        if row is None:
            response = _openrosa_message("采集令牌无效或已停用，请向村里或乡镇重新获取二维码", 403)
        else:
            with acting_as(row.user, source="field", request_id=getattr(request, "request_id", ""),
                           ip=client_ip(request)):  # fmt: skip
                response = view(request, row, **kwargs)
        for name, value in OPENROSA.items():
            response[name] = value
        response["Date"] = http_date()
        return response

    return wrapper


def _base(request: HttpRequest, row: FieldToken, token: str) -> str:
    return request.build_absolute_uri(reverse("field:server", args=[token])).rstrip("/")


def _token_of(request: HttpRequest) -> str:
    return request.resolver_match.kwargs["token"]


@openrosa
def server(request: HttpRequest, row: FieldToken) -> HttpResponse:
    """The server URL itself: Collect asks for formList and submission under it."""
    return _openrosa_message("防贫监测移动采集服务", 200)


@openrosa
def form_list(request: HttpRequest, row: FieldToken) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    actions.touch(row, request.GET.get("deviceID", ""))
    base = _base(request, row, _token_of(request))
    items = []
    for form in (xforms.xform(form_id) for form_id in actions.forms_for(row.user)):
        items.append(
            f"<xform><formID>{escape(form.form_id)}</formID><name>{escape(form.title)}</name>"
            f"<version>{escape(form.version)}</version><hash>md5:{form.md5}</hash>"
            f"<downloadUrl>{base}/forms/{form.form_id}.xml</downloadUrl>"
            f"<manifestUrl>{base}/forms/{form.form_id}/manifest</manifestUrl></xform>"
        )
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<xforms xmlns="{LIST_NS}">{"".join(items)}</xforms>'
    return HttpResponse(body.encode(), content_type=XML)


def _form(form_id: str) -> xforms.XForm:
    if form_id not in xforms.FORMS:
        raise Http404
    return xforms.xform(form_id)


@openrosa
def form_xml(request: HttpRequest, row: FieldToken, form_id: str) -> HttpResponse:
    if form_id not in actions.forms_for(row.user):
        return _openrosa_message("没有该表单", 404)
    return HttpResponse(_form(form_id).xml, content_type=XML)


@openrosa
def manifest(request: HttpRequest, row: FieldToken, form_id: str) -> HttpResponse:
    """The form's media: the lists it reads (the households, the pending clues), each marked as an
    entity list (Central's type="entityList"), so Collect refreshes them at every sync."""
    if form_id not in actions.forms_for(row.user):
        return _openrosa_message("没有该表单", 404)
    files = []
    for name in _form(form_id).lists:
        if name not in LISTS:
            continue  # a county form's own static file is not served from here
        data = LISTS[name](row.user)
        url = f"{_base(request, row, _token_of(request))}/forms/{form_id}/{name}"
        files.append(f'<mediaFile type="entityList"><filename>{escape(name)}</filename>'
                     f"<hash>md5:{hashlib.md5(data).hexdigest()}</hash><downloadUrl>{url}</downloadUrl></mediaFile>")  # fmt: skip
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="{MANIFEST_NS}">{"".join(files)}</manifest>'
    )
    return HttpResponse(body.encode(), content_type=XML)


@openrosa
def entity_list(request: HttpRequest, row: FieldToken, form_id: str, name: str) -> HttpResponse:
    """The user's own households (or their pending clues), refreshed at every sync; masked: a lost phone
    shows what a masked page would."""
    if form_id not in actions.forms_for(row.user) or name not in _form(form_id).lists:
        return _openrosa_message("没有该表单", 404)
    actions.touch(row)
    response = HttpResponse(LISTS[name](row.user), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@openrosa
def submission(request: HttpRequest, row: FieldToken) -> HttpResponse:
    limit = settings.FANGPIN_MAX_ATTACHMENT_MB * MB
    if request.method == "HEAD":
        response = HttpResponse(status=204)
        response["X-OpenRosa-Accept-Content-Length"] = str(limit)
        return response
    if request.method != "POST":
        return HttpResponse(status=405)
    xml = request.FILES.get("xml_submission_file")
    if xml is None:
        return _openrosa_message("缺少 xml_submission_file", 400)
    media = [f for name, files in request.FILES.lists() if name != "xml_submission_file" for f in files]
    try:
        received = actions.receive(token=row, xml=xml.read(), media=media)
    except actions.Refused as exc:
        return _openrosa_message(str(exc), exc.status)
    except PermissionDenied as exc:
        return _openrosa_message(str(exc) or "无权提交", 403)
    except ValidationError as exc:
        return _openrosa_message("；".join(exc.messages), 400)
    response = _openrosa_message(received.message, 201)
    response["Location"] = request.build_absolute_uri()
    return response


# ---- the web page -------------------------------------------------------------------------------------


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    mine = FieldToken.objects.filter(user=user).annotate(
        n=Count("submissions"),
        waiting=Count("submissions", filter=Q(submissions__conflict__resolved_at__isnull=True,
                                              submissions__status=FieldSubmission.Status.CONFLICT)),
    )[:5]  # fmt: skip
    overseeing = user.role in actions.OVERSEEING_ROLES and user.region_id
    context = {"may_carry": user.role in actions.FIELD_ROLES and user.region_id is not None, "tokens": mine,
               "status": actions.status_rows(user) if overseeing else None,
               "waiting": actions.conflicts_for(user).filter(resolved_at__isnull=True).count() if overseeing
               else 0}  # fmt: skip
    return context | extra


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "field/index.html", _context(request))


@login_required
@require_POST
def issue(request: HttpRequest) -> HttpResponse:
    """Shown once in the answer to the POST: the token is never stored in clear, never in a URL of the
    web pages, never in the browser's history."""
    try:
        row, token = actions.issue_token(user=request.user)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    url = request.build_absolute_uri(reverse("field:server", args=[token]))
    qr = segno.make(actions.collect_settings(url), error="m")
    response = render(request, "field/index.html", _context(
        request, new_url=url, qr=qr.svg_data_uri(scale=4, border=2), issued=row,
        insecure=not request.is_secure()))  # fmt: skip
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(FieldToken.objects.select_related("user__region"), pk=pk)
    if token.user_id != request.user.pk and not actions.may_oversee(request.user, token.user):
        raise Http404
    actions.revoke_token(user=request.user, token=token)
    return redirect("field:index")


# ---- conflicts ----------------------------------------------------------------------------------------


def _answers(submission: FieldSubmission) -> list[dict[str, Any]]:
    """The phone's answers in the form's own labels; a photo names its kept copy (index into media). A
    verification's facts are not among them: the page shows them per fact, beside the register."""
    values = actions.parse_instance(submission.xml.encode()).values
    kept = {m["name"]: i for i, m in enumerate(submission.media)}
    labels = dict(_form(submission.form_id).labels) if submission.form_id in xforms.FORMS else {}
    facts = {f.question for f in verification.FACTS}
    out = []
    for name, label in labels.items():
        if name not in values or name in facts:  # a group's title; a fact
            continue
        value = values.get(name, "")
        if name == "household":
            value = str(submission.household)
        elif name == "outcome" and submission.form_id == xforms.VERIFY:
            value = verification.outcome_label(value) or value
        elif name == "clue" and submission.verified_clue_id:
            clue = submission.verified_clue
            day = timezone.localtime(clue.reported_at)
            value = f"{clue.get_source_display()}（{day:%Y-%m-%d}登记）：{scrub(clue.summary)}"
        out.append({"label": label, "value": value, "photo": kept.pop(value, None)})
    # a file Collect sent that no answer names (a second image question of a county's own form)
    out += [{"label": "其他照片", "value": name, "photo": i} for name, i in kept.items()]
    return out


def _version_times(conflict: FieldConflict) -> tuple[str, str]:
    """The two household versions as officials read them: the time of the last register change each
    includes (a version is the newest audit entry's sequence number, meaningless on a page)."""
    seqs = [int(v) for v in (conflict.submitted_version, conflict.current_version) if v.isdigit()]
    times = dict(AuditEntry.objects.filter(seq__in=seqs).values_list("seq", "at"))

    def shown(version: str) -> str:
        at = times.get(int(version)) if version.isdigit() else None
        return f"截至{timezone.localtime(at):%Y-%m-%d %H:%M}的修改" if at else "—"

    return shown(conflict.submitted_version), shown(conflict.current_version)


def _changes_since(conflict: FieldConflict) -> list[tuple[AuditEntry, list[tuple[str, object, object]]]]:
    """The register's audit entries about the household after the version the phone had."""
    after = int(conflict.submitted_version) if conflict.submitted_version.isdigit() else 0
    entries = AuditEntry.objects.filter(
        household_id=conflict.household_id, model__in=entities.REGISTER_MODELS, seq__gt=after,
        action__in=[Action.CREATE, Action.UPDATE, Action.DELETE],
    ).order_by("seq")[:100]  # fmt: skip
    return [(entry, audit_changes(entry)) for entry in entries]


@login_required
def conflicts(request: HttpRequest) -> HttpResponse:
    """手机采集冲突: each waiting submission beside what changed on the household since the phone's copy."""
    if request.user.role not in actions.OVERSEEING_ROLES:
        return forbidden(request)
    scoped = actions.conflicts_for(request.user).select_related(
        "household__region", "submission__user", "submission__verified_clue__verified_by", "resolved_by"
    )  # fmt: skip
    page = newest_first(scoped.filter(resolved_at__isnull=True), request, size=20)
    rows = [{"conflict": c, "title": _form(c.submission.form_id).title, "answers": _answers(c.submission),
             "changes": _changes_since(c), "versions": _version_times(c), **_verification(c)}
            for c in page]  # fmt: skip
    done = scoped.filter(resolved_at__isnull=False).order_by("-resolved_at")[:20]
    return render(request, "field/conflicts.html", {"rows": rows, "page": page, "done": done})


def _verification(conflict: FieldConflict) -> dict[str, Any]:
    """A verification's facts: those changed on both sides (the village picks), those only the phone
    changed (applied as sent); and whether the clue is still pending (else only 不采用)."""
    submission = conflict.submission
    if submission.form_id != xforms.VERIFY or submission.verified_clue is None:
        return {"verification": False}
    found = actions.conflict_facts(conflict)
    clue = submission.verified_clue
    return {
        "verification": True, "clue": clue, "clue_pending": clue.status == clue.Status.PENDING,
        "contested": [d.shown() | {"key": d.key} for d in found if d.contested],
        "unchanged": [d.shown() for d in found if not d.contested],
    }  # fmt: skip


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    conflict = get_object_or_404(actions.conflicts_for(request.user), pk=pk)
    apply = request.POST.get("decision") == FieldConflict.Decision.APPLIED
    # per fact changed on both sides: pick-<key> = phone | current
    picks = {
        key.removeprefix("pick-"): value for key, value in request.POST.items() if key.startswith("pick-")
    }
    return perform(request, lambda: actions.resolve_conflict(
        user=request.user, conflict=conflict, apply=apply, reason=request.POST.get("reason", ""), picks=picks),
        reverse("field:conflicts"))  # fmt: skip


@login_required
def conflict_photo(request: HttpRequest, pk: int, index: int) -> FileResponse:
    """A photo a phone sent with a conflict, only inside the user's scope; every view audited."""
    conflict = get_object_or_404(actions.conflicts_for(request.user).select_related("submission"), pk=pk)
    media = conflict.submission.media
    if index >= len(media):
        raise Http404
    record_sensitive_read(instance=conflict.submission, field_label="手机采集照片",
                          household_id=conflict.household_id, region_code=conflict.region_code)  # fmt: skip
    return FileResponse(open(media[index]["path"], "rb"), as_attachment=True, filename=media[index]["name"])
