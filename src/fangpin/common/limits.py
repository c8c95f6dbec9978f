"""Limits on the work a table file may cause, checked before parsing and again while streaming.

A 3.6 MB .xlsx whose shared strings inflate to 1.4 GiB once took the web process past 5 GB. Every
reader (register import, rosters, inspection lists) goes through common.tabular, which checks these
limits: the zip's central directory (declared sizes and compression ratio, read without inflating),
the sheet's <dimension>, and, while streaming, the bytes actually inflated (a part may lie about its
size), rows, columns, cell length and the number of shared strings. All limits are settings; a file
over one is refused with a Chinese message naming the limit and the file's value.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings

MB = 1024 * 1024


class LimitExceeded(ValueError):
    """The file is over one of the limits; the message is Chinese and names the limit."""


@dataclass(frozen=True)
class TableLimits:
    max_table_bytes: int  # .xlsx/.csv file size
    max_xls_bytes: int  # .xls file size (calamine holds the whole sheet)
    max_uncompressed_bytes: int  # all parts of an .xlsx together, inflated
    max_part_bytes: int  # any one part, inflated
    max_shared_strings_bytes: int  # the shared-strings part, inflated: it is held in memory
    max_ratio: int  # inflated / compressed, for parts big enough to matter
    ratio_floor_bytes: int  # parts smaller than this may compress as well as they like
    max_rows: int
    max_columns: int
    max_cell_chars: int
    max_shared_strings: int
    max_csv_line_bytes: int


def table_limits() -> TableLimits:
    return TableLimits(
        max_table_bytes=settings.FANGPIN_TABLE_MAX_MB * MB,
        max_xls_bytes=settings.FANGPIN_XLS_MAX_MB * MB,
        max_uncompressed_bytes=settings.FANGPIN_XLSX_MAX_UNCOMPRESSED_MB * MB,
        max_part_bytes=settings.FANGPIN_XLSX_MAX_PART_MB * MB,
        max_shared_strings_bytes=settings.FANGPIN_XLSX_MAX_SHARED_STRINGS_MB * MB,
        max_ratio=settings.FANGPIN_XLSX_MAX_RATIO,
        ratio_floor_bytes=settings.FANGPIN_XLSX_RATIO_FLOOR_MB * MB,
        max_rows=settings.FANGPIN_TABLE_MAX_ROWS,
        max_columns=settings.FANGPIN_TABLE_MAX_COLUMNS,
        max_cell_chars=settings.FANGPIN_TABLE_MAX_CELL_CHARS,
        max_shared_strings=settings.FANGPIN_XLSX_MAX_SHARED_STRINGS,
        max_csv_line_bytes=settings.FANGPIN_CSV_MAX_LINE_KB * 1024,
    )


def size_text(size: float) -> str:
    """A byte count as a clerk reads it: 500 MB, 1.4 GB, 300 KB."""
    if size >= 1024 * MB:
        return f"{size / (1024 * MB):.1f} GB"
    if size >= MB:
        return f"{size / MB:.0f} MB" if size >= 10 * MB else f"{size / MB:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


REFUSED = "可能是损坏或恶意文件，已拒绝"


def check_file_size(size: int, limit: int, what: str = "文件") -> None:
    if size > limit:
        raise LimitExceeded(f"{what}超过 {size_text(limit)} 的上限（本文件约 {size_text(size)}），已拒绝")


def check_zip(archive: zipfile.ZipFile, limits: TableLimits | None = None) -> None:
    """Refuse a zip (an .xlsx, a .docx) whose central directory declares too much work: total and
    per-part inflated size and the compression ratio. Nothing is inflated here."""
    limits = limits or table_limits()
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if info.file_size > limits.max_part_bytes:
            raise LimitExceeded(
                f"文件中的「{info.filename[-60:]}」部分解压后超过 {size_text(limits.max_part_bytes)} 的上限"
                f"（约 {size_text(info.file_size)}），{REFUSED}"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise LimitExceeded(
                f"文件的压缩比超过 {limits.max_ratio} 倍的上限（本文件约 {ratio:.0f} 倍，"
                f"{size_text(info.compress_size)} 解压后为 {size_text(info.file_size)}），{REFUSED}"
            )
    if total > limits.max_uncompressed_bytes:
        raise LimitExceeded(
            f"文件解压后超过 {size_text(limits.max_uncompressed_bytes)} 的上限（本文件约 {size_text(total)}），{REFUSED}"
        )


class BoundedPart:
    """A zip part read through a counter: inflating stops at the declared size or the part limit,
    whichever is smaller, however the data inflates (a part can lie about its size)."""

    def __init__(self, fh: IO[bytes], declared: int, limit: int) -> None:
        self._fh = fh
        self._left = min(declared, limit)
        self._limit = limit
        self._declared = declared

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._fh.read(want)
        self._left -= len(data)
        if self._left < 0:
            if self._declared <= self._limit:
                raise LimitExceeded(f"文件中有部分解压后的大小与文件记录的不符，{REFUSED}")
            raise LimitExceeded(f"文件中有部分解压后超过 {size_text(self._limit)} 的上限，{REFUSED}")
        return data

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> BoundedPart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def too_many_rows(limit: int, seen: int) -> LimitExceeded:
    return LimitExceeded(
        f"文件超过 {limit:,} 行的上限（本文件有 {seen:,} 行以上），已拒绝：请分成多个文件上传"
    )


def too_many_columns(limit: int, seen: int) -> LimitExceeded:
    return LimitExceeded(f"文件超过 {limit:,} 列的上限（本文件约 {seen:,} 列），{REFUSED}")


def cell_too_long(limit: int, seen: int, where: str) -> LimitExceeded:
    return LimitExceeded(f"{where}的内容超过 {limit:,} 个字符的上限（约 {seen:,} 个字符），{REFUSED}")
