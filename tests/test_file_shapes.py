"""Every shape of file the real world writes (issue 13): openpyxl's and Apache POI's inline strings,
formulas with and without cached values, rows without numbers, absolute part names, damaged and
truncated workbooks, GBK CSV with a stray byte, and headers in two rows with merged cells.

The workbooks are built as their writers build them: with openpyxl itself, or by zipping the XML parts
by hand exactly as the other writers lay them out.
"""

from __future__ import annotations

import csv
import datetime as dt
import struct
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from fangpin.common.tabular import UnreadableFile, head_rows, iter_rows, unreadable_reason
from fangpin.registry.importer import find_header, import_register
from fangpin.registry.models import Household, IncomeRecord, Member
from fangpin.registry.reports import write_error_report
from tests import builders
from tests.builders import HEADER, standard_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
DATE_STYLES = (
    f'<styleSheet xmlns="{MAIN}"><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/>'
    '<xf numFmtId="164"/></cellXfs></styleSheet>'
)


def zip_workbook(
    path: Path,
    sheet_data: str,
    *,
    shared: list[str] | None = None,
    styles: str | None = None,
    absolute: bool = False,
    namespace: str = MAIN,
    workbook_pr: str = "",
    after_data: str = "",
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A workbook zipped from hand-written parts, as writers other than Excel lay it out."""
    target = "/xl/worksheets/sheet1.xml" if absolute else "worksheets/sheet1.xml"
    rels = [f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="{target}"/>']
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
            f'Target="{"/" if absolute else ""}xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{namespace}" xmlns:r="{REL}">{workbook_pr}'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{namespace}">'
            f"<sheetData>{sheet_data}</sheetData>{after_data}</worksheet>"
        ),
    }
    if shared is not None:
        rels.append(f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
        items = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{namespace}" count="{len(shared)}">{items}</sst>'
    if styles is not None:
        rels.append(f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>')
        parts["xl/styles.xml"] = styles
    parts["xl/_rels/workbook.xml.rels"] = f'<Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>'
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def poi_cell(value: object) -> str:
    """A cell as Apache POI / EasyExcel stream it: inline strings (an empty one too), t="n" numbers,
    here without cell references."""
    if value in ("", None):
        return '<c t="inlineStr"/>'
    if isinstance(value, int | float):
        return f'<c t="n"><v>{value}</v></c>'
    return f'<c t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def table(rows: list[dict[str, object]], header: list[str] = HEADER) -> list[list[object]]:
    return [[row.get(h, "") for h in header] for row in rows]


def read(path: Path) -> list[tuple[int, list[object]]]:
    return list(iter_rows(path))


def counts() -> tuple[int, int, int]:
    return Household.objects.count(), Member.objects.count(), IncomeRecord.objects.count()


# --- xlsx cell shapes -------------------------------------------------------------------------------


def test_an_openpyxl_workbook_with_empty_strings_reads_them_as_empty_cells(tmp_path):
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "", "备注"])
    sheet["A2"], sheet["B2"], sheet["C2"] = "张三", "", CellRichText()
    sheet["D2"] = CellRichText(["东关", TextBlock(InlineFont(b=True), "村")])
    workbook.save(tmp_path / "o.xlsx")
    with zipfile.ZipFile(tmp_path / "o.xlsx") as archive:  # openpyxl really writes the empty shapes
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="B2" t="inlineStr"></c>' in xml and '<c r="C2" t="inlineStr"><is/></c>' in xml
    assert read(tmp_path / "o.xlsx") == [(1, ["姓名", None, "备注"]), (2, ["张三", None, None, "东关村"])]


def test_a_register_written_by_openpyxl_with_empty_cells_imports(regions, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["（自定义）户成员信息（2025年度）"])
    sheet.append(HEADER)
    for values in table(standard_rows()):  # 在校生状况 and 监测对象类别 are "" in most rows
        sheet.append(values)
    workbook.save(tmp_path / "register.xlsx")
    result = import_register(tmp_path / "register.xlsx")
    assert result.ok, result.problems
    assert (result.header_row, result.rows, counts()) == (2, 5, (3, 5, 3))
    assert Household.objects.get(household_no="H002").monitoring_category == "脱贫不稳定户"


def test_hand_written_inline_strings_empty_rich_phonetic_and_as_value(tmp_path):
    data = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>甲</t></is></c><c r="B1" t="inlineStr"/>'
        '<c r="C1" t="inlineStr"><is/></c><c r="D1" t="inlineStr"><is><t/></is></c>'
        '<c r="E1" t="inlineStr"><is><r><t>东</t></r><r><rPr><b/></rPr><t>关</t></r>'
        '<rPh sb="0" eb="1"><t>dong</t></rPh></is></c>'
        '<c r="F1" t="inlineStr"><v>值在v里</v></c><c r="G1" t="inlineStr"><is><t>  留空格 </t></is></c></row>'
    )
    rows = read(zip_workbook(tmp_path / "a.xlsx", data))
    assert rows == [(1, ["甲", None, None, None, "东关", "值在v里", "  留空格 "])]


def test_formulas_with_and_without_cached_values_errors_and_empty_values(tmp_path):
    data = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v></v></c><c r="C1" t="s"/>'
        '<c r="D1" t="n"><v></v></c><c r="E1" t="n"/><c r="F1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        '<c r="G1" t="b"><v>1</v></c><c r="H1" t="b"><v>0</v></c><c r="I1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><f t="shared" ref="A2:A9" si="0">B2*2</f><v>12</v></c>'
        '<c r="B2" t="str"><f>CONCAT("张","三")</f><v>张三</v></c><c r="C2" t="str"><f>A1</f></c>'
        '<c r="D2"><f>SUM(1,2)</f><v></v></c><c r="E2"><f>1.5*2</f><v>3.5</v></c></row>'
        '<row r="3"><c r="A3"><f t="shared" si="0"/></c><c r="B3"><f t="shared" si="0"/><v>14</v></c></row>'
    )
    rows = read(zip_workbook(tmp_path / "f.xlsx", data, shared=["户编号", ""]))
    assert rows == [
        (1, ["户编号", None, None, None, None, None, True, False, None]),
        (2, [12, "张三", None, None, 3.5]),
        (3, [None, 14]),
    ]


def test_rows_and_cells_without_references_and_an_absolute_sheet_target(tmp_path):
    data = (
        '<row><c t="inlineStr"><is><t>a</t></is></c><c t="n"><v>1</v></c></row>'
        '<row><c t="inlineStr"><is><t>b</t></is></c><c r="D2" t="n"><v>2.5</v></c><c><v>3</v></c></row>'
        '<row r="5"><c t="inlineStr"><is><t>c</t></is></c></row><row><c r="b6"><v>4</v></c></row>'
    )
    path = zip_workbook(tmp_path / "poi.xlsx", data, absolute=True)
    with zipfile.ZipFile(path) as archive:
        assert 'Target="/xl/worksheets/sheet1.xml"' in archive.read("xl/_rels/workbook.xml.rels").decode()
    assert read(path) == [(1, ["a", 1]), (2, ["b", None, None, 2.5, 3]), (5, ["c"]), (6, [None, 4])]


def test_date_styled_cells_holding_text_ids_or_serials_do_not_crash(tmp_path):
    styles = DATE_STYLES.replace(
        "<cellXfs",
        '<numFmts><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;"/></numFmts><cellXfs',
    )
    data = (
        '<row r="1"><c r="A1" s="1" t="s"><v>0</v></c><c r="B1" s="1" t="inlineStr"><is><t>不详</t></is></c>'
        '<c r="C1" s="1"><v>未知</v></c><c r="D1" s="1"><v>4.20106E+17</v></c><c r="E1" s="1"><v>45000</v></c>'
        '<c r="F1" s="2"><v>45366.5</v></c><c r="G1" s="1"><v>-3</v></c><c r="H1" s="0"><v>45000</v></c>'
        '<c r="I1" t="d"><v>2024-03-05T00:00:00Z</v></c><c r="J1" s="1" t="str"><v>2024年3月5日</v></c></row>'
    )
    rows = read(zip_workbook(tmp_path / "d.xlsx", data, shared=["2024/3/5"], styles=styles))
    assert rows == [
        (1, ["2024/3/5", "不详", "未知", 4.20106e17, dt.datetime(2023, 3, 15), dt.datetime(2024, 3, 15, 12),
             -3, 45000, dt.datetime(2024, 3, 5), "2024年3月5日"]),
    ]  # fmt: skip


def test_a_workbook_in_the_1904_date_system_and_strict_open_xml(tmp_path):
    data = '<row r="1"><c r="A1" t="inlineStr"><is><t>出生日期</t></is></c><c r="B1" s="1"><v>0</v></c></row>'
    path = zip_workbook(
        tmp_path / "s.xlsx",
        data,
        namespace=STRICT,
        styles=DATE_STYLES.replace(MAIN, STRICT),
        workbook_pr='<workbookPr date1904="1"/>',
    )
    assert read(path) == [(1, ["出生日期", dt.datetime(1904, 1, 1)])]


def test_a_poi_style_register_imports_as_a_whole(regions, tmp_path):
    """Inline strings, t="n", no row or cell references, absolute part names: EasyExcel's export."""
    lines = [["（自定义）户成员信息（2025年度）"], HEADER, *table(standard_rows())]
    data = "".join("<row>" + "".join(poi_cell(v) for v in values) + "</row>" for values in lines)
    result = import_register(zip_workbook(tmp_path / "poi.xlsx", data, absolute=True))
    assert result.ok, result.problems
    assert (result.header_row, result.rows, result.year, counts()) == (2, 5, 2025, (3, 5, 3))
    assert Member.objects.get(name="赵小龙").relation == "之子"


# --- damaged workbooks --------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.97])
def test_a_truncated_xlsx_is_refused_with_a_chinese_message(regions, tmp_path, keep):
    whole = builders.write_xlsx(tmp_path / "whole.xlsx", standard_rows()).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: int(len(whole) * keep)])
    with pytest.raises(UnreadableFile, match=r"无法读取Excel文件.*(损坏|不完整)"):
        read(path)
    assert head_rows(path) == []
    assert "无法读取Excel文件" in unreadable_reason(path)
    assert unreadable_reason(tmp_path / "whole.xlsx") is None
    result = import_register(path)
    assert not result.ok and "无法读取Excel文件" in result.problems[0].message
    assert counts() == (0, 0, 0)


def _damaged_sheet(path: Path, damage: str) -> Path:
    """A workbook whose central directory is intact but whose sheet data is damaged: a deflate stream
    cut short, garbage inside it, or stored text whose checksum no longer agrees."""
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n * 31337 % 99991}</v></c></row>' for n in range(1, 4001))
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'.encode()
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(sheet) + packer.flush()
    half = len(deflated) // 2
    member, method, crc = {
        "cut deflate stream": (deflated[:half], zipfile.ZIP_DEFLATED, zlib.crc32(sheet)),
        "garbage in deflate stream": (
            deflated[:half] + b"\xff" * 64 + deflated[half + 64 :],
            zipfile.ZIP_DEFLATED,
            zlib.crc32(sheet),
        ),
        "bad checksum": (sheet, zipfile.ZIP_STORED, zlib.crc32(sheet) ^ 1),
    }[damage]
    zip_workbook(path, "", compression=zipfile.ZIP_STORED)
    with zipfile.ZipFile(path) as archive:  # the sheet goes last, so its headers are easy to patch
        parts = {name: archive.read(name) for name in archive.namelist() if not name.endswith("sheet1.xml")}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        archive.writestr("xl/worksheets/sheet1.xml", member)
        offset = archive.getinfo("xl/worksheets/sheet1.xml").header_offset
    raw = bytearray(path.read_bytes())
    central = raw.rindex(b"PK\x01\x02")
    for method_at, crc_at, size_at in (
        (offset + 8, offset + 14, offset + 22),
        (central + 10, central + 16, central + 24),
    ):
        struct.pack_into("<H", raw, method_at, method)
        struct.pack_into("<I", raw, crc_at, crc)
        struct.pack_into("<I", raw, size_at, len(sheet))
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    ("damage", "cause"),
    [
        ("cut deflate stream", zipfile.BadZipFile),
        ("garbage in deflate stream", zlib.error),
        ("bad checksum", zipfile.BadZipFile),
    ],
)
def test_damage_in_the_middle_of_the_sheet_is_unreadable_after_the_rows_before_it(tmp_path, damage, cause):
    path = _damaged_sheet(tmp_path / "m.xlsx", damage)
    seen = []
    with pytest.raises(UnreadableFile, match=r"无法读取Excel文件：文件在第\d+行之后已损坏或不完整") as caught:
        for number, values in iter_rows(path):
            seen.append((number, values))
    assert isinstance(caught.value.__cause__.__cause__, cause)  # what zipfile or zlib raised mid-sheet
    assert 100 < len(seen) < 4000 and seen[:2] == [(1, [31337]), (2, [62674])]
    assert f"第{seen[-1][0]}行之后" in str(caught.value)
    assert [n for n, _ in head_rows(path, 12)] == list(range(1, 13))  # the readable start stays readable


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件是空的"),
        (b"<html><body><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table>", "网页（HTML）"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"PK\x03\x04 not really a zip", "无法读取Excel文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "无法读取Excel文件"),
    ],
)
def test_files_that_are_no_workbook_at_all_are_refused_by_what_they_are(tmp_path, content, message):
    path = tmp_path / "x.xls"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        read(path)


def test_an_xlsx_named_xls_and_an_xls_named_xlsx_are_read_as_what_they_are(tmp_path):
    xlsx = builders.write_xlsx(tmp_path / "a.xlsx", standard_rows())
    xls = builders.write_xls(tmp_path / "b.xls", standard_rows())
    (tmp_path / "a.xls").write_bytes(xlsx.read_bytes())
    (tmp_path / "b.xlsx").write_bytes(xls.read_bytes())
    assert read(tmp_path / "a.xls") == read(xlsx)
    assert read(tmp_path / "b.xlsx") == read(xls)
    assert read(xlsx)[3][1][4] == "张建国"


# --- CSV ------------------------------------------------------------------------------------------------


def _gbk_csv(path: Path, rows: list[list[object]], bad_line: int | None, bad: bytes = b"\xff") -> Path:
    lines = [",".join(str(v) for v in values).encode("gbk") + b"\r\n" for values in rows]
    if bad_line is not None:
        first, rest = lines[bad_line - 1].split(b",", 1)  # the byte right after the first cell
        lines[bad_line - 1] = first + b"," + bad + rest
    path.write_bytes(b"".join(lines))
    return path


def test_a_gbk_csv_with_a_stray_ff_byte_is_refused_naming_the_line(regions, tmp_path):
    rows = [HEADER, *table(standard_rows())]
    path = _gbk_csv(tmp_path / "a.csv", rows, bad_line=5)  # 赵敏's row
    seen = []
    with pytest.raises(UnreadableFile) as caught:
        for number, _ in iter_rows(path):
            seen.append(number)
    message = str(caught.value)
    assert seen == [1, 2, 3, 4]  # the lines before were read in GBK, not garbled
    assert "第5行" in message and "0xFF" in message and "UTF-8" in message and "GBK" in message
    result = import_register(path)
    assert not result.ok and "第5行" in result.problems[0].message
    assert counts() == (0, 0, 0)


def test_a_stray_byte_after_the_first_megabyte_is_named_by_its_line_too(tmp_path):
    rows = [HEADER, *table(standard_rows()) * 2000]  # ≈ 1.7 MB of GBK
    path = _gbk_csv(tmp_path / "big.csv", rows, bad_line=5000, bad=b"\x80")
    assert path.stat().st_size > 1 << 20
    with pytest.raises(UnreadableFile, match="第5000行"):
        read(path)
    assert head_rows(path, 3)[1][1][4] == "张建国"


def test_a_csv_mixing_gbk_and_utf8_lines_is_refused_as_mixed(tmp_path):
    rows = [HEADER, *table(standard_rows())]
    lines = [",".join(str(v) for v in values) + "\r\n" for values in rows]
    data = b"".join(line.encode("utf-8" if n == 4 else "gbk") for n, line in enumerate(lines, start=1))
    (tmp_path / "m.csv").write_bytes(data)
    with pytest.raises(UnreadableFile, match="第4行的编码与文件其他部分不一致"):
        read(tmp_path / "m.csv")


def test_a_csv_with_old_mac_line_ends_and_a_utf16_text_export_read(tmp_path):
    (tmp_path / "mac.csv").write_bytes("姓名,性别\r张三,男\r李四,女\r".encode("gbk"))
    assert read(tmp_path / "mac.csv") == [(1, ["姓名", "性别"]), (2, ["张三", "男"]), (3, ["李四", "女"])]
    (tmp_path / "u.txt").write_text("姓名\t性别\r\n张三\t男\r\n", encoding="utf-16")
    assert read(tmp_path / "u.txt") == [(1, ["姓名", "性别"]), (2, ["张三", "男"])]


# --- the error report ---------------------------------------------------------------------------------


def _report_rows(path: Path) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))


@pytest.mark.parametrize("shape", ["truncated xlsx", "bad csv"])
def test_the_error_report_of_an_unreadable_file_lists_the_problems_alone(regions, tmp_path, shape):
    if shape == "truncated xlsx":
        whole = builders.write_xlsx(tmp_path / "w.xlsx", standard_rows()).read_bytes()
        source = tmp_path / "input.xlsx"
        source.write_bytes(whole[: len(whole) // 2])
    else:
        source = _gbk_csv(tmp_path / "input.csv", [HEADER, *table(standard_rows())], bad_line=3)
    result = import_register(source)
    assert not result.ok
    target = write_error_report(
        source, result.problems, tmp_path / "错误说明.xlsx", header_row=result.header_row
    )
    rows = _report_rows(target)
    assert rows[0] == ("行号", "列", "错误说明")
    assert rows[1][0] == 1 and rows[1][1] is None
    assert ("无法读取Excel文件" if shape == "truncated xlsx" else "第3行") in rows[1][2]
    assert len(rows) == 2 and not list(tmp_path.glob("*.partial"))


def test_an_input_that_fails_while_being_copied_gets_the_problems_only_report(tmp_path):
    from fangpin.registry.rows import Problem

    rows = [HEADER, *table(standard_rows()) * 10]
    source = _gbk_csv(tmp_path / "input.csv", rows, bad_line=40)
    problems = [Problem(3, "性别", "「不详」不是有效值", HEADER.index("性别"))]
    target = write_error_report(source, problems, tmp_path / "report.xlsx", header_row=1)
    report = _report_rows(target)
    assert report[0] == ("行号", "列", "错误说明")
    assert report[1] == (1, None, report[1][2]) and "第40行" in report[1][2]
    assert report[2] == (3, "性别", "「不详」不是有效值")
    assert not (tmp_path / "report.xlsx.partial").exists()


# --- headers in two rows ------------------------------------------------------------------------------

MEMBER_GROUP = HEADER[4:16]  # 姓名 … 家庭成员联系电话, under 家庭成员信息
INCOME_GROUP = HEADER[20:27]  # 工资性收入 … 人均纯收入（元）, under 收入情况


def _two_row_header_table() -> tuple[list[list[object]], list[str]]:
    """Row 3 holds 县/乡/村/户编号 (merged down), 家庭成员信息 and 收入情况 (merged across); row 4 the rest."""
    header = [*HEADER[:16], "网格员", *HEADER[16:]]
    upper: list[object] = []
    lower: list[object] = []
    for label in header:
        if label in MEMBER_GROUP or label == "网格员":
            upper.append("家庭成员信息" if label == MEMBER_GROUP[0] else None)
            lower.append(label)
        elif label in INCOME_GROUP:
            upper.append("收入情况" if label == INCOME_GROUP[0] else None)
            lower.append(label)
        else:
            upper.append(label)
            lower.append(None)
    rows = standard_rows()
    for row in rows:
        row["网格员"] = "刘网格"
    return [upper, lower, *table(rows, header)], header


def _write_merged_xlsx(path: Path, lines: list[list[object]], titles: list[str]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for title in titles:
        sheet.append([title])
    top = len(titles) + 1
    for values in lines:
        sheet.append(values)
    upper, lower = lines[0], lines[1]
    c = 0
    while c < len(upper):
        if upper[c] is not None and lower[c] is None:
            sheet.merge_cells(start_row=top, end_row=top + 1, start_column=c + 1, end_column=c + 1)
            c += 1
            continue
        end = c
        while end + 1 < len(upper) and upper[end + 1] is None and lower[end + 1] is not None:
            end += 1
        if upper[c] is not None and end > c:
            sheet.merge_cells(start_row=top, end_row=top, start_column=c + 1, end_column=end + 1)
        c = end + 1
    workbook.save(path)
    return path


@pytest.mark.parametrize("shape", ["xlsx", "csv"])
def test_a_two_row_header_with_merged_groups_is_combined(regions, tmp_path, shape):
    lines, _ = _two_row_header_table()
    titles = ["（自定义）户成员信息（2025年度）", "导出时间：2026-03-01"]
    if shape == "xlsx":
        path = _write_merged_xlsx(tmp_path / "merged.xlsx", lines, titles)
        assert openpyxl.load_workbook(path).active.merged_cells.ranges  # really merged
    else:
        path = tmp_path / "merged.csv"
        with open(path, "w", newline="", encoding="gbk") as fh:
            writer = csv.writer(fh)
            writer.writerows(
                [[t] for t in titles] + [["" if v is None else v for v in line] for line in lines]
            )
    header = find_header(iter_rows(path))
    assert header.row == 4 and "表头为两行（第3–4行），已合并" in header.titles
    assert len(header.columns) == len(HEADER) and header.extras == [(16, "家庭成员信息-网格员")]
    result = import_register(path)
    assert result.ok, result.problems
    assert (result.header_row, result.year) == (4, 2025)
    assert result.rows == 5  # the lower header row is no data row
    assert counts() == (3, 5, 3)
    assert not any(p.row <= 4 for p in result.problems)
    h1 = Household.objects.get(household_no="H001")
    assert h1.region_code == builders.VILLAGE_A1 and h1.head_name == "张建国"
    assert h1.incomes.get(year=2025).computed_net == 35000
    assert Member.objects.get(name="李秀英").extra == {"家庭成员信息-网格员": "刘网格"}


def test_a_two_row_header_with_numbered_sub_labels_under_a_merged_label(regions, tmp_path):
    risks = {"H001": ("因病", "", ""), "H002": ("因学", "因残", ""), "H003": ("", "", "")}
    rows = standard_rows()
    for row in rows:
        row.update({"识别监测时间": "202305", "风险是否已消除": "否"})
        row.update({f"致贫/返贫风险{i + 1}": r for i, r in enumerate(risks[str(row["户编号"])])})
    header = [*HEADER, "识别监测时间", "风险是否已消除", *(f"致贫/返贫风险{i}" for i in (1, 2, 3))]
    upper = [*HEADER, "识别监测时间", "风险是否已消除", "致贫/返贫风险", None, None]
    lower = [*([None] * (len(HEADER) + 2)), 1, 2, 3]  # WPS keeps the typed 1, 2, 3 as numbers
    path = _write_merged_xlsx(tmp_path / "risk.xlsx", [upper, lower, *table(rows, header)], ["监测对象信息"])
    result = import_register(path)
    assert result.ok, result.problems
    assert (result.layout, result.header_row, result.rows) == ("monitoring", 3, 5)
    assert Household.objects.get(household_no="H002").risk_type_list == ["因学", "因残"]
    assert Household.objects.get(household_no="H001").risk_type_list == ["因病"]
    assert Household.objects.get(household_no="H003").identified_month == "202305"


def test_a_single_header_row_above_data_is_not_merged_with_the_data(regions, tmp_path):
    rows = standard_rows()
    path = builders.write_xlsx(tmp_path / "a.xlsx", rows)
    header = find_header(iter_rows(path))
    assert header.row == 3 and not any("两行" in t for t in header.titles)
    assert [label for _, label in header.extras] == []
    # a header with holes above the first data row: still one row, the data row is data
    values = table(rows)
    values[0][HEADER.index("性别")] = "男"
    lines = [[None if h in ("性别", "健康状况") else h for h in HEADER], *values]
    (tmp_path / "holes.csv").write_text(
        "\n".join(",".join("" if v is None else str(v) for v in line) for line in lines), encoding="utf-8"
    )
    header = find_header(iter_rows(tmp_path / "holes.csv"))
    assert header.row == 1 and not any("两行" in t for t in header.titles)
