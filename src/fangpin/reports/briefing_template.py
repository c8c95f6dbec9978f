"""Builds the shipped default template of the briefing, `templates_docx/briefing.docx`, with python-docx.

The .docx is committed; this script is kept so that the template can be made again after a change
(`.venv/bin/python -m fangpin.reports.briefing_template`). A county edits the .docx itself in Word or WPS
(wording, order, the 下一步 paragraphs) and uploads it on the briefing page; the jinja tags it keeps
(`{{ … }}`, `{%p if … %}`, `{%tr for … %}`) are filled by docxtpl from `briefing.context`.

Layout after GB/T 9704 (党政机关公文格式): A4, margins 37/35/28/26 mm as the 公示 uses, title in 宋体 bold
二号, level-1 headings 黑体 三号, level-2 楷体 三号, body 仿宋 三号 at a fixed 28 pt line, page numbers
“— 1 —” in 宋体 四号 at the foot. Each style sets its East Asian font (w:eastAsia) as Word needs it.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.run import Run

PATH = Path(__file__).parent / "templates_docx" / "briefing.docx"

BODY, TITLE, HEADING1, HEADING2, CELL, CAPTION, RIGHT = (
    "汇报正文", "汇报标题", "一级标题", "二级标题", "表格文字", "图表标题", "落款",
)  # fmt: skip


def _fonts(style: ParagraphStyle, name: str, size: float, *, bold: bool = False) -> None:
    style.font.name, style.font.size, style.font.bold = name, Pt(size), bold
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)  # python-docx sets ascii/hAnsi only: CJK text needs this one


def _style(document: DocumentType, name: str, font: str, size: float, **options: object) -> ParagraphStyle:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    _fonts(style, font, size, bold=bool(options.get("bold")))
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = (
        Pt(float(options.get("before", 0))),
        Pt(float(options.get("after", 0))),
    )
    if options.get("line"):
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(float(options["line"]))
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.alignment = options.get("align", WD_ALIGN_PARAGRAPH.JUSTIFY)
    if options.get("indent"):
        fmt.first_line_indent = Pt(size * 2)  # 首行缩进两字
    if options.get("keep"):
        fmt.keep_with_next = True
    return style


def _page_number(document: DocumentType) -> None:
    """“— N —” centred in the footer (a PAGE field, so Word and LibreOffice number every page)."""
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.style = document.styles[CELL]

    def run(text: str = "") -> Run:
        r = footer.add_run(text)
        r.font.size = Pt(14)
        return r

    run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        r = run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            r._r.append(char)
        elif text == " PAGE ":
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = text
            r._r.append(code)
        else:
            r.text = text
    run(" —")


def _table(document: DocumentType, header: list[str], loop: str, cells: list[str],
           total: list[str] | None = None, widths: list[float] | None = None) -> Table:  # fmt: skip
    """A grid with its header, one templated row per item of `loop` (`{%tr for … %}` rows, removed by
    docxtpl) and an optional total row."""
    table = document.add_table(rows=0, cols=len(header))
    table.style, table.alignment = "Table Grid", WD_TABLE_ALIGNMENT.CENTER
    if widths:  # the grid's own widths too: LibreOffice reads those, Word the cells'
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Mm(width)
    rows = [header, [f"{{%tr for r in {loop} %}}"] + [""] * (len(header) - 1), cells, ["{%tr endfor %}"]
            + [""] * (len(header) - 1)]  # fmt: skip
    if total:
        rows.append(total)
    for index, values in enumerate(rows):
        row = table.add_row()
        if index == 0:
            marker = OxmlElement("w:tblHeader")  # the header again on each page
            marker.set(qn("w:val"), "true")
            row._tr.get_or_add_trPr().append(marker)
        for position, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            paragraph = cell.paragraphs[0]
            paragraph.style = document.styles[CELL]
            paragraph.alignment = (
                WD_ALIGN_PARAGRAPH.LEFT if position == 0 and index != 0 else WD_ALIGN_PARAGRAPH.CENTER
            )
            # a short table stays on one page (a long one still breaks): header and data rows keep with
            # the next row; the total row ends the chain
            paragraph.paragraph_format.keep_with_next = index in (0, 2)
            run = paragraph.add_run(text)
            run.bold = index == 0 or (total is not None and index == len(rows) - 1)
            if widths:
                cell.width = Mm(widths[position])
    return table


def build(path: Path = PATH) -> Path:
    document = Document()
    section = document.sections[0]
    # A4 and the margins of GB/T 9704, as the 公示 uses (python-docx's default is US Letter)
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    _fonts(document.styles["Normal"], "仿宋", 16)
    _style(document, BODY, "仿宋", 16, line=28, indent=True)
    _style(document, TITLE, "宋体", 22, bold=True, line=36, align=WD_ALIGN_PARAGRAPH.CENTER, after=6)
    _style(document, HEADING1, "黑体", 16, line=28, indent=True, keep=True)
    _style(document, HEADING2, "楷体", 16, line=28, indent=True, keep=True)
    _style(document, CELL, "宋体", 10.5, line=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(document, CAPTION, "黑体", 12, before=4, after=4, align=WD_ALIGN_PARAGRAPH.CENTER, keep=True)
    _style(document, RIGHT, "仿宋", 16, line=28, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(document)

    def p(text: str, style: str = BODY) -> None:
        document.add_paragraph(text, style=document.styles[style])

    p("{{ title }}", TITLE)
    p("（{{ period_text }}）", HEADING2)
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.paragraphs[-1].paragraph_format.first_line_indent = Pt(0)
    p("")
    p("{{ period_text }}，{{ region_name }}坚持把防止返贫致贫动态监测和帮扶作为巩固拓展脱贫攻坚成果的底线任务，"
      "早发现、早干预、早帮扶，守牢不发生规模性返贫致贫底线。现将有关情况汇报如下。")  # fmt: skip

    p("一、基本情况", HEADING1)
    p("截至{{ as_of_text }}，{{ region_name }}系统内共有农户{{ all_households }}户{{ all_people }}人，"
      "纳入防止返贫致贫监测对象{{ monitored_households }}户{{ monitored_people }}人，其中"
      "{% for c in categories %}{{ c.label }}{{ c.households }}户{{ c.people }}人{% if not loop.last %}、"
      "{% endif %}{% endfor %}。风险未消除{{ open_households }}户{{ open_people }}人，风险已消除"
      "{{ eliminated_households }}户{{ eliminated_people }}人；识别纳入办理中{{ identifying }}户，"
      "风险消除办理中{{ eliminating }}户。")  # fmt: skip
    p("表1　监测对象类别和风险类型", CAPTION)
    _table(document, ["类别", "户数", "人数"], "categories", ["{{ r.label }}", "{{ r.households }}", "{{ r.people }}"],
           ["合计", "{{ monitored_households }}", "{{ monitored_people }}"], [70, 40, 40])  # fmt: skip
    p("")
    _table(document, ["风险类型", "风险未消除（户）", "风险已消除（户）"], "risks",
           ["{{ r.label }}", "{{ r.open }}", "{{ r.eliminated }}"], None, [70, 40, 40])  # fmt: skip
    p("{%p if children %}")
    p("表2　各{{ child_label }}监测对象情况", CAPTION)
    _table(document, ["{{ child_label }}", "监测户", "监测人数", "风险未消除", "风险已消除"], "children",
           ["{{ r.name }}", "{{ r.households }}", "{{ r.people }}", "{{ r.open }}", "{{ r.eliminated }}"],
           ["合计", "{{ monitored_households }}", "{{ monitored_people }}", "{{ open_households }}",
            "{{ eliminated_households }}"], [46, 26, 26, 28, 28])  # fmt: skip
    p("{%p endif %}")
    p("{%p if chart_children %}")
    p("{{ chart_children }}", CAPTION)
    p("图1　各{{ child_label }}监测对象风险状态", CAPTION)
    p("{%p endif %}")

    p("二、本期工作开展情况", HEADING1)
    p("{{ period_text }}，共推送部门预警{{ p.warning_raised }}条，核实{{ p.warning_verified }}条，其中确认有风险"
      "{{ p.warning_confirmed }}条；发起识别纳入程序{{ p.case_opened }}户，识别纳入监测对象{{ p.identified }}户，"
      "其中在规定时限内办结{{ p.identified_on_time }}户（按时率{{ p.identified_rate }}）；标注风险消除"
      "{{ p.eliminated }}户，其中按时办结{{ p.eliminated_on_time }}户（按时率{{ p.eliminated_rate }}）。")  # fmt: skip
    p("表3　本期监测帮扶流程", CAPTION)
    _table(document, ["环节", "数量", "其中按时办结"], "pipeline_rows", ["{{ r.label }}", "{{ r.n }}", "{{ r.on_time }}"],
           None, [70, 40, 40])  # fmt: skip
    p("{{ chart_trend }}", CAPTION)
    p("图2　近12个月监测帮扶工作趋势", CAPTION)

    p("三、与上次汇报相比", HEADING1)
    p("与上次汇报（{{ last_text }}）相比，主要指标变化如下。上次汇报以来（{{ since_last_text }}），新推送部门预警"
      "{{ sl.warning_raised }}条，识别纳入监测对象{{ sl.identified }}户，标注风险消除{{ sl.eliminated }}户。")  # fmt: skip
    p("{%p if last_before_history %}")
    p(
        "注：上次汇报日期早于本系统统计数据起始日（{{ since_text }}），上次汇报时的户数按当时系统已掌握的情况统计。"
    )
    p("{%p endif %}")
    p("表4　主要指标变化", CAPTION)
    _table(document, ["指标", "上次汇报（{{ last_short }}）", "本次（{{ end_short }}）", "增减"], "changes",
           ["{{ r.label }}", "{{ r.then }}", "{{ r.now }}", "{{ r.change }}"], None, [58, 34, 34, 24])  # fmt: skip

    p("四、部门预警核实情况", HEADING1)
    p("{%p if departments %}")
    p("本期各部门推送预警信息经乡村两级入户核实，情况如下（准确率为核实属实数占已核实数的比例）。")
    p("表5　部门预警核实情况", CAPTION)
    _table(document, ["部门", "推送", "已核实", "核实属实", "确认有风险", "准确率"], "departments",
           ["{{ r.department }}", "{{ r.raised }}", "{{ r.verified }}", "{{ r.right }}", "{{ r.confirmed }}",
            "{{ r.precision }}"], ["合计", "{{ dept_total.raised }}", "{{ dept_total.verified }}",
                                   "{{ dept_total.right }}", "{{ dept_total.confirmed }}", "{{ dept_total.precision }}"],
           [34, 22, 22, 24, 26, 24])  # fmt: skip
    p("{%p else %}")
    p("本期没有部门推送预警信息。")
    p("{%p endif %}")

    p("五、帮扶措施落实情况", HEADING1)
    p("风险未消除的{{ cov.open }}户中，每项风险均落实对应帮扶措施的{{ cov.covered }}户，尚未落实的{{ cov.uncovered }}户；"
      "有劳动能力的{{ cov.labour }}户中，已落实开发式帮扶措施{{ cov.labour_developed }}户，尚未落实"
      "{{ cov.undeveloped }}户；已明确帮扶责任人{{ cov.paired }}户，尚未结对{{ cov.unpaired }}户。")  # fmt: skip
    p("{%p if children %}")
    p("表6　各{{ child_label }}帮扶措施未落实情况", CAPTION)
    _table(document, ["{{ child_label }}", "风险未消除户", "未落实对应措施", "有劳动能力未落实开发式措施"], "children",
           ["{{ r.name }}", "{{ r.open }}", "{{ r.uncovered }}", "{{ r.undeveloped }}"],
           ["合计", "{{ cov.open }}", "{{ cov.uncovered }}", "{{ cov.undeveloped }}"], [46, 32, 32, 44])  # fmt: skip
    p("{%p endif %}")

    p("六、逾期事项", HEADING1)
    p("截至{{ as_of_text }}，识别纳入和风险消除程序中超过规定时限未办结的环节{{ overdue.steps }}个（识别纳入"
      "{{ overdue.identification }}个、风险消除{{ overdue.elimination }}个），超过走访周期未走访的监测户"
      "{{ overdue.visits }}户。")  # fmt: skip
    p("{%p if overdue_rows %}")
    p("表7　逾期事项分布", CAPTION)
    _table(document, ["{{ overdue_label }}", "识别纳入环节逾期", "风险消除环节逾期", "走访逾期（户）"], "overdue_rows",
           ["{{ r.name }}", "{{ r.identification }}", "{{ r.elimination }}", "{{ r.visits }}"],
           ["合计", "{{ overdue.identification }}", "{{ overdue.elimination }}", "{{ overdue.visits }}"],
           [46, 36, 36, 36])  # fmt: skip
    p("{%p endif %}")
    p("{%p if overdue_steps %}")
    p("表8　逾期环节", CAPTION)
    _table(document, ["程序", "环节", "逾期个数", "最长逾期（天）"], "overdue_steps",
           ["{{ r.kind }}", "{{ r.step }}", "{{ r.n }}", "{{ r.longest }}"], None, [36, 60, 28, 30])  # fmt: skip
    p("{%p endif %}")

    p("七、整改落实情况", HEADING1)
    p("{%p if rect %}")
    p("纳入整改台账的问题共{{ rect.total }}个，已整改销号{{ rect.closed }}个，未销号{{ rect.open }}个（其中超过整改时限"
      "{{ rect.overdue }}个），销号率{{ rect.percent }}%。与上次汇报相比，新增问题{{ rect.new }}个，新销号"
      "{{ rect.newly_closed }}个。")  # fmt: skip
    p("{%p if rect_rows %}")
    p("表9　未销号整改问题分布", CAPTION)
    _table(document, ["{{ rect_label }}", "问题数", "已销号", "未销号", "其中超过时限"], "rect_rows",
           ["{{ r.name }}", "{{ r.total }}", "{{ r.closed }}", "{{ r.open }}", "{{ r.overdue }}"],
           ["合计", "{{ rect.total }}", "{{ rect.closed }}", "{{ rect.open }}", "{{ rect.overdue }}"],
           [46, 27, 27, 27, 27])  # fmt: skip
    p("{%p endif %}")
    p("{%p else %}")
    p("（整改台账情况由有关部门另行汇报。）")
    p("{%p endif %}")

    p("八、下一步工作打算", HEADING1)
    p("（一）持续抓好动态监测。", HEADING2)
    p("用好部门预警和农户自主申报、干部走访排查，对预警信息逐条入户核实，做到应纳尽纳、应扶尽扶。")
    p("（二）压实帮扶责任。", HEADING2)
    p("对风险未消除户逐户落实对应帮扶措施，有劳动能力的优先落实开发式帮扶措施，逾期未走访的限期走访到位。")
    p("（三）抓好问题整改。", HEADING2)
    p("对未销号问题逐项明确责任人和整改时限，按时整改销号，对超过时限的问题挂牌督办。")
    p("")
    p("{{ unit }}", RIGHT)
    p("{{ date_text }}", RIGHT)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


if __name__ == "__main__":
    print(build())
