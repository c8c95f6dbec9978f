"""The dossier as an A4 PDF with the vendored CJK TrueType font embedded (as a subset of the glyphs used).

One household is one document; a village's households are one document too, built from a lazy story:
the flowables of the next household are made only when reportlab is about to lay them out, so the
Python objects of one household at a time are alive (the written pages are compressed streams)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .content import Dossier, Section

FONT = "FangpinSans"
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"  # see fonts/README.md
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN


def register_font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))
        # the font has one weight: bold markup falls back to it instead of failing
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=register_font(), fontSize=9.5, leading=13, wordWrap="CJK")
    return {
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "head": ParagraphStyle("head", parent=base, fontSize=8.5, leading=11, alignment=1),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=26, alignment=1, spaceAfter=2 * mm
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, alignment=1, spaceAfter=4 * mm),
        "section": ParagraphStyle(
            "section",
            parent=base,
            fontSize=12,
            leading=18,
            spaceBefore=4 * mm,
            spaceAfter=1.5 * mm,
            keepWithNext=1,
        ),
        "note": ParagraphStyle("note", parent=base, fontSize=8, textColor=colors.grey),
    }


class Household(Flowable):
    """Zero-sized marker at the start of a household: the page footer names it and counts its pages."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = title
        self.width = self.height = 0

    def wrap(self, *_: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        doc = self.canv._doctemplate
        doc.household_title, doc.household_first_page = self.title, doc.page


GRID = [
    ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
]


def _p(value: str, style: ParagraphStyle) -> Paragraph:
    # Paragraph reads markup: a name typed as "<b>王</b>&amp;" prints as typed
    return Paragraph(escape(value), style)


def _width(value: str) -> int:
    """Printed width in Latin letters: a CJK character takes two."""
    return sum(1 if ord(c) < 0x2E80 else 2 for c in value)


def _weight(section: Section, column: int) -> int:
    """A column's share of the page: as wide as its longest value (a heading may wrap), within bounds."""
    values = max((_width(str(row[column])) for row in section.rows), default=0)
    return max(5, min(40, max(values, min(_width(section.columns[column]), 8)) + 3))  # + the cell padding


def _section(section: Section, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = [_p(section.title, styles["section"])]
    if section.pairs:
        cells = [_p(v, styles["cell"]) for pair in section.pairs for v in pair]
        cells += [_p("", styles["cell"])] * (len(cells) % 4 and 4 - len(cells) % 4)
        rows = [cells[i : i + 4] for i in range(0, len(cells), 4)]
        label, value = 0.21 * WIDTH, 0.29 * WIDTH
        table = Table(rows, colWidths=[label, value, label, value])
        table.setStyle(TableStyle([*GRID, ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
                                   ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#f0f0f0"))]))  # fmt: skip
        return [*out, table]
    if not section.rows:
        return [*out, _p(section.empty, styles["body"])]
    weights = list(section.widths) or [_weight(section, i) for i in range(len(section.columns))]
    widths = [WIDTH * w / sum(weights) for w in weights]
    rows = [[_p(c, styles["head"]) for c in section.columns]]
    rows += [[_p(str(v), styles["cell"]) for v in row] for row in section.rows]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0"))]))
    return [*out, table]


def flowables(dossier: Dossier, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [Household(dossier.title), _p(dossier.title, styles["title"]),
                             _p(dossier.subtitle, styles["subtitle"])]  # fmt: skip
    for section in dossier.sections:
        story += _section(section, styles)
    note = (
        "证件号码和联系电话为完整号码，请妥善保管，用后销毁。"
        if dossier.full
        else "证件号码和联系电话已脱敏。"
    )
    story += [
        Spacer(1, 4 * mm),
        _p(f"打印人：{dossier.printed_by}　打印时间：{dossier.printed_at}　{note}", styles["note"]),
    ]
    return story


class LazyStory(list):
    """A story list that takes the next household's flowables from `chunks` whenever it runs short,
    so reportlab never holds more than a household or two of flowables."""

    AHEAD = 40  # flowables kept ahead: enough for keepWithNext to look past a section heading

    def __init__(self, chunks: Iterator[list[Flowable]]) -> None:
        super().__init__()
        self._chunks = chunks

    def _fill(self) -> None:
        while list.__len__(self) < self.AHEAD:
            chunk = next(self._chunks, None)
            if chunk is None:
                return
            self.extend(chunk)

    def __len__(self) -> int:
        self._fill()
        return list.__len__(self)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        self._fill()
        return list.__getitem__(self, index)


class _Document(BaseDocTemplate):
    household_title = ""
    household_first_page = 1


def _footer(canvas, doc: _Document) -> None:  # type: ignore[no-untyped-def]
    canvas.saveState()
    canvas.setFont(FONT, 8)
    page = doc.page - doc.household_first_page + 1
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{doc.household_title}　第{page}页")
    canvas.restoreState()


def write(dossiers: Iterable[Dossier], out: IO[bytes], *, title: str,
          on_household: Callable[[], None] | None = None) -> None:  # fmt: skip
    """Write the dossiers one after the other (each from a new page) as one A4 PDF into `out`."""
    styles = _styles()
    doc = _Document(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                    bottomMargin=MARGIN, title=title, author="fangpin", creator="fangpin")  # fmt: skip
    frame = Frame(MARGIN, MARGIN, WIDTH, A4[1] - 2 * MARGIN, id="body")
    doc.addPageTemplates([PageTemplate("dossier", frames=[frame], onPageEnd=_footer)])

    def chunks() -> Iterator[list[Flowable]]:
        for i, dossier in enumerate(dossiers):
            story = flowables(dossier, styles)
            yield [PageBreak(), *story] if i else story
            if on_household:
                on_household()

    story = LazyStory(chunks())
    if not len(story):
        story.append(_p("本范围内没有农户。", styles["body"]))
    doc.build(story)


def as_pdf(dossier: Dossier) -> bytes:
    out = io.BytesIO()
    write([dossier], out, title=dossier.title)
    return out.getvalue()
