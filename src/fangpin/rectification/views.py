from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from fangpin.common.files import check_upload, save_upload, stamped
from fangpin.jobs.actions import create_job, enqueue
from fangpin.jobs.models import Job, Kind
from fangpin.jobs.models import Status as JobStatus
from fangpin.regions.models import Level, Region, code_range
from fangpin.registry.models import Household
from fangpin.web.views import capability_required, forbidden, perform

from . import actions
from .exporter import export_ledger
from .forms import ApplyForm, BatchForm, ItemForm, ListMappingForm, ProgressForm, ReviewForm
from .importer import header_of
from .models import Batch, Event, Item, Status, batches_for


@capability_required("view_rectification")
def ledger(request: HttpRequest) -> HttpResponse:
    items = Item.objects.for_user(request.user)
    rows = [(batch, actions.ledger_counts(items.filter(batch=batch))) for batch in batches_for(request.user)]
    context = {
        "rows": rows,
        "total": actions.ledger_counts(items),
        "can_create": request.user.can("review_rectification"),
    }
    return render(request, "rectification/ledger.html", context)


@capability_required("review_rectification")
def new_batch(request: HttpRequest) -> HttpResponse:
    """A batch by hand, or from the inspectors' list: upload, confirm the column mapping, import."""
    form = BatchForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        pending = {"name": data["name"], "source": data["source"],
                   "received_on": data["received_on"].isoformat() if data.get("received_on") else ""}  # fmt: skip
        if upload := data.get("file"):  # saved here (checked by content and size); read by the worker
            try:
                ext = check_upload(upload, "table")
            except ValidationError as exc:
                form.add_error("file", exc)
                return render(request, "rectification/new_batch.html", {"form": form})
            folder = settings.MEDIA_ROOT / "rectification" / "lists"
            target = save_upload(upload, stamped(folder, f"{request.user.pk}-{Path(upload.name).stem}.{ext}"))
            job = create_job(kind=Kind.READ_HEADER, user=request.user, params={"inspection_list": str(target)},
                             input_path=str(target), input_name=upload.name)  # fmt: skip
            enqueue(job)
            request.session["pending_list"] = {**pending, "path": str(target), "file_name": upload.name,
                                               "job": job.pk}  # fmt: skip
            return redirect("jobs:detail", pk=job.pk)
        batch = _create(request, pending)
        return redirect("rectification:batch", pk=batch.pk)
    return render(request, "rectification/new_batch.html", {"form": form})


def _create(request: HttpRequest, pending: dict) -> Batch:
    received = dt.date.fromisoformat(pending["received_on"]) if pending.get("received_on") else None
    return actions.create_batch(user=request.user, name=pending["name"], source=pending["source"],
                                region=request.user.region, received_on=received)  # fmt: skip


@capability_required("review_rectification")
def list_mapping(request: HttpRequest) -> HttpResponse:
    pending = request.session.get("pending_list")
    if not pending:
        return redirect("rectification:new_batch")
    read = Job.objects.for_user(request.user).filter(pk=pending.get("job"), kind=Kind.READ_HEADER).first()
    if read is None or read.status != JobStatus.SUCCEEDED:  # not read yet, or refused: the job page says
        return redirect("jobs:detail", pk=read.pk) if read else redirect("rectification:new_batch")
    done = Job.objects.for_user(request.user).filter(pk=pending.get("import_job") or 0).first()
    if done is not None and done.status == JobStatus.SUCCEEDED:  # imported: never twice from one upload
        del request.session["pending_list"]
        return redirect("jobs:detail", pk=done.pk)
    header = header_of(read)
    form = ListMappingForm(request.POST or None, labels=header.labels, suggested=header.suggested)
    if request.method == "POST" and form.is_valid():  # the list itself is read and imported by the worker
        job = create_job(kind=Kind.IMPORT_LIST, user=request.user, input_path=pending["path"],
                         input_name=pending["file_name"],
                         params={"pending": pending, "mapping": form.cleaned_data, "header": read.summary["header"]})  # fmt: skip
        enqueue(job)
        request.session["pending_list"] = {**pending, "import_job": job.pk}
        return redirect("jobs:detail", pk=job.pk)
    context = {"form": form, "pending": pending, "header_row": header.row}
    return render(request, "rectification/list_mapping.html", context)


def _visible_batch(request: HttpRequest, pk: int) -> Batch:
    return get_object_or_404(batches_for(request.user), pk=pk)


@capability_required("view_rectification")
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _visible_batch(request, pk)
    items = Item.objects.for_user(request.user).filter(batch=batch).select_related("region")
    status = request.GET.get("status", "")
    shown = items.filter(status=status) if status in Status.values else items
    if request.GET.get("overdue"):
        shown = shown.exclude(status=Status.CLOSED).filter(deadline__lt=timezone.localdate())
    by_unit = items.values("responsible_unit").annotate(
        total=Count("id"), closed=Count("id", filter=Q(status=Status.CLOSED)),
        overdue=Count("id", filter=~Q(status=Status.CLOSED) & Q(deadline__lt=timezone.localdate())),
    ).order_by("responsible_unit")  # fmt: skip
    by_region = [
        (region, actions.ledger_counts(items.filter(region_code__range=code_range(region.prefix))))
        for region in Region.objects.filter(
            code__startswith=batch.region.prefix, level=batch.region.level + 1
        )
    ]
    can_add = actions.can_review(request.user, batch)
    context = {
        "batch": batch, "items": shown, "counts": actions.ledger_counts(items), "by_unit": by_unit,
        "by_region": [(r, c) for r, c in by_region if c["total"]], "statuses": Status.choices, "status": status,
        "item_form": ItemForm(regions=_item_regions(batch)) if can_add else None,
    }  # fmt: skip
    return render(request, "rectification/batch.html", context)


def _item_regions(batch: Batch) -> list[Region]:
    return list(
        Region.objects.filter(code__startswith=batch.region.prefix, level__lte=Level.VILLAGE).order_by("code")
    )


@require_POST
@capability_required("review_rectification")
def add_item(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _visible_batch(request, pk)
    form = ItemForm(request.POST, regions=_item_regions(batch))
    if not form.is_valid():
        messages.error(
            request,
            "；".join(f"{form.fields[k].label}：{m}" for k, errors in form.errors.items() for m in errors),
        )
        return redirect("rectification:batch", pk=batch.pk)
    data = form.cleaned_data
    data["region"] = Region.objects.get(code=data["region"])
    try:
        actions.add_item(user=request.user, batch=batch, **data)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return redirect("rectification:batch", pk=batch.pk)


@capability_required("view_rectification")
def export(request: HttpRequest, pk: int) -> FileResponse:
    batch = _visible_batch(request, pk)
    folder = settings.MEDIA_ROOT / "rectification" / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"batch-{batch.pk}-{request.user.pk}.xlsx"
    export_ledger(target, user=request.user, batch=batch)
    return FileResponse(open(target, "rb"), as_attachment=True, filename=f"{batch.name}整改台账.xlsx")


@capability_required("view_rectification")
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        Item.objects.for_user(request.user).select_related("batch__region", "region"), pk=pk
    )
    context = {
        "item": item,
        "events": item.events.select_related("user"),
        "can_work": actions.can_work_on(request.user, item) and item.status in (Status.PENDING, Status.IN_PROGRESS),
        "can_apply": actions.can_work_on(request.user, item) and item.status == Status.IN_PROGRESS,
        "can_review": actions.can_review(request.user, item.batch) and item.status == Status.APPLIED,
        "progress_form": ProgressForm(), "apply_form": ApplyForm(), "review_form": ReviewForm(),
        "proposal": actions.proposed_closure(item),
        "households": item.households.filter(pk__in=Household.objects.for_user(request.user)).order_by("region_code")[:200],
        "can_extend": bool(item.rule_id) and item.status != Status.CLOSED
        and (actions.can_work_on(request.user, item) or actions.can_review(request.user, item.batch)),
    }  # fmt: skip
    return render(request, "rectification/item.html", context)


def _act(request: HttpRequest, pk: int, form_class, action) -> HttpResponse:  # type: ignore[no-untyped-def]
    item = get_object_or_404(Item.objects.for_user(request.user), pk=pk)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "；".join(m for errors in form.errors.values() for m in errors))
        return redirect("rectification:item", pk=item.pk)
    return perform(
        request, lambda: action(item, form.cleaned_data), reverse("rectification:item", args=[item.pk])
    )


@require_POST
@capability_required("view_rectification")
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, ProgressForm, lambda item, data: actions.report_progress(
        user=request.user, item=item, note=data["note"], upload=data.get("file")))  # fmt: skip


@require_POST
@capability_required("view_rectification")
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, ApplyForm,
                lambda item, data: actions.apply_for_closure(user=request.user, item=item, result=data["result"]))  # fmt: skip


@require_POST
@capability_required("view_rectification")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    def decide(item: Item, data: dict) -> None:
        if data["decision"] == "close":
            actions.close(user=request.user, item=item, note=data["note"])
        else:
            actions.return_item(user=request.user, item=item, reason=data["note"])

    return _act(request, pk, ReviewForm, decide)


@require_POST
@capability_required("view_rectification")
def extend(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Item.objects.for_user(request.user), pk=pk)
    try:
        count = actions.extend_to_scope(user=request.user, item=item)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"举一反三：在您的范围内关联了{count}户同类问题")
    return redirect("rectification:item", pk=item.pk)


@capability_required("view_rectification")
def evidence(request: HttpRequest, pk: int) -> FileResponse:
    event = get_object_or_404(Event.objects.filter(item__in=Item.objects.for_user(request.user)), pk=pk)
    if not event.file_path:
        raise Http404
    return FileResponse(open(event.file_path, "rb"), as_attachment=True, filename=event.file_name)
