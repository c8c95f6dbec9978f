"""Reading .xlsx/.xls/.csv files row by row, as clerks really produce them.

CSV streams with constant memory and its encoding is detected (UTF-8 with or without BOM, else
GB18030, the superset of GBK that Excel on a Chinese Windows writes; UTF-16 with BOM, Excel's
"Unicode 文本"). A byte that fits neither is refused with the line it is on, never replaced: a
garbled name or ID would go unnoticed. .xlsx streams too (common.xlsx_stream). .xls is read with
calamine (Rust), which holds the sheet while reading; an .xls sheet has at most 65,536 rows, so that
stays small. The content decides, not the name: an .xlsx named .xls (or the reverse) is read as what
it is. Whatever is wrong with a file, reading it raises `UnreadableFile` with a Chinese message, at
open or in the middle of the file, never a traceback.

Every reader is bounded (common.limits, all settings): file size before opening; for .xlsx the zip's
declared sizes, compression ratio and <dimension>, then rows, columns, cell length and shared strings
while streaming; for .xls the sheet's dimensions before its cells are read; for .csv line length and
columns. A file over a limit raises `FileTooLarge` (an `UnreadableFile`) naming the limit.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from .limits import (
    LimitExceeded,
    TableLimits,
    cell_too_long,
    check_file_size,
    size_text,
    table_limits,
    too_many_columns,
    too_many_rows,
)
from .xlsx_stream import DamagedWorkbook, dimension_rows, iter_xlsx_rows

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
STREAMED_SUFFIXES = {".xlsx", ".xlsm"}
SUPPORTED_SUFFIXES = EXCEL_SUFFIXES | {".csv", ".txt"}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
LONE_CR = re.compile(r"(?<=\r)(?!\n|$)")  # old Mac line ends: split after a \r not followed by \n
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}


class UnreadableFile(ValueError):
    """The file cannot be read as a table at all; the message is Chinese."""


class FileTooLarge(UnreadableFile):
    """The file is over one of the table limits (common.limits); the message names the limit."""


# --- CSV -----------------------------------------------------------------------------------------


def _first_error(data: bytes, encoding: str, final: bool) -> int | None:
    """Where decoding data fails (a cut multibyte tail is fine unless final), or None."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def detect_csv_encoding(path: Path, sample_size: int = 1 << 20) -> str:
    """The encoding the file is in, judged on its first non-ASCII megabyte. A file valid in neither
    UTF-8 nor GB18030 gets the one that reads further: the bad line is then named while reading."""
    with open(path, "rb") as fh:
        sample = fh.read(sample_size)
        for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                              (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
            if sample.startswith(bom):
                return encoding
        final = len(sample) < sample_size
        while sample.isascii() and not final:  # ASCII says nothing: judge where the Chinese starts
            sample = fh.read(sample_size)
            final = len(sample) < sample_size
    utf8_error = _first_error(sample, "utf-8", final)
    if utf8_error is None:
        return "utf-8"
    gb_error = _first_error(sample, "gb18030", final)
    if gb_error is None or gb_error > utf8_error:
        return "gb18030"
    return "utf-8"


def _encoding_problem(number: int, line: bytes, exc: UnicodeDecodeError, encoding: str) -> str:
    name = ENCODING_NAMES.get(encoding, encoding)
    number += line[: exc.start].count(b"\r") - line[: exc.start].count(b"\r\n")
    other, other_name = ("gb18030", "GBK/GB18030") if name == "UTF-8" else ("utf-8", "UTF-8")
    if _first_error(line, other, True) is None:
        return (
            f"CSV文件第{number}行的编码与文件其他部分不一致（文件是{name}编码，此行却是{other_name}编码）："
            "请把整个文件另存为同一种编码（如Excel的“CSV UTF-8”）后重新上传"
        )
    return (
        f"CSV文件第{number}行含有无法识别的字节（0x{line[exc.start]:02X}）：该行既不是有效的UTF-8编码，"
        "也不是有效的GBK/GB18030编码，文件可能已损坏。请修改该行或从原系统重新导出后重新上传"
    )


def _line_too_long(number: int, limit: int) -> str:
    return f"CSV文件第{number}行超过 {size_text(limit)} 的单行上限，可能是损坏或恶意文件，已拒绝"


def _decoded_lines(path: Path, encoding: str) -> Iterator[str]:
    """The file's lines as text, decoded strictly line by line, so a bad byte names its line."""
    if encoding == "utf-16":  # two bytes per character: lines cannot be split as bytes
        number = 0
        max_chars = table_limits().max_csv_line_bytes // 2
        try:
            with open(path, encoding=encoding, newline="") as fh:
                for number, line in enumerate(iter(lambda: fh.readline(max_chars + 1), ""), start=1):
                    if len(line) > max_chars:
                        raise FileTooLarge(_line_too_long(number, max_chars * 2))
                    yield line
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"CSV文件第{number + 1}行附近不是有效的UTF-16编码，文件可能已损坏") from exc
        return
    max_line = table_limits().max_csv_line_bytes
    with open(path, "rb") as fh:
        for number, line in enumerate(iter(lambda: fh.readline(max_line + 1), b""), start=1):
            if len(line) > max_line:
                raise FileTooLarge(_line_too_long(number, max_line))
            try:
                text = line.decode("utf-8" if encoding == "utf-8-sig" and number > 1 else encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(_encoding_problem(number, line, exc, encoding)) from exc
            if "\r" in text[:-2]:
                yield from LONE_CR.split(text)
            else:
                yield text


def _sniff(path: Path, encoding: str) -> type[csv.Dialect] | csv.Dialect:
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(head.decode(encoding, "replace"), delimiters=",\t;")
    except csv.Error:
        return csv.excel


def _csv_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    try:
        encoding = detect_csv_encoding(path)
        dialect = _sniff(path, encoding)
    except OSError as exc:
        raise UnreadableFile(f"无法打开文件：{exc.strerror or exc}") from exc
    limits = table_limits()
    csv.field_size_limit(max(limits.max_csv_line_bytes, 131072))  # a field never exceeds its line
    reader = csv.reader(_decoded_lines(path, encoding), dialect)
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableFile(
                f"CSV文件第{reader.line_num}行格式错误（含有空字符，或引号不成对），无法读取：请检查该行后重新上传"
            ) from exc
        except OSError as exc:
            raise UnreadableFile(f"无法读取文件：{exc.strerror or exc}") from exc
        number += 1
        _check_row(limits, number, row)
        yield number, list(row)


def _check_row(limits: TableLimits, number: int, row: list[str]) -> None:
    if number > limits.max_rows + 1000:
        raise FileTooLarge(str(too_many_rows(limits.max_rows, number)))
    if len(row) > limits.max_columns:
        raise FileTooLarge(str(too_many_columns(limits.max_columns, len(row))))
    for position, value in enumerate(row):
        if len(value) > limits.max_cell_chars:
            raise FileTooLarge(
                str(cell_too_long(limits.max_cell_chars, len(value), f"第{number}行第{position + 1}列"))
            )


# --- Excel ---------------------------------------------------------------------------------------


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(512)
    except OSError as exc:
        raise UnreadableFile(f"无法打开文件：{exc.strerror or exc}") from exc


def _not_a_workbook(head: bytes) -> str | None:
    """What a file that is no workbook at all is, as the clerk should hear it; None if unsure."""
    if not head:
        return "文件是空的（0字节），请重新导出后上传"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype", b"<table", b"<meta")) or b"<html" in text:
        return "文件是网页（HTML）格式的表格，只是扩展名为Excel：请在Excel中打开，另存为.xlsx后重新上传"
    if text.startswith(b"<?xml"):
        return (
            "文件是XML格式的表格（Excel 2003 XML），只是扩展名为Excel：请在Excel中打开，另存为.xlsx后重新上传"
        )
    if head.startswith(b"%PDF"):
        return "文件是PDF，不是Excel表格：请上传.xlsx、.xls或.csv文件"
    return None


def _encrypted(path: Path) -> bool:
    """An .xlsx with an opening password is an OLE file holding an "EncryptedPackage" stream."""
    marker = "EncryptedPackage".encode("utf-16-le")
    with open(path, "rb") as fh:
        tail = b""
        for block in iter(lambda: fh.read(1 << 20), b""):
            if marker in tail + block:
                return True
            tail = block[-len(marker) :]
    return False


def _first_visible_sheet(workbook: CalamineWorkbook) -> int:
    try:
        for index, meta in enumerate(workbook.sheets_metadata):
            if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible:
                return index
    except Exception:  # metadata is a convenience: without it, the first sheet
        pass
    return 0


def _excel_rows(path: Path, by_name: bool) -> Iterator[tuple[int, list[object]]]:
    try:
        if by_name:
            workbook = CalamineWorkbook.from_path(str(path))
        else:  # an .xls under another name: let calamine judge the content
            with open(path, "rb") as fh:
                workbook = CalamineWorkbook.from_filelike(fh)
        sheet = workbook.get_sheet_by_index(_first_visible_sheet(workbook))
    except PasswordError as exc:
        raise UnreadableFile("文件设置了打开密码，无法读取：请在Excel中取消密码后重新上传") from exc
    except Exception as exc:  # calamine raises its own error types per format
        if _encrypted(path):
            raise UnreadableFile("文件设置了打开密码，无法读取：请在Excel中取消密码后重新上传") from exc
        raise UnreadableFile(
            _not_a_workbook(_head(path))
            or f"无法读取Excel文件（文件已损坏或格式不对），请在Excel中打开并另存为.xlsx后重新上传：{exc}"
        ) from exc
    limits = table_limits()
    if sheet.width > limits.max_columns or sheet.height > limits.max_rows + 1000:  # before any cell
        workbook.close()
        if sheet.width > limits.max_columns:
            raise FileTooLarge(str(too_many_columns(limits.max_columns, sheet.width)))
        raise FileTooLarge(str(too_many_rows(limits.max_rows, sheet.height)))
    first_row = (sheet.start or (0, 0))[0] + 1
    first_col = (sheet.start or (0, 0))[1]
    try:
        for offset, row in enumerate(sheet.iter_rows()):
            values = [None if cell == "" else cell for cell in row]
            yield first_row + offset, [None] * first_col + values
    except Exception as exc:
        raise UnreadableFile(f"无法读取Excel文件（文件已损坏）：{exc}") from exc
    finally:
        workbook.close()


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    try:
        yield from iter_xlsx_rows(str(path))
    except LimitExceeded as exc:
        raise FileTooLarge(str(exc)) from exc
    except DamagedWorkbook as exc:
        raise UnreadableFile(str(exc)) from exc


def _check_size(path: Path, xls: bool) -> None:
    limits = table_limits()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"无法打开文件：{exc.strerror or exc}") from exc
    try:
        check_file_size(size, limits.max_xls_bytes if xls else limits.max_table_bytes)
    except LimitExceeded as exc:
        raise FileTooLarge(str(exc)) from exc


def iter_rows(path: str | Path) -> Iterator[tuple[int, list[object]]]:
    """Yield (row number as Excel shows it, raw cell values) for the first visible sheet of the file."""
    path = Path(path)
    suffix = path.suffix.lower()
    head = _head(path) if suffix in SUPPORTED_SUFFIXES else b""
    if suffix in {".csv", ".txt"} and head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        suffix = ".xlsx" if head.startswith(ZIP_MAGIC) else ".xls"  # a workbook named .csv
    if suffix in SUPPORTED_SUFFIXES:
        _check_size(path, xls=head.startswith(OLE_MAGIC))
    if suffix in EXCEL_SUFFIXES:
        if head.startswith(ZIP_MAGIC):
            yield from _xlsx_rows(path)
        elif head.startswith(OLE_MAGIC):
            yield from _excel_rows(path, by_name=path.suffix.lower() == ".xls")
        elif reason := _not_a_workbook(head):
            raise UnreadableFile(reason)
        elif suffix in STREAMED_SUFFIXES:
            yield from _xlsx_rows(path)
        else:
            yield from _excel_rows(path, by_name=True)
    elif suffix in {".csv", ".txt"}:
        yield from _csv_rows(path)
    else:
        raise UnreadableFile(f"不支持的文件类型「{suffix}」，请上传 .xlsx、.xls 或 .csv 文件")


def head_rows(path: str | Path, count: int = 12) -> list[tuple[int, list[object]]]:
    """The first rows of a file, where header detection looks. A file that cannot be read (a damaged
    workbook, a PDF renamed) gives the rows read before the damage ([] if none): the import that
    follows reads the file again and reports why it cannot."""
    rows: list[tuple[int, list[object]]] = []
    try:
        with closing(iter_rows(path)) as iterator:
            for row in iterator:
                rows.append(row)
                if len(rows) >= count:
                    break
    except FileTooLarge:
        raise  # over a limit is no damage to report later: the caller says so now
    except UnreadableFile:
        return rows
    return rows


def unreadable_reason(path: str | Path) -> str | None:
    """Why the file cannot be read at its start (the Chinese message), or None when it can."""
    try:
        with closing(iter_rows(path)) as iterator:
            next(iterator, None)
    except UnreadableFile as exc:
        return str(exc)
    return None


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
    except OSError:
        return None
    return None


def sniff_suffix(name: str, head: bytes) -> str:
    """Trust the content over the name: an .xls that is really an .xlsx (zip) is common."""
    if head.startswith(ZIP_MAGIC):
        return ".xlsx"
    if head.startswith(OLE_MAGIC):
        return ".xls"
    suffix = Path(name).suffix.lower()
    return suffix if suffix in SUPPORTED_SUFFIXES else ".csv"
