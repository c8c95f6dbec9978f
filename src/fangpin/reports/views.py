"""统计报表 pages: the dashboard, the households behind a number, the cross-tab, the official tables and
the briefing, with their exports. Thin: they parse the scope and dates, call figures/crosstab, render."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from fangpin.audit.actions import record
from fangpin.audit.models import Action
from fangpin.regions.models import Level, Region
from fangpin.registry.models import Household
from fangpin.registry.views import region_options
from fangpin.web.paging import by_key, newest_first
from fangpin.web.views import capability_required, forbidden

from . import actions, briefing, crosstab, figures, tables
from .dimensions import COLUMN_KEYS, DIMENSIONS, FILTER_PREFIX, ROW_KEYS, filter_q, filters_from
from .models import HouseholdFact, RefreshState


def _day(text: str, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return default
    return min(day, timezone.localdate())


def scope(request: HttpRequest) -> Region:
    """The region asked for (`?region=`), which must lie in the user's own; the user's region by default."""
    own = request.user.region
    if own is None:
        raise Http404
    code = request.GET.get("region", "") or own.code
    region = Region.objects.filter(code=code).first()
    if region is None or not request.user.covers(code):
        raise Http404
    return region


def _crumbs(region: Region, user: Any) -> list[Region]:
    """The path from the user's own region down to this one."""
    path = []
    node: Region | None = region
    while node is not None and user.covers(node.code):
        path.append(node)
        node = node.parent
    return list(reversed(path))


def _dates(request: HttpRequest) -> tuple[dt.date, dt.date, dt.date]:
    today = timezone.localdate()
    day = _day(request.GET.get("as_of", ""), today)
    end = _day(request.GET.get("end", ""), day)
    end = min(end, day)  # events after the as-of day are not yet known on that day
    start = _day(request.GET.get("start", ""), end.replace(month=1, day=1))
    return day, min(start, end), end


def _catch_up() -> None:
    """Figures never wait for the worker except once: before the very first refresh there is nothing
    to show, so that one runs here; later ones are queued and the stored figures are served meanwhile."""
    if not RefreshState.objects.exists():
        actions.refresh_quietly()
    elif actions.needs_refresh():
        actions.refresh_soon()


def _since() -> dt.date | None:
    first = RefreshState.objects.filter(pk=1).values_list("first_refresh_at", flat=True).first()
    return timezone.localtime(first).date() if first else None


def _link(region: Region, day: dt.date, **filters: str) -> str:
    params = {"region": region.code, "as_of": day.isoformat()}
    params.update({FILTER_PREFIX + k: v for k, v in filters.items()})
    return "?" + urlencode(params)


@capability_required("view_register")
def dashboard(request: HttpRequest) -> HttpResponse:
    region = scope(request)
    _catch_up()
    day, start, end = _dates(request)
    overview = figures.overview(region, day)
    for r in overview.by_category:
        r["link"] = _link(region, day, category=r["value"])
    for r in overview.by_type:
        r["link"] = _link(region, day, monitored="1", household_type=r["value"])
    for r in overview.by_risk:
        r["link"] = _link(region, day, status="open", risk=r["value"])
    child_label, children = figures.children(region, day)
    pipeline = figures.pipeline(region, start, end)
    departments = figures.by_department(region, start, end)
    late = figures.over_limit(region, day)
    since = _since()
    trend = figures.trend(region, day, since)
    rect = figures.rectification(request.user, region, day)
    charts = {
        "category": [{"name": r["label"], "value": r["households"]} for r in overview.by_category],
        "risk": {"labels": [r["label"] for r in overview.by_risk], "open": [r["open"] for r in overview.by_risk],
                 "eliminated": [r["eliminated"] for r in overview.by_risk]},
        "children": {"labels": [c["name"] for c in children], "open": [c["open"] for c in children],
                     "eliminated": [c["eliminated"] for c in children]},
        "pipeline": {"labels": ["预警推送", "已核实", "确认有风险", "识别纳入", "风险消除"],
                     "values": [pipeline["warning_raised"], pipeline["warning_verified"],
                                pipeline["warning_confirmed"], pipeline["identified"], pipeline["eliminated"]]},
        "trend": {"labels": [t["month"] for t in trend], "monitored": [t["monitored"] for t in trend],
                  "warnings": [t["warning_raised"] for t in trend], "identified": [t["identified"] for t in trend],
                  "eliminated": [t["eliminated"] for t in trend]},
    }  # fmt: skip
    context = {
        "region": region, "crumbs": _crumbs(region, request.user), "day": day, "start": start, "end": end,
        "overview": overview, "child_label": child_label, "children": children, "pipeline": pipeline,
        "departments": departments, "trend": trend, "rect": rect, "charts": charts, "since": since,
        "late": late, "limits": figures.limits(),
        "flow_query": urlencode({"region": region.code, "as_of": day, "start": start, "end": end}),
        "before_history": since is None or day < since, "is_village": region.level == Level.VILLAGE,
        "links": {
            "monitored": _link(region, day, monitored="1"),
            "open": _link(region, day, status="open"), "eliminated": _link(region, day, status="eliminated"),
            "overdue": _link(region, day, monitored="1", overdue="1"),
            "uncovered": _link(region, day, status="open", risks_covered="0"),
            "undeveloped": _link(region, day, status="open", labour="1", development="0"),
            "unpaired": _link(region, day, status="open", paired="0"),
            "identifying": _link(region, day, case_kind="identification"),
            "eliminating": _link(region, day, case_kind="elimination"),
        },
    }  # fmt: skip
    return render(request, "reports/dashboard.html", context)


@capability_required("view_register")
def households(request: HttpRequest) -> HttpResponse:
    """The households behind a number: the facts valid at the end of the as-of day, with the filters of
    the number, inside the user's scope (through Household.objects.for_user), paged by key."""
    region = scope(request)
    if request.GET.get("metric"):
        return _events(request, region)
    day = _day(request.GET.get("as_of", ""), timezone.localdate())
    filters = filters_from(request.GET)
    facts = actions.facts_on(day, HouseholdFact.objects.for_user(request.user).in_region(region))
    facts = facts.filter(filter_q(filters, day, facts=True))
    queryset = Household.objects.for_user(request.user).filter(pk__in=facts.values("household_id"))
    page = by_key(queryset.select_related("region"), request)
    context = {
        "region": region,
        "day": day,
        "page": page,
        "total": facts.count(),
        "filters": [(DIMENSIONS[k].label, DIMENSIONS[k].label_of(v)) for k, v in filters.items()],
        "back": _link(region, day),
    }
    return render(request, "reports/households.html", context)


def _events(request: HttpRequest, region: Region) -> HttpResponse:
    """The warnings or cases behind a number of the pipeline, the department table or 超时未办结, one
    row each (so the count is the number clicked), with the households they concern."""
    day, start, end = _dates(request)
    department = request.GET.get("dept", "")
    found = figures.events(request.user, region, request.GET["metric"], start, end, day, department)
    if found is None:
        raise Http404
    rows = found.rows.select_related("household", "household__region")
    page = newest_first(rows, request)
    figures.describe(found, page.rows, day)
    context = {
        "region": region, "day": day, "start": start, "end": end, "events": found, "page": page,
        "total": rows.count(), "households": rows.values("household_id").distinct().count(),
        "department": department, "limits": figures.limits(),
        "limit": figures.limits().get(figures.LATE.get(found.metric, ""), 0),
        "back": "?" + urlencode({"region": region.code, "as_of": day, "start": start, "end": end}),
    }  # fmt: skip
    return render(request, "reports/households.html", context)


def _crosstab_args(request: HttpRequest) -> tuple[Region, dt.date, str, str, str, dict[str, str]]:
    region = scope(request)
    day = _day(request.GET.get("as_of", ""), timezone.localdate())
    default_row = "village" if region.level == Level.TOWNSHIP else "township"
    if region.level == Level.VILLAGE:
        default_row = "household_type"
    row = request.GET.get("rows", "") if request.GET.get("rows", "") in ROW_KEYS else default_row
    col = request.GET.get("cols", "") if request.GET.get("cols", "") in COLUMN_KEYS else "category"
    measure = (
        request.GET.get("measure", "")
        if request.GET.get("measure", "") in crosstab.MEASURES
        else "households"
    )
    return region, day, row, col, measure, filters_from(request.GET)


@capability_required("view_register")
def crosstab_page(request: HttpRequest) -> HttpResponse:
    region, day, row, col, measure, filters = _crosstab_args(request)
    _catch_up()
    table = crosstab.build(region, day, row, col, measure, filters)
    base = {"region": region.code, "as_of": day.isoformat()}
    base.update({FILTER_PREFIX + k: v for k, v in filters.items()})

    def cell_link(row_value: str, col_value: str | None) -> str:
        params = dict(base)
        row_dim = DIMENSIONS[row]
        if row_dim.region_digits:
            params["region"] = row_value
        else:
            params[FILTER_PREFIX + row] = row_value
        if col_value is not None:
            params[FILTER_PREFIX + col] = col_value
        return "?" + urlencode(params)

    rows = [
        {
            **r,
            "zipped": list(
                zip(r["cells"], [cell_link(r["value"], v) for v, _ in table.columns], strict=True)
            ),
            "total_link": cell_link(r["value"], None),
        }
        for r in table.rows
    ]
    filter_options = [
        (key, DIMENSIONS[key].label, DIMENSIONS[key].values(), filters.get(key, ""))
        for key in DIMENSIONS
        if not DIMENSIONS[key].region_digits
    ]
    context = {
        "region": region, "crumbs": _crumbs(region, request.user), "day": day, "table": table, "rows": rows,
        "row_key": row, "col_key": col, "measure": measure,
        "row_options": [(k, DIMENSIONS[k].label) for k in ROW_KEYS],
        "col_options": [(k, DIMENSIONS[k].label) for k in COLUMN_KEYS],
        "filter_options": filter_options, "query": request.GET.urlencode(),
        "column_zipped": list(zip(table.column_totals,
                                  ["?" + urlencode({**base, FILTER_PREFIX + col: v}) for v, _ in table.columns],
                                  strict=True)),
        "all_link": "?" + urlencode(base),
    }  # fmt: skip
    return render(request, "reports/crosstab.html", context)


@capability_required("view_register")
def crosstab_export(request: HttpRequest) -> HttpResponse:
    region, day, row, col, measure, filters = _crosstab_args(request)
    table = crosstab.build(region, day, row, col, measure, filters)
    unit_name = str(request.user.region or "")
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - streamed, then removed
    handle.close()
    path = Path(handle.name)
    crosstab.write_xlsx(table, path, unit_name=unit_name)
    record(Action.EXPORT, model="reports.Crosstab", object_id=region.code, object_repr=region.name,
           region_code=region.code,
           detail=f"导出交叉统计（{table.row_dim.label}×{table.col_dim.label}，截至{day:%Y-%m-%d}）")  # fmt: skip
    data = path.read_bytes()
    path.unlink(missing_ok=True)
    name = f"{region.name}交叉统计_{day:%Y%m%d}.xlsx"
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# ---- 官方统计表 -------------------------------------------------------------------------------------


def _table_args(request: HttpRequest) -> tuple[tables.Table, tables.Scope, tables.Signature]:
    """The table asked for, its scope (the region must lie in the user's: 404 outside), dates and signers."""
    region = scope(request)
    table = tables.TABLES.get(request.GET.get("table", ""), tables.MONITORED)
    day, start, end = _dates(request)
    user = request.user
    signature = tables.Signature(
        unit=getattr(user, "unit", "") or str(user.region or ""),
        preparer=request.GET.get("preparer", "").strip()[:32] or user.display_name,
        reviewer=request.GET.get("reviewer", "").strip()[:32],
    )
    return table, tables.Scope(user, region, day, start, end), signature


@capability_required("view_register")
def tables_page(request: HttpRequest) -> HttpResponse:
    """The table on screen: a detail list paged by key (numbered on from `?from=`), a summary whole."""
    table, table_scope, signature = _table_args(request)
    _catch_up()
    page = next_query = None
    if table.detail:
        first = int(request.GET.get("from", "1")) if request.GET.get("from", "").isdigit() else 1
        page = tables.page(table, table_scope, request.GET.get("after", ""), first)
        if page.next_cursor:
            params = request.GET.copy()
            params["after"], params["from"] = page.next_cursor, str(first + len(page.rows))
            next_query = params.urlencode()
        rows = page.rows
    else:
        rows = tables.summary_rows(table, table_scope)
    columns = tables.columns_of(table, table_scope)
    top, bottom = tables.header_lines(table, table_scope, signature)
    first_page = request.GET.copy()
    first_page.pop("after", None)
    first_page.pop("from", None)
    context = {
        "table": table, "tables": list(tables.TABLES.values()), "region": table_scope.region,
        "crumbs": _crumbs(table_scope.region, request.user), "scope": table_scope, "signature": signature,
        "columns": columns, "top": top, "bottom": bottom, "note": table.note(table_scope),
        "rows": [[(c, tables.display(c, row.get(c.key))) for c in columns] + [row.get("is_total")] for row in rows],
        "page": page, "next_query": next_query, "first_query": first_page.urlencode(),
        "query": first_page.urlencode(), "since": _since(),
        "can_export": request.user.can("export_register"), "is_first": not request.GET.get("after"),
        "region_options": region_options(request.user),
    }  # fmt: skip
    return render(request, "reports/tables.html", context)


@capability_required("export_register")
def tables_export(request: HttpRequest) -> HttpResponse:
    """The table as .xlsx, .docx or .pdf (A4), scoped like the page, an 导出 entry in the audit log."""
    table, table_scope, signature = _table_args(request)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in tables.FORMATS:
        raise Http404
    data, name, content_type = tables.export(table, table_scope, signature, fmt)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# ---- 汇报材料 ---------------------------------------------------------------------------------------


def _briefing_dates(request: HttpRequest) -> tuple[dt.date, dt.date, dt.date, str]:
    """统计期间 (from 1 January by default) and 上次汇报日期 (the day before the period by default)."""
    end = _day(request.GET.get("end", ""), timezone.localdate())
    start = min(_day(request.GET.get("start", ""), end.replace(month=1, day=1)), end)
    last = _day(request.GET.get("last", ""), start - dt.timedelta(days=1))
    error = "上次汇报日期不能晚于统计期间的结束日期" if last > end else ""
    return start, end, last, error


@capability_required("export_register")
def briefing_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":  # the county's template: upload, or back to the default
        if not request.user.can(briefing.MANAGE):
            return forbidden(request)
        try:
            if "reset" in request.POST:
                done = briefing.reset_template(request.user)
                messages.success(request, "已恢复默认模板" if done else "当前已是默认模板")
            elif upload := request.FILES.get("template"):
                briefing.install_template(upload, request.user)
                name = Path(upload.name or "").name
                messages.success(request, f"模板“{name}”已通过检查，今后生成的汇报材料使用该模板")
            else:
                messages.error(request, "请选择要上传的模板文件（.docx）")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        return redirect("reports:briefing")
    region = scope(request)
    _catch_up()
    start, end, last, error = _briefing_dates(request)
    custom = briefing.uploaded_template()
    since = _since()
    context = {
        "region": region, "crumbs": _crumbs(region, request.user), "start": start, "end": end, "last": last,
        "error": error, "since": since, "last_before_history": since is None or last < since,
        "region_options": region_options(request.user), "can_manage": request.user.can(briefing.MANAGE),
        "custom_at": dt.datetime.fromtimestamp(custom.stat().st_mtime, tz=dt.UTC) if custom.exists() else None,
    }  # fmt: skip
    return render(request, "reports/briefing.html", context)


@capability_required("export_register")
def briefing_download(request: HttpRequest) -> HttpResponse:
    """The .docx for the scope asked for (inside the user's: 404 outside), an 导出 entry in the audit log."""
    region = scope(request)
    start, end, last, error = _briefing_dates(request)
    if error:  # the page says what is wrong with the dates
        return redirect(reverse("reports:briefing") + "?" + request.GET.urlencode())
    result = briefing.gather(request.user, region, start, end, last, _since())
    data = briefing.render(result)
    record(Action.EXPORT, model="reports.Briefing", object_id=region.code, object_repr=region.name,
           region_code=region.code, detail=f"导出汇报材料（统计期间{start:%Y-%m-%d}至{end:%Y-%m-%d}，"
           f"上次汇报日期{last:%Y-%m-%d}）")  # fmt: skip
    response = HttpResponse(data, content_type=briefing.DOCX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, briefing.filename(result))
    return response


@capability_required("export_register")
def briefing_template_file(request: HttpRequest) -> HttpResponse:
    """The default template (or, `?current=1`, the one in use) to edit in Word: tags only, no data."""
    path = briefing.template_path() if request.GET.get("current") else briefing.DEFAULT_TEMPLATE
    name = "汇报材料模板（当前）.docx" if request.GET.get("current") else "汇报材料默认模板.docx"
    response = HttpResponse(path.read_bytes(), content_type=briefing.DOCX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
