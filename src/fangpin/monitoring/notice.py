"""The 公示 list and text of a village, as printable .docx and PDF.

Policy §6.1 forbids showing ID numbers, phones, bank accounts or health details in a notice. The rows
are built as NoticeRow, which has no field for any of them, so nothing else can reach the documents;
risk types are left out too because 因病/因残 are health details."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import astuple, dataclass
from xml.sax.saxutils import escape

from django.utils import timezone

from fangpin.regions.models import Region

from .models import Case
from .procedure import procedure


@dataclass(frozen=True)
class NoticeRow:
    no: int
    head_name: str
    size: int | str
    household_type: str
    category: str


@dataclass(frozen=True)
class Notice:
    title: str
    body: str
    columns: tuple[str, ...]
    rows: list[NoticeRow]
    signature: str
    date: str


def notice_cases(village: Region, kind: str) -> list[Case]:
    codes = {s.code for s in procedure(kind).steps if s.notice}
    return list(Case.objects.filter(region_code=village.code, kind=kind, status=Case.Status.OPEN, step__in=codes)
                .select_related("household").order_by("step_started_at", "id"))  # fmt: skip


def build(village: Region, kind: str, today: dt.date | None = None) -> Notice:
    cases = notice_cases(village, kind)
    flow = procedure(kind)
    days = max((s.min_days for s in flow.steps if s.notice), default=5)
    start = max(
        (timezone.localtime(c.step_started_at).date() for c in cases), default=today or timezone.localdate()
    )
    end = start + dt.timedelta(days=days)
    township = village.parent.name if village.parent else ""
    rows = [
        NoticeRow(i, c.household.head_name, c.household.current_size or c.household.annual_size or "",
                  c.household.household_type, c.proposed_category)
        for i, c in enumerate(cases, 1)
    ]  # fmt: skip
    identification = kind == Case.Kind.IDENTIFICATION
    what = "纳入防止返贫致贫监测对象" if identification else "标注为风险已消除"
    steps = "经农户申请或干部排查、部门预警，入户核查、信息比对和村民主评议" if identification else \
        "经入户核实、帮扶成效评估和村民主评议"  # fmt: skip
    body = (
        f"根据防止返贫动态监测和帮扶工作有关规定，{steps}，拟将以下{len(rows)}户{what}，现予以公示。"
        f"公示期为{start:%Y年%m月%d日}至{end:%Y年%m月%d日}。公示期间如有异议，可向{village.name}村民委员会或"
        f"{township}人民政府实名或匿名反映。"
    )
    return Notice(
        title=f"{village.name}防止返贫致贫监测对象{'识别纳入' if identification else '风险消除'}公示",
        body=body,
        columns=(
            "序号",
            "户主姓名",
            "家庭人口数",
            "户类型",
            "拟认定类别" if identification else "监测对象类别",
        ),
        rows=rows,
        signature=f"{village.name}村民委员会",
        date=f"{start:%Y年%m月%d日}",
    )


def as_docx(notice: Notice) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    # python-docx's default template is US Letter; a notice is printed on A4, with the margins of GB/T 9704
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    style = document.styles["Normal"]
    style.font.name, style.font.size = "宋体", Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(notice.title)
    run.bold, run.font.size = True, Pt(18)
    document.add_paragraph(notice.body).paragraph_format.first_line_indent = Pt(24)
    table = document.add_table(rows=1, cols=len(notice.columns))
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, notice.columns, strict=True):
        cell.text = label
    for row in notice.rows:
        for cell, value in zip(table.add_row().cells, astuple(row), strict=True):
            cell.text = str(value)
    for line in (notice.signature, notice.date):
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def as_pdf(notice: Notice) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    # a CID font every PDF reader maps to its own 宋体: nothing to ship or embed
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    base = ParagraphStyle("body", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=1)
    right = ParagraphStyle("right", parent=base, alignment=2)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, title=notice.title)
    table = Table([list(notice.columns), *([str(v) for v in astuple(r)] for r in notice.rows)], repeatRows=1)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "STSong-Light", 11),
                               ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("ALIGN", (0, 0), (-1, -1), "CENTER")]))  # fmt: skip
    # Paragraph parses its text as markup: a name like "<b>王</b>&amp;" must print as typed
    doc.build([Paragraph(escape(notice.title), title), Spacer(1, 6 * mm), Paragraph(escape(notice.body), base),
               Spacer(1, 4 * mm), table, Spacer(1, 10 * mm), Paragraph(escape(notice.signature), right),
               Paragraph(escape(notice.date), right)])  # fmt: skip
    return out.getvalue()
