"""Row-by-row reading of an .xlsx sheet in constant memory.

calamine (and pandas with openpyxl) hold the whole sheet while reading: 1.25 GB for the demo county's
250,000-person file. This streams the sheet's XML with lxml's iterparse (only <row> elements reach
Python, and each is dropped once read) and keeps just the shared-strings table: ~20 MB for the same
file. Values come back as Excel stores them: text, int/float, bool, and datetime for cells whose
number format is a date. An ID that Excel saved as a number stays a float, so its damage is seen.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from collections.abc import Iterator

from lxml import etree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
ROW, VALUE, TEXT = MAIN + "row", MAIN + "v", MAIN + "t"
BUILTIN_DATE_FORMATS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47, 57, 58}
DATE_CODE = re.compile(r"(?<!\\)[ymdhs]", re.IGNORECASE)
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    workbook = etree.parse(archive.open("xl/workbook.xml"))
    rel_id = workbook.find(f".//{MAIN}sheet").get(REL + "id")
    for rel in etree.parse(archive.open("xl/_rels/workbook.xml.rels")).getroot():
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
    raise KeyError("first worksheet not found")


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings = []
    for _, si in etree.iterparse(archive.open("xl/sharedStrings.xml"), tag=MAIN + "si"):
        # plain <si><t> or rich-text runs <r><t>; phonetic guides <rPh> are not part of the text
        strings.append("".join(t.text or "" for t in si.iter(TEXT) if t.getparent().tag != MAIN + "rPh"))
        si.clear()
    return strings


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indexes of cell styles whose number format shows a date."""
    if "xl/styles.xml" not in archive.namelist():
        return set()
    styles = etree.parse(archive.open("xl/styles.xml")).getroot()
    custom = {
        int(fmt.get("numFmtId")): DATE_CODE.search(
            re.sub(r'"[^"]*"|\[[^\]]*\]', "", fmt.get("formatCode", ""))
        )
        for fmt in styles.iter(MAIN + "numFmt")
    }
    cell_xfs = styles.find(MAIN + "cellXfs")
    dates = set()
    for index, xf in enumerate(cell_xfs if cell_xfs is not None else []):
        fmt = int(xf.get("numFmtId", 0))
        if fmt in BUILTIN_DATE_FORMATS or custom.get(fmt):
            dates.add(index)
    return dates


def _column_index(ref: str) -> int:
    index = 0
    for ch in ref:
        if ch <= "9":
            break
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def iter_xlsx_rows(path: str) -> Iterator[tuple[int, list[object]]]:
    with zipfile.ZipFile(path) as archive:
        shared = _shared_strings(archive)
        date_styles = _date_styles(archive)
        number = 0
        columns: dict[str, int] = {}  # "AB" → 27, filled as met
        for _, row in etree.iterparse(archive.open(_first_sheet_path(archive)), tag=ROW):
            number = int(row.get("r") or number + 1)
            values: list[object] = []
            for cell in row:
                ref = cell.get("r")
                if ref is None:
                    position = len(values)
                else:
                    letters = ref.rstrip("0123456789")
                    position = columns.get(letters)
                    if position is None:
                        position = columns[letters] = _column_index(letters)
                kind = cell.get("t")
                if kind == "s":
                    value: object = shared[int(cell[0].text)]
                elif kind == "inlineStr":
                    inline = cell[0]  # <is><t>text</t></is>, or rich-text runs inside <is>
                    value = (
                        inline[0].text
                        if len(inline) == 1 and inline[0].tag == TEXT
                        else "".join(inline.itertext(TEXT))
                    )
                else:
                    raw = cell.findtext(VALUE)
                    if raw is None:
                        value = None
                    elif kind is None or kind == "n":
                        value = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
                        if date_styles and int(cell.get("s", 0)) in date_styles:
                            value = EXCEL_EPOCH + dt.timedelta(days=float(value))
                    elif kind == "b":
                        value = raw == "1"
                    elif kind == "e":
                        value = None
                    else:  # "str": a formula's text result; "d": an ISO date
                        value = raw
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


def dimension_rows(path: str) -> int | None:
    """The last row number the sheet declares (<dimension ref="A1:CD250003">), read from its first bytes."""
    with zipfile.ZipFile(path) as archive, archive.open(_first_sheet_path(archive)) as fh:
        head = fh.read(4096).decode("utf-8", "replace")
    match = re.search(r'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
    return int(match.group(1)) if match else None
