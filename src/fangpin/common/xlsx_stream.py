"""Row-by-row reading of an .xlsx sheet in constant memory.

calamine (and pandas with openpyxl) hold the whole sheet while reading: 1.25 GB for the demo county's
250,000-person file. This streams the sheet's XML with lxml's iterparse (only <row> elements reach
Python, and each is dropped once read) and keeps just the shared-strings table: ~20 MB for the same
file. Values come back as Excel stores them: text, int/float, bool, and datetime for cells whose
number format is a date. An ID that Excel saved as a number stays a float, so its damage is seen.

Every writer is read as Excel reads it, not only Excel itself: openpyxl and Apache POI/EasyExcel write
inline strings (also empty ones, `<c t="inlineStr"/>`) and absolute part names (`/xl/worksheets/...`);
shared formulas may have no cached value (None: formulas are never evaluated); error cells (#N/A)
are empty; rows and cells may lack their `r`; the workbook may be Strict Open XML, use the 1904 date
system, or keep its parts under other names (found through the relationships, case-insensitively).
A damaged or truncated file raises `DamagedWorkbook` with a Chinese message, also in mid-sheet.

Work is bounded (common.limits): the zip's central directory is checked before anything is inflated,
every part is read through a counter that stops at its declared size, and rows, columns, cell length
and the number of shared strings are checked while streaming; over a limit raises `LimitExceeded`.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from lxml import etree

from .limits import (
    BoundedPart,
    LimitExceeded,
    TableLimits,
    cell_too_long,
    check_zip,
    size_text,
    table_limits,
    too_many_columns,
    too_many_rows,
)

TRANSITIONAL = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
STRICT = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"
NAMESPACES = (TRANSITIONAL, STRICT)
MAIN = TRANSITIONAL  # the namespace almost every file uses
ROW_TAGS = [ns + "row" for ns in NAMESPACES]
SI_TAGS = [ns + "si" for ns in NAMESPACES]
BUILTIN_DATE_FORMATS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47, 57, 58}
# a date/time code outside quotes, [colour]/[$-804] sections and escapes (\d, _d padding, *d fill)
DATE_CODE = re.compile(r"(?<![\\_*])[ymdhs]", re.IGNORECASE)
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EPOCH_1904 = dt.datetime(1904, 1, 1)
LAST_SERIAL = 2958466  # 9999-12-31: beyond it a "date" cell holds something else (an ID, say)
HIDDEN = {"hidden", "veryHidden"}

# what a damaged zip or XML raises, at open or in the middle of the sheet
READ_ERRORS = (
    zipfile.BadZipFile,  # not a zip, truncated (no central directory), or a CRC mismatch mid-stream
    zipfile.LargeZipFile,
    zlib.error,  # corrupt deflate data
    EOFError,  # compressed data cut short
    etree.LxmlError,  # XMLSyntaxError and friends: malformed XML
    struct.error,  # a cut zip header
    OSError,
    NotImplementedError,  # a compression method zipfile does not know (deflate64)
    RuntimeError,  # an encrypted zip member
    KeyError,  # a part the package names is missing
    ValueError,  # bad numbers in zip headers or attributes, undecodable text
    IndexError,
)


class DamagedWorkbook(ValueError):
    """The workbook cannot be read; the message is Chinese and goes straight to the clerk."""


@dataclass
class _Book:
    sheet: str
    shared_strings: str | None
    styles: str | None
    date1904: bool


class _Package:
    """The zip's parts by name, found as Excel finds them: case-insensitive, with / or \\."""

    def __init__(self, archive: zipfile.ZipFile, limits: TableLimits | None = None) -> None:
        self.archive = archive
        self.limits = limits or table_limits()
        self.names = {self._key(name): name for name in archive.namelist()}

    @staticmethod
    def _key(name: str) -> str:
        return name.replace("\\", "/").lstrip("/").lower()

    def has(self, part: str) -> bool:
        return self._key(part) in self.names

    def info(self, part: str) -> zipfile.ZipInfo:
        name = self.names.get(self._key(part))
        if name is None:
            raise DamagedWorkbook(f"无法读取Excel文件：文件缺少「{part}」部分，已损坏或不完整")
        return self.archive.getinfo(name)

    def open(self, part: str) -> IO[bytes]:
        info = self.info(part)
        return BoundedPart(self.archive.open(info), info.file_size, self.limits.max_part_bytes)  # type: ignore[return-value]

    def parse(self, part: str) -> etree._Element:
        with self.open(part) as fh:
            return etree.parse(fh, _parser()).getroot()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True)


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _resolve(base_dir: str, target: str) -> str:
    target = target.replace("\\", "/")
    if target.startswith("/"):  # Apache POI, EasyExcel: absolute part names
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target)).lstrip("/")


def _relationships(package: _Package, part: str) -> list[tuple[str, str, str]]:
    """(Id, type's last segment, resolved target) of a part's relationships."""
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    if not package.has(rels_part):
        return []
    rels = []
    for rel in package.parse(rels_part):
        if rel.get("TargetMode") == "External" or not rel.get("Target"):
            continue
        kind = rel.get("Type", "").rstrip("/").rpartition("/")[2]
        rels.append((rel.get("Id", ""), kind, _resolve(folder, rel.get("Target", ""))))
    return rels


def _locate(package: _Package) -> _Book:
    """The workbook part, its first visible worksheet, shared strings and styles."""
    workbook_part = next((t for _, kind, t in _relationships(package, "") if kind == "officeDocument"), None)
    if workbook_part is None or not package.has(workbook_part):
        workbook_part = "xl/workbook.xml"
    if not package.has(workbook_part):
        raise DamagedWorkbook("无法读取Excel文件：文件中没有工作簿（不是.xlsx文件，或文件已损坏）")
    workbook = package.parse(workbook_part)
    rels = _relationships(package, workbook_part)
    by_id = {rel_id: (kind, target) for rel_id, kind, target in rels}
    date1904 = any(
        (pr.get("date1904") or "").lower() in {"1", "true"}
        for pr in workbook.iter()
        if _local(pr.tag) == "workbookPr"
    )
    sheets: list[tuple[str, bool]] = []  # (part, visible)
    for sheet in workbook.iter():
        if _local(sheet.tag) != "sheet":
            continue
        rel_id = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        kind, target = by_id.get(rel_id or "", ("", ""))
        if kind == "worksheet" and package.has(target):
            sheets.append((target, sheet.get("state") not in HIDDEN))
    if not sheets:  # relationships missing or wrong: take the worksheet parts themselves
        sheets = [(t, True) for _, kind, t in rels if kind == "worksheet" and package.has(t)]
    if not sheets and package.has("xl/worksheets/sheet1.xml"):
        sheets = [("xl/worksheets/sheet1.xml", True)]
    if not sheets:
        raise DamagedWorkbook("无法读取Excel文件：文件中没有工作表（可能只有图表，或文件已损坏）")
    sheet_part = next((part for part, visible in sheets if visible), sheets[0][0])

    def related(kind: str, fallback: str) -> str | None:
        part = next((t for _, k, t in rels if k == kind and package.has(t)), None)
        return part or (fallback if package.has(fallback) else None)

    return _Book(
        sheet=sheet_part,
        shared_strings=related("sharedStrings", "xl/sharedStrings.xml"),
        styles=related("styles", "xl/styles.xml"),
        date1904=date1904,
    )


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    return _locate(_Package(archive)).sheet


def _text_of(element: etree._Element) -> str:
    """<si> or <is>: plain <t>, or rich-text runs <r><t>; phonetic guides <rPh> are not the text."""
    if len(element) == 1 and _local(element[0].tag) == "t":
        return element[0].text or ""
    return "".join(
        t.text or "" for t in element.iter() if _local(t.tag) == "t" and _local(t.getparent().tag) != "rPh"
    )


def _shared_strings(package: _Package, part: str | None) -> list[str]:
    """The shared-strings table, held in memory: its inflated size, count and lengths are bounded."""
    if part is None:
        return []
    limits = package.limits
    declared = package.info(part).file_size
    if declared > limits.max_shared_strings_bytes:
        raise LimitExceeded(
            f"文件中的文字表解压后超过 {size_text(limits.max_shared_strings_bytes)} 的上限"
            f"（本文件约 {size_text(declared)}），可能是损坏或恶意文件，已拒绝"
        )
    strings = []
    with package.open(part) as fh:
        for _, si in etree.iterparse(fh, tag=SI_TAGS, resolve_entities=False, no_network=True):
            text = _text_of(si)
            if len(text) > limits.max_cell_chars:
                raise cell_too_long(limits.max_cell_chars, len(text), f"文件文字表的第{len(strings) + 1}项")
            strings.append(text)
            if len(strings) > limits.max_shared_strings:
                raise LimitExceeded(
                    f"文件中的不同文字超过 {limits.max_shared_strings:,} 项的上限，可能是损坏或恶意文件，已拒绝"
                )
            si.clear()
    return strings


def _is_date_format(code: str) -> bool:
    return bool(DATE_CODE.search(re.sub(r'"[^"]*"|\[[^\]]*\]', "", code)))


def _date_styles(package: _Package, part: str | None) -> set[str]:
    """Indexes (as the `s` attribute spells them) of cell styles whose number format shows a date."""
    if part is None:
        return set()
    styles = package.parse(part)
    custom: dict[str, bool] = {}
    cell_xfs = None
    for element in styles.iter():
        name = _local(element.tag)
        if name == "numFmt":
            custom[(element.get("numFmtId") or "").strip()] = _is_date_format(element.get("formatCode", ""))
        elif name == "cellXfs" and cell_xfs is None:
            cell_xfs = element
    dates = set()
    for index, xf in enumerate(
        x for x in (cell_xfs if cell_xfs is not None else []) if _local(x.tag) == "xf"
    ):
        fmt = (xf.get("numFmtId") or "0").strip()
        if custom.get(fmt) or (fmt.isdigit() and int(fmt) in BUILTIN_DATE_FORMATS and fmt not in custom):
            dates.add(str(index))
    return dates


def _column_index(ref: str) -> int:
    index = 0
    for ch in ref:
        if ch <= "9":
            break
        index = index * 26 + (ord(ch.upper()) - 64)
    return index - 1


def _number(raw: str) -> object:
    text = raw.strip()
    if not text:
        return None
    try:
        return float(text) if ("." in text or "E" in text or "e" in text) else int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text  # text in a number cell (a careless writer): kept as text, never dropped


def _date(serial: float, epoch: dt.datetime) -> object:
    if not (0 <= serial < LAST_SERIAL) or not math.isfinite(serial):
        return serial  # a "date" formatted cell holding an ID or a huge number: the number as it is
    return epoch + dt.timedelta(days=serial)


def _iso_date(raw: str) -> object:
    """t="d" cells (SheetJS, openpyxl iso_dates): an ISO 8601 date/time."""
    text = raw.strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return value.replace(tzinfo=None)


def _sheet_rows(
    fh: IO[bytes], shared: list[str], date_styles: set[str], epoch: dt.datetime, limits: TableLimits
) -> Iterator[tuple[int, list[object]]]:
    number = 0
    count = 0
    max_columns, max_chars = limits.max_columns, limits.max_cell_chars
    columns: dict[str, int] = {}  # "AB" → 27, filled as met
    ns = ""
    c_tag = v_tag = is_tag = ""
    for _, row in etree.iterparse(fh, tag=ROW_TAGS, resolve_entities=False, no_network=True):
        if not ns:
            ns = row.tag[: row.tag.index("}") + 1]
            c_tag, v_tag, is_tag = ns + "c", ns + "v", ns + "is"
        r = row.get("r")
        try:
            number = int(r) if r else number + 1
        except ValueError:
            number += 1
        count += 1
        if count > limits.max_rows or number > limits.max_rows + 1000:  # a header block above the rows
            raise too_many_rows(limits.max_rows, max(count, number))
        values: list[object] = []
        for cell in row:
            if cell.tag != c_tag:
                continue  # extLst, comments
            ref = cell.get("r")
            letters = ref.rstrip("0123456789$").replace("$", "") if ref else ""
            if not letters:
                position = len(values)
            else:
                position = columns.get(letters)
                if position is None:
                    position = columns[letters] = _column_index(letters)
                    if position < 0:
                        position = columns[letters] = len(values)
            if position >= max_columns:
                raise too_many_columns(max_columns, position + 1)
            raw = None
            inline = None
            for child in cell:
                if child.tag == v_tag:
                    raw = child.text
                elif child.tag == is_tag:
                    inline = child
            kind = cell.get("t")
            value: object
            if kind == "s":
                value = None
                if raw is not None and raw.strip():
                    try:
                        index = int(raw)
                        if index < 0:
                            raise IndexError(index)
                        value = shared[index] or None
                    except (ValueError, IndexError):
                        where = ref or f"第{number}行"
                        raise DamagedWorkbook(
                            f"无法读取Excel文件：单元格{where}引用的文字不存在，文件已损坏"
                        ) from None
            elif kind == "inlineStr":  # <is><t>…</t></is>, rich runs, empty <is/>, none at all, or <v>
                value = (_text_of(inline) if inline is not None else raw) or None
            elif raw is None:  # an empty cell, or a formula without a cached value
                value = None
            elif kind is None or kind == "n":
                value = _number(raw)
                if date_styles and isinstance(value, int | float) and cell.get("s") in date_styles:
                    value = _date(value, epoch)
            elif kind == "str":  # a formula's text result
                value = raw or None
            elif kind == "b":
                text = raw.strip().lower()
                value = None if not text else text in {"1", "true"}
            elif kind == "e":  # #N/A, #DIV/0!: no value
                value = None
            elif kind == "d":
                value = _iso_date(raw)
            else:
                value = raw or None
            if isinstance(value, str) and len(value) > max_chars:
                raise cell_too_long(max_chars, len(value), f"单元格{ref or f'第{number}行'}")
            if position == len(values):
                values.append(value)
            else:
                if position > len(values):
                    values.extend([None] * (position - len(values) + 1))
                values[position] = value
        row.clear()
        while row.getprevious() is not None:  # drop rows already read from the tree
            del row.getparent()[0]
        yield number, values


def _damage(exc: BaseException, last_row: int) -> str:
    if last_row:
        return (
            f"无法读取Excel文件：文件在第{last_row}行之后已损坏或不完整（可能下载或复制时被截断），"
            "请从原系统重新导出，或在Excel中打开并另存为.xlsx后重新上传"
        )
    if isinstance(exc, zipfile.BadZipFile | struct.error | EOFError):
        return (
            "无法读取Excel文件：文件已损坏或不完整（可能下载或复制时被截断，或不是真正的.xlsx文件），"
            "请重新导出或在Excel中另存为.xlsx后重新上传"
        )
    if isinstance(exc, RuntimeError | NotImplementedError):
        return "无法读取Excel文件：文件已加密或使用了不支持的压缩方式，请在Excel中另存为普通.xlsx后重新上传"
    return "无法读取Excel文件：文件已损坏，请从原系统重新导出，或在Excel中打开并另存为.xlsx后重新上传"


def _check_dimension(package: _Package, sheet: str) -> None:
    """Refuse a sheet whose declared used range (<dimension>) is over the row or column limit."""
    with package.open(sheet) as fh:
        head = fh.read(4096).decode("utf-8", "replace")
    match = DIMENSION.search(head)
    if not match:
        return
    columns, rows = _column_index(match.group(1)) + 1, int(match.group(2))
    if columns > package.limits.max_columns:
        raise too_many_columns(package.limits.max_columns, columns)
    if rows > package.limits.max_rows + 1000:  # room for a title block above the data
        raise too_many_rows(package.limits.max_rows, rows)


def iter_xlsx_rows(path: str, limits: TableLimits | None = None) -> Iterator[tuple[int, list[object]]]:
    """Yield (row number, values) of the first visible sheet; `LimitExceeded` over a limit."""
    last_row = 0
    limits = limits or table_limits()
    try:
        with zipfile.ZipFile(path) as archive:
            check_zip(archive, limits)
            package = _Package(archive, limits)
            book = _locate(package)
            _check_dimension(package, book.sheet)
            shared = _shared_strings(package, book.shared_strings)
            date_styles = _date_styles(package, book.styles)
            epoch = EPOCH_1904 if book.date1904 else EXCEL_EPOCH
            with package.open(book.sheet) as fh:
                for number, values in _sheet_rows(fh, shared, date_styles, epoch, limits):
                    last_row = number
                    yield number, values
    except (DamagedWorkbook, LimitExceeded):
        raise
    except READ_ERRORS as exc:
        raise DamagedWorkbook(_damage(exc, last_row)) from exc


DIMENSION = re.compile(r'<(?:\w+:)?dimension ref="\$?[A-Z]+\$?\d+:\$?([A-Z]+)\$?(\d+)"')


def dimension_rows(path: str) -> int | None:
    """The last row number the sheet declares (<dimension ref="A1:CD250003">), read from its first bytes."""
    try:
        with zipfile.ZipFile(path) as archive:
            package = _Package(archive)
            with package.open(_locate(package).sheet) as fh:
                head = fh.read(4096).decode("utf-8", "replace")
    except (DamagedWorkbook, LimitExceeded, *READ_ERRORS):
        return None
    match = DIMENSION.search(head)
    return int(match.group(2)) if match else None
