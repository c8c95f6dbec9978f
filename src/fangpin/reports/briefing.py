"""巩固衔接工作情况汇报: the briefing for a supervision meeting, a Word document made from a template a
county can edit (docxtpl), for one scope, one period and the date of the last briefing.

Every figure comes from `reports.figures` for the same region and day as the dashboard (the counts at the
end of the period from DailyCount, the period's pipeline from DailyFlow), so a briefing and the dashboard
never disagree; "the last briefing" is the same figures as of that day, from the counts stored for it.
Two parts are not in the summary tables and are read here, scoped by the user: the steps of the
identification and elimination procedures that were over their clock at the end of the period
(rebuilt from each case's step events), and the rectification items by township or village.

The template: the shipped default (`templates_docx/briefing.docx`, made by `briefing_template.py`) or
the one the county administrator uploaded (stored in the data directory). An upload is checked like
every upload (content, size, zip limits: common.files) and then rendered once against `sample()` with
strict undefined names, so a tag that does not parse or names nothing is refused before it is used,
with the tag in the message.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.utils import timezone

from fangpin.audit.actions import record
from fangpin.audit.models import Action
from fangpin.common.files import check_upload, save_upload
from fangpin.dossiers.pdf import FONT_FILE  # the vendored CJK TrueType font, never a system font
from fangpin.regions.models import Level, Region

from . import actions, figures
from .models import Metric

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DEFAULT_TEMPLATE = Path(__file__).parent / "templates_docx" / "briefing.docx"
DPI = 150
CHART_WIDTH_MM = 150  # the text width of an A4 page with the GB/T 9704 margins is 156 mm
TEMPLATE_MODEL = "reports.BriefingTemplate"
MANAGE = "manage_rules"  # the county administrator, who sets the county's rule and income parameters
COLORS = {"open": "#c0392b", "eliminated": "#2e86c1", "warnings": "#e39b2d", "identified": "#8e44ad",
          "monitored": "#1f4e79"}  # fmt: skip


def uploaded_template() -> Path:
    """Where the county's own template is kept: in the data directory, so a backup carries it."""
    return Path(settings.MEDIA_ROOT) / "reports" / "briefing-template.docx"


def template_path() -> Path:
    path = uploaded_template()
    return path if path.exists() else DEFAULT_TEMPLATE


# ---- the figures -----------------------------------------------------------------------------------


@dataclass
class Briefing:
    region: Region
    unit: str
    start: dt.date
    end: dt.date
    last: dt.date
    since: dt.date | None  # first day with statistics
    now: figures.Overview
    then: figures.Overview
    child_label: str
    children: list[dict[str, Any]]
    pipeline: dict[str, int]
    since_last: dict[str, int]
    departments: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    rect: dict[str, int] | None
    rect_then: dict[str, int] | None
    rect_rows: list[dict[str, Any]]
    overdue_steps: list[dict[str, Any]]  # one per case: region_code, kind, step, days over
    made_on: dt.date = field(default_factory=timezone.localdate)


def gather(user: Any, region: Region, start: dt.date, end: dt.date, last: dt.date,
           since: dt.date | None) -> Briefing:  # fmt: skip
    """The briefing's figures for `region` (already checked against the user's scope)."""
    child_label, children = figures.children(region, end)
    after_last = last + dt.timedelta(days=1)
    return Briefing(
        region=region, unit=getattr(user, "unit", "") or str(user.region or region.name),
        start=start, end=end, last=last, since=since,
        now=figures.overview(region, end), then=figures.overview(region, last),
        child_label=child_label, children=children,
        pipeline=figures.pipeline(region, start, end),
        since_last=figures.pipeline(region, after_last, end) if after_last <= end else {m.value: 0 for m in Metric},
        departments=figures.by_department(region, start, end),
        trend=figures.trend(region, end, since),
        rect=figures.rectification(user, region, end), rect_then=figures.rectification(user, region, last),
        rect_rows=rectification_rows(user, region, end),
        overdue_steps=overdue_steps(user, region, end),
    )  # fmt: skip


def overdue_steps(user: Any, region: Region, day: dt.date) -> list[dict[str, Any]]:
    """The procedure steps over their limit at the end of `day`, through monitoring's own clock.

    A case's step at that moment is the step named by its first event after it (an event records the
    step it completed, returned or ended), or its current step when nothing happened since; the step
    began at the last event before the moment (or when the case opened). Today this is the live clock."""
    from fangpin.monitoring.actions import clock
    from fangpin.monitoring.models import Case, CaseEvent

    moment = actions.end_of(day)
    cases = (
        Case.objects.for_user(user).in_region(region).filter(opened_at__lt=moment)
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=moment))
    )  # fmt: skip
    before: dict[int, dt.datetime] = {}
    after: dict[int, str] = {}
    events = CaseEvent.objects.filter(case__in=cases.values("pk")).order_by("case_id", "at", "id")
    for case_id, step, at in events.values_list("case_id", "step", "at"):
        if at < moment:
            before[case_id] = at
        else:
            after.setdefault(case_id, step)
    found = []
    for case in cases:
        then = copy.copy(case)  # the case as it stood at the moment, for the clock
        if case.pk in after:
            then.step, then.step_started_at = after[case.pk], before.get(case.pk, case.opened_at)
        elif case.step_started_at > moment:
            then.step_started_at = before.get(case.pk, case.opened_at)
        then.status, then.finished_at = Case.Status.OPEN, None
        state = clock(then, now=moment)
        if state.step_overdue:
            found.append({"region_code": case.region_code, "kind": case.get_kind_display(),
                          "step": state.step.label, "days": (moment - state.step_due).days})  # fmt: skip
    return found


def rectification_rows(user: Any, region: Region, day: dt.date) -> list[dict[str, Any]]:
    """Rectification items as they stood at the end of `day`, by township (of a county) or village
    (of a township): raised, 销号, open, over their deadline. Items of the region itself come first."""
    if not user.can("view_rectification") or figures.child_level(region) is None:
        return []
    from fangpin.rectification.models import Item

    digits, _ = figures.child_level(region)  # type: ignore[misc]
    moment = actions.end_of(day)
    items = Item.objects.for_user(user).in_region(region).filter(created_at__lt=moment)
    rows: dict[str, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("total", "closed", "open", "overdue"), 0)
    )
    for code, closed_at, deadline in items.values_list("region_code", "closed_at", "deadline"):
        row = rows[region.code if code == region.code else code[:digits].ljust(12, "0")]
        row["total"] += 1
        if closed_at is not None and closed_at < moment:
            row["closed"] += 1
        else:
            row["open"] += 1
            row["overdue"] += deadline < day
    names = dict(Region.objects.filter(code__in=list(rows)).values_list("code", "name"))
    result = []
    for code in sorted(rows, key=lambda c: (c != region.code, c)):
        name = f"{region.name}本级" if code == region.code else names.get(code, code)
        result.append({"code": code, "name": name, **rows[code]})
    return result


# ---- the document ----------------------------------------------------------------------------------


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _change(then: int, now: int) -> str:
    if now == then:
        return "持平"
    return f"增加{now - then}" if now > then else f"减少{then - now}"


def _changes(b: Briefing) -> list[dict[str, Any]]:
    """Each headline figure at the last briefing and now."""
    rows = [
        ("监测户数（户）", b.then.monitored["households"], b.now.monitored["households"]),
        ("监测人数（人）", b.then.monitored["people"], b.now.monitored["people"]),
        ("风险未消除（户）", b.then.monitored["open"], b.now.monitored["open"]),
        ("风险已消除（户）", b.then.monitored["eliminated"], b.now.monitored["eliminated"]),
        ("识别纳入办理中（户）", b.then.monitored["identifying"], b.now.monitored["identifying"]),
        ("风险消除办理中（户）", b.then.monitored["eliminating"], b.now.monitored["eliminating"]),
        ("走访逾期（户）", b.then.monitored["overdue"], b.now.monitored["overdue"]),
        ("未落实对应帮扶措施（户）", b.then.coverage["uncovered"], b.now.coverage["uncovered"]),
        ("有劳动能力未落实开发式措施（户）", b.then.coverage["undeveloped"], b.now.coverage["undeveloped"]),
        ("未结对帮扶（户）", b.then.coverage["unpaired"], b.now.coverage["unpaired"]),
    ]
    if b.rect is not None and b.rect_then is not None:
        rows.append(("整改未销号问题（个）", b.rect_then["open"], b.rect["open"]))
    return [
        {"label": label, "then": then, "now": now, "change": _change(then, now)} for label, then, now in rows
    ]


def _overdue_rows(b: Briefing) -> list[dict[str, Any]]:
    """By township or village: steps over their clock (per procedure) and households overdue a visit."""
    level = figures.child_level(b.region)
    if level is None:
        return []
    digits = level[0]
    steps: Counter[tuple[str, str]] = Counter()
    for case in b.overdue_steps:
        steps[(case["region_code"][:digits].ljust(12, "0"), case["kind"])] += 1
    rows = []
    for child in b.children:
        row = {"name": child["name"], "identification": steps[(child["code"], "识别纳入")],
               "elimination": steps[(child["code"], "风险消除")], "visits": child["overdue"]}  # fmt: skip
        if row["identification"] or row["elimination"] or row["visits"]:
            rows.append(row)
    return rows


def _overdue_by_step(b: Briefing) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[int]] = defaultdict(list)
    for case in b.overdue_steps:
        grouped[(case["kind"], case["step"])].append(case["days"])
    return [{"kind": kind, "step": step, "n": len(days), "longest": max(days)}
            for (kind, step), days in sorted(grouped.items(), key=lambda kv: -len(kv[1]))]  # fmt: skip


def context(b: Briefing, doc: Any = None) -> dict[str, Any]:
    """What the template's tags read: text and numbers (and the charts when `doc` is the template)."""
    monitored, p, sl = b.now.monitored, b.pipeline, b.since_last
    right = sum(d["right"] for d in b.departments)
    verified = sum(d["verified"] for d in b.departments)
    kinds = Counter(case["kind"] for case in b.overdue_steps)
    rect = None
    if b.rect is not None:
        rect = {**b.rect, "new": b.rect["total"] - (b.rect_then or {}).get("total", 0),
                "newly_closed": b.rect["closed"] - (b.rect_then or {}).get("closed", 0)}  # fmt: skip
    values: dict[str, Any] = {
        "title": f"{b.region.name}巩固衔接工作情况汇报", "region_name": b.region.name, "unit": b.unit,
        "period_text": f"{_date(b.start)}至{_date(b.end)}", "as_of_text": _date(b.end),
        "last_text": _date(b.last), "last_short": _date(b.last), "end_short": _date(b.end),
        "since_last_text": f"{_date(b.last + dt.timedelta(days=1))}至{_date(b.end)}" if b.last < b.end else "无",
        "since_text": _date(b.since) if b.since else "尚未统计",
        "last_before_history": b.since is None or b.last < b.since,
        "date_text": _date(b.made_on),
        "all_households": monitored["all_households"], "all_people": monitored["all_people"],
        "monitored_households": monitored["households"], "monitored_people": monitored["people"],
        "open_households": monitored["open"], "open_people": monitored["open_people"],
        "eliminated_households": monitored["eliminated"], "eliminated_people": monitored["eliminated_people"],
        "identifying": monitored["identifying"], "eliminating": monitored["eliminating"],
        "categories": b.now.by_category, "risks": b.now.by_risk,
        "child_label": b.child_label, "children": b.children,
        "p": {**p, "identified_rate": _rate(p["identified_on_time"], p["identified"]),
              "eliminated_rate": _rate(p["eliminated_on_time"], p["eliminated"])},
        "pipeline_rows": [
            {"label": "预警推送（条）", "n": p["warning_raised"], "on_time": "—"},
            {"label": "已核实（条）", "n": p["warning_verified"], "on_time": "—"},
            {"label": "核实属实（条）", "n": p["warning_true"], "on_time": "—"},
            {"label": "确认有风险（条）", "n": p["warning_confirmed"], "on_time": "—"},
            {"label": "发起识别纳入（户）", "n": p["case_opened"], "on_time": "—"},
            {"label": "识别纳入（户）", "n": p["identified"], "on_time": p["identified_on_time"]},
            {"label": "风险消除（户）", "n": p["eliminated"], "on_time": p["eliminated_on_time"]},
        ],
        "sl": sl, "changes": _changes(b),
        "departments": b.departments,
        "dept_total": {"raised": sum(d["raised"] for d in b.departments), "verified": verified, "right": right,
                       "confirmed": sum(d["confirmed"] for d in b.departments), "precision": _rate(right, verified)},
        "cov": b.now.coverage,
        "overdue": {"steps": len(b.overdue_steps), "identification": kinds["识别纳入"],
                    "elimination": kinds["风险消除"], "visits": monitored["overdue"]},
        "overdue_label": b.child_label, "overdue_rows": _overdue_rows(b), "overdue_steps": _overdue_by_step(b),
        "rect": rect, "rect_label": b.child_label, "rect_rows": b.rect_rows,
        "chart_children": "", "chart_trend": "",
    }  # fmt: skip
    if doc is not None:
        from docx.shared import Mm
        from docxtpl import InlineImage

        def image(png: bytes) -> InlineImage:
            return InlineImage(doc, io.BytesIO(png), width=Mm(CHART_WIDTH_MM))

        values["chart_trend"] = image(trend_chart(b.trend))
        if b.children:
            values["chart_children"] = image(children_chart(b.child_label, b.children))
    return values


def render(b: Briefing, template: Path | None = None, *, strict: bool = False) -> bytes:
    """The .docx. `strict`: a name the template uses that the context lacks is an error (the upload check);
    a download never fails on one (it prints empty)."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined, Undefined

    doc = DocxTemplate(str(template or template_path()))
    env = Environment(undefined=StrictUndefined if strict else Undefined, autoescape=True)
    doc.render(context(b, doc), jinja_env=env, autoescape=True)  # a head's name "<b>" prints as typed
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def filename(b: Briefing) -> str:
    return f"{b.region.name}巩固衔接工作情况汇报_{b.end:%Y%m%d}.docx"


# ---- charts ----------------------------------------------------------------------------------------


def _font(size: float = 9) -> Any:
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=str(FONT_FILE), size=size)


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # Agg, no pyplot: no global state shared between requests
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _style_axes(ax: Any) -> None:
    font = _font(8)
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_fontproperties(font)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _month_label(month: str, first: bool) -> str:
    """ "4月", with the year under the first month and under each January: twelve labels fit side by side."""
    year, number = month.split("-")
    return f"{int(number)}月" + (f"\n{year}年" if first or number == "01" else "")


def trend_chart(trend: list[dict[str, Any]]) -> bytes:
    """12 months: warnings, identified and eliminated per month (bars), monitored households at each
    month's end (line, right axis; absent before the statistics began)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6.0, 3.0), layout="constrained")
    ax = figure.add_subplot()
    x = list(range(len(trend)))
    width = 0.27
    series = (("warning_raised", "预警推送", COLORS["warnings"]), ("identified", "识别纳入", COLORS["identified"]),
              ("eliminated", "风险消除", COLORS["eliminated"]))  # fmt: skip
    handles = []
    for offset, (key, label, color) in zip((-width, 0, width), series, strict=True):
        handles.append(
            ax.bar([i + offset for i in x], [t[key] for t in trend], width, label=label, color=color)
        )
    ax.set_xticks(x, [_month_label(t["month"], i == 0) for i, t in enumerate(trend)])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0, top=None if any(t[key] for t in trend for key, _, _ in series) else 1)
    ax.set_ylabel("当月数量（条/户）", fontproperties=_font(8))
    _style_axes(ax)
    right = ax.twinx()
    monitored = [t["monitored"] if t["monitored"] is not None else float("nan") for t in trend]
    (line,) = right.plot(x, monitored, color=COLORS["monitored"], marker="o", markersize=3, linewidth=1.5,
                         label="月末监测户数")  # fmt: skip
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_ylabel("监测户数（户）", fontproperties=_font(8))
    right.spines["top"].set_visible(False)
    for label in right.get_yticklabels():
        label.set_fontproperties(_font(8))
    right.set_ylim(bottom=0, top=None if any(v == v and v for v in monitored) else 1)  # NaN != NaN
    ax.legend(handles=[*handles, line], prop=_font(8), loc="upper left", ncols=4, frameon=False,
              bbox_to_anchor=(0, 1.12))  # fmt: skip
    return _png(figure)


def children_chart(label: str, children: list[dict[str, Any]]) -> bytes:
    """Each township (or village): households with risk open and eliminated, stacked horizontal bars."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    height = max(2.2, 0.8 + 0.26 * len(children))
    figure = Figure(figsize=(6.0, height), layout="constrained")
    ax = figure.add_subplot()
    rows = list(reversed(children))  # the first township at the top
    y = list(range(len(rows)))
    opened = [c["open"] for c in rows]
    ax.barh(y, opened, 0.6, color=COLORS["open"], label="风险未消除")
    ax.barh(
        y, [c["eliminated"] for c in rows], 0.6, left=opened, color=COLORS["eliminated"], label="风险已消除"
    )
    ax.set_yticks(y, [c["name"] for c in rows])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(left=0, right=None if any(c["open"] or c["eliminated"] for c in rows) else 1)
    ax.set_xlabel(f"监测户数（户），按{label}", fontproperties=_font(8))
    _style_axes(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.legend(prop=_font(8), loc="lower left", bbox_to_anchor=(0, 1), ncols=2, frameon=False)
    return _png(figure)


# ---- the county's template -------------------------------------------------------------------------


def sample() -> Briefing:
    """A small briefing with every list filled, to try a template against (no database)."""
    county = Region(code="140826000000", name="示例县", level=Level.COUNTY)
    by_category = [{"value": c, "label": c, "households": 1, "people": 2}
                   for c in ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")]  # fmt: skip
    monitored = {"households": 3, "people": 6, "all_households": 10, "all_people": 30, "overdue": 1, "open": 2,
                 "open_people": 4, "eliminated": 1, "eliminated_people": 2, "identifying": 1, "eliminating": 0}  # fmt: skip
    coverage = {"open": 2, "covered": 1, "labour": 2, "labour_developed": 1, "paired": 1, "uncovered": 1,
                "undeveloped": 1, "unpaired": 1}  # fmt: skip
    overview = figures.Overview(
        monitored=monitored, by_category=by_category,
        by_status=[{"value": "open", "label": "风险未消除", "households": 2, "people": 4}],
        by_type=[{"value": "脱贫户", "label": "脱贫户", "households": 2, "people": 4}],
        by_risk=[{"value": "因病", "label": "因病", "open": 2, "eliminated": 1}], coverage=coverage,
    )  # fmt: skip
    child = {"code": "140826100000", "name": "示例镇", "households": 3, "people": 6, "open": 2, "eliminated": 1,
             "overdue": 1, "uncovered": 1, "undeveloped": 1}  # fmt: skip
    flows = {m.value: 1 for m in Metric}
    end = dt.date(2026, 3, 31)
    return Briefing(
        region=county, unit="示例县乡村振兴局", start=dt.date(2026, 1, 1), end=end, last=dt.date(2025, 12, 31),
        since=dt.date(2025, 6, 1), now=overview, then=overview, child_label="乡镇", children=[child],
        pipeline=flows, since_last=flows,
        departments=[{"department": "医保", "raised": 2, "verified": 2, "right": 1, "confirmed": 1,
                      "precision": "50.0%"}],
        trend=[{"month": f"{m:%Y-%m}", "end": m, "monitored": 3, "open": 2, **flows}
               for m in figures.month_ends(end)],
        rect={"total": 2, "closed": 1, "overdue": 1, "open": 1, "percent": 50},
        rect_then={"total": 1, "closed": 0, "overdue": 0, "open": 1, "percent": 0},
        rect_rows=[{"code": child["code"], "name": child["name"], "total": 2, "closed": 1, "open": 1, "overdue": 1}],
        overdue_steps=[{"region_code": "140826100201", "kind": "识别纳入", "step": "入户核实", "days": 2}],
        made_on=end,
    )  # fmt: skip


TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# from an opening to its close, or to the next opening or the end when it is never closed
PIECE = re.compile(r"\{[{%](?:(?!\{[{%]).)*?(?:\}\}|%\}|(?=\{[{%])|$)", re.DOTALL)
OPENERS = {"if": "endif", "for": "endfor", "with": "endwith", "macro": "endmacro", "filter": "endfilter",
           "block": "endblock", "call": "endcall", "set": None}  # fmt: skip


def _text(xml: str) -> str:
    """The words of Word XML with its own tags dropped (the jinja tags stay)."""
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", xml))


def _keyword(tag: str) -> str:
    inner = tag[2:-2].strip(" -+")
    return inner.split(maxsplit=1)[0] if inner else ""


def _bad_tag(exc: Any, env: Any) -> str:
    """The tag a syntax error is about: the unclosed block at the end of the template, else the first
    piece of the error's line (docxtpl puts each paragraph on a line) that is not closed or does not
    parse by itself."""
    source = getattr(exc, "source", None) or ""
    if "end of template" in str(exc):
        stack = []
        for tag in TAG.findall(_text(source)):
            word = _keyword(tag)
            if tag.startswith("{%") and OPENERS.get(word):
                stack.append(tag)
            elif word.startswith("end") and stack:
                stack.pop()
        if stack:
            return stack[-1]
    lines = source.splitlines()
    line = _text(lines[exc.lineno - 1]) if exc.lineno and exc.lineno <= len(lines) else ""
    for piece in PIECE.findall(line):
        if not piece.endswith(("}}", "%}")):  # never closed: up to the next tag or the paragraph's end
            return piece.strip()[:40]
        word = _keyword(piece)
        if word.startswith("end") or word in ("else", "elif"):
            continue
        closer = OPENERS.get(word)
        try:
            env.parse(piece + "{% " + closer + " %}" if piece.startswith("{%") and closer else piece)
        except Exception:
            return piece
    return ""


def check_template(path: Path) -> None:
    """Render the template once against `sample()`; refuse it with a message naming the bad tag."""
    from docx.opc.exceptions import PackageNotFoundError
    from jinja2 import Environment, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import TemplateError

    advice = "请在Word中改正后重新上传，或下载默认模板对照修改"
    try:
        render(sample(), path, strict=True)
    except TemplateSyntaxError as exc:
        tag = _bad_tag(exc, Environment())
        where = f"标签“{tag}”" if tag else f"第{exc.lineno}段附近的标签"
        reason = (
            "缺少对应的结束标签（如 {% endif %}、{% endfor %}）"
            if "end of template" in str(exc)
            else "写法有误"
        )
        raise ValidationError(f"模板中的{where}{reason}，{advice}") from exc
    except UndefinedError as exc:
        name = re.findall(r"'([^']+)'", str(exc))
        wanted = name[-1] if name else ""
        from docxtpl import DocxTemplate

        doc = DocxTemplate(str(path))
        doc.init_docx()
        text = _text(doc.patch_xml(doc.get_xml()))
        tags = [t for t in TAG.findall(text) if re.search(rf"\b{re.escape(wanted)}\b", t)] if wanted else []
        where = f"标签“{tags[0]}”" if tags else "模板中的某个标签"
        raise ValidationError(f"{where}引用了不存在的数据项“{wanted}”，{advice}") from exc
    except TemplateError as exc:
        raise ValidationError(f"模板中的标签有误（{exc}），{advice}") from exc
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValidationError("该文件无法作为Word模板打开，请用Word另存为 .docx 后重新上传") from exc


def install_template(upload: UploadedFile, user: Any) -> Path:
    """Check the upload (type by content, size, zip limits; then the trial render) and make it the
    county's template; an 修改 entry in the audit log with the file's digest."""
    name = Path(upload.name or "").name
    if Path(name).suffix.lower() != ".docx":
        raise ValidationError(f"“{name}”不是Word模板，请上传 .docx 文件（Word 2007 及以后的格式）")
    check_upload(upload, "attachment")
    target = uploaded_template()
    trial = target.with_name(f"trial-{timezone.now():%Y%m%d%H%M%S%f}.docx")
    save_upload(upload, trial)
    try:
        check_template(trial)
        data = trial.read_bytes()
        trial.replace(target)
    finally:
        trial.unlink(missing_ok=True)
    record(Action.UPDATE, model=TEMPLATE_MODEL, object_id="briefing", object_repr="汇报材料模板",
           region_code=user.region.code if user.region else "",
           detail=f"上传汇报材料模板“{name}”（{len(data)}字节，SHA-256 {hashlib.sha256(data).hexdigest()[:16]}）")  # fmt: skip
    return target


def reset_template(user: Any) -> bool:
    """Back to the shipped template; False when the default was in use already."""
    target = uploaded_template()
    if not target.exists():
        return False
    target.unlink()
    record(Action.UPDATE, model=TEMPLATE_MODEL, object_id="briefing", object_repr="汇报材料模板",
           region_code=user.region.code if user.region else "", detail="恢复默认汇报材料模板")  # fmt: skip
    return True
