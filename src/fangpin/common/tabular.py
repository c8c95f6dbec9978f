"""Reading .xlsx/.xls/.csv files row by row, as clerks really produce them.

CSV streams with constant memory and its encoding is detected (UTF-8 with or without BOM, else
GB18030, the superset of GBK that Excel on a Chinese Windows writes). .xlsx streams too
(common.xlsx_stream). .xls is read with calamine (Rust), which holds the sheet while reading; an .xls
sheet has at most 65,536 rows, so that stays small.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from lxml import etree
from python_calamine import CalamineWorkbook

from .xlsx_stream import dimension_rows, iter_xlsx_rows

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
STREAMED_SUFFIXES = {".xlsx", ".xlsm"}
SUPPORTED_SUFFIXES = EXCEL_SUFFIXES | {".csv", ".txt"}


class UnreadableFile(ValueError):
    """The file cannot be read as a table at all; the message is Chinese."""


def detect_csv_encoding(path: Path, sample_size: int = 1 << 20) -> str:
    with open(path, "rb") as fh:
        sample = fh.read(sample_size)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=len(sample) < sample_size)  # a cut multibyte tail is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise UnreadableFile("无法识别CSV文件的编码（既不是UTF-8也不是GBK/GB18030）") from exc


def _csv_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    encoding = detect_csv_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        sample = fh.read(64 * 1024)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        for number, row in enumerate(csv.reader(fh, dialect), start=1):
            yield number, list(row)


def _excel_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types per format
        raise UnreadableFile(f"无法读取Excel文件：{exc}") from exc
    first_row = (sheet.start or (0, 0))[0] + 1
    first_col = (sheet.start or (0, 0))[1]
    try:
        for offset, row in enumerate(sheet.iter_rows()):
            values = [None if cell == "" else cell for cell in row]
            yield first_row + offset, [None] * first_col + values
    finally:
        workbook.close()


def iter_rows(path: str | Path) -> Iterator[tuple[int, list[object]]]:
    """Yield (row number as Excel shows it, raw cell values) for the first sheet of the file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in STREAMED_SUFFIXES:
        try:
            yield from iter_xlsx_rows(str(path))
        except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
            raise UnreadableFile(f"无法读取Excel文件（文件已损坏或不是.xlsx）：{exc}") from exc
    elif suffix in EXCEL_SUFFIXES:
        yield from _excel_rows(path)
    elif suffix in {".csv", ".txt"}:
        yield from _csv_rows(path)
    else:
        raise UnreadableFile(f"不支持的文件类型「{suffix}」，请上传 .xlsx、.xls 或 .csv 文件")


def head_rows(path: str | Path, count: int = 12) -> list[tuple[int, list[object]]]:
    """The first rows of a file, where header detection looks; [] for a file that cannot be read
    (a damaged workbook, a PDF renamed): it simply has no header to find."""
    rows: list[tuple[int, list[object]]] = []
    try:
        with closing(iter_rows(path)) as iterator:
            for row in iterator:
                rows.append(row)
                if len(rows) >= count:
                    break
    except UnreadableFile:
        return []
    return rows


def estimate_rows(path: str | Path) -> int | None:
    """How many rows the file holds, cheaply, for a progress percentage; None when unknown."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in STREAMED_SUFFIXES:
            return dimension_rows(str(path))
        if suffix in {".csv", ".txt"}:
            with open(path, "rb") as fh:
                return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return None


def sniff_suffix(name: str, head: bytes) -> str:
    """Trust the content over the name: an .xls that is really an .xlsx (zip) is common."""
    if head.startswith(b"PK\x03\x04"):
        return ".xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ".xls"
    suffix = Path(name).suffix.lower()
    return suffix if suffix in SUPPORTED_SUFFIXES else ".csv"
