"""Uploads, in one place: checked by content and size against their use, then saved readable only by
the server's account (they may hold full ID numbers and phones).

The name says what a file claims to be; its first bytes say what it is. A program renamed photo.jpg,
a web page named .pdf, a zip with an .exe inside named .docx are refused with a Chinese message.
Office files (and .xlsx tables) also pass the zip limits of common.limits on their central directory
only: nothing is inflated in the web process.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path
from typing import IO

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from .limits import MB, LimitExceeded, check_zip, size_text

# extension → (family for the size limit, what the clerk calls it)
TYPES: dict[str, tuple[str, str]] = {
    "jpg": ("photo", "照片（JPG）"),
    "jpeg": ("photo", "照片（JPG）"),
    "png": ("photo", "图片（PNG）"),
    "heic": ("photo", "照片（HEIC）"),
    "pdf": ("pdf", "PDF文件"),
    "ofd": ("pdf", "OFD版式文件"),
    "doc": ("office", "Word文件"),
    "docx": ("office", "Word文件"),
    "xls": ("office", "Excel文件"),
    "xlsx": ("office", "Excel文件"),
    "xlsm": ("office", "Excel文件"),
    "csv": ("table", "CSV文件"),
    "txt": ("table", "文本表格"),
}
USE_NAMES = {"table": "表格", "evidence": "佐证材料", "attachment": "附件"}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# what each zip-based type must contain (its main part), found case-insensitively
ZIP_MARKERS = {"docx": "word/", "xlsx": "xl/", "xlsm": "xl/", "ofd": "ofd.xml"}
EXECUTABLE_NAMES = (".exe", ".dll", ".com", ".scr", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".js", ".jse",
                    ".wsf", ".msi", ".jar", ".sh", ".elf", ".so", ".lnk", ".hta", ".cpl", ".apk")  # fmt: skip
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"dex\n")  # fmt: skip


def allowed_types(use: str) -> list[str]:
    """The extensions a use accepts, from the settings (FANGPIN_UPLOAD_TYPES)."""
    raw = settings.FANGPIN_UPLOAD_TYPES[use]
    return [ext.strip().lower().lstrip(".") for ext in raw.split(",") if ext.strip()]


def size_limit(ext: str, use: str) -> int:
    family = "table" if use == "table" else TYPES[ext][0]
    limits = settings.FANGPIN_UPLOAD_MAX_MB
    return limits.get(family, limits["office"]) * MB


def _what_it_is(head: bytes) -> str:
    """What the content is, as the clerk should hear it."""
    if head.startswith(EXECUTABLE_MAGIC[:2]) or head[:4] in EXECUTABLE_MAGIC:
        return "可执行程序"
    if head.startswith(b"#!"):
        return "脚本程序"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype", b"<script", b"<svg")) or b"<html" in text[:1024]:
        return "网页（HTML）"
    kind = filetype.guess(head)
    if kind is not None:
        return {"jpg": "JPG图片", "png": "PNG图片", "pdf": "PDF文件", "zip": "压缩包", "gif": "GIF图片",
                "rar": "压缩包", "7z": "压缩包", "gz": "压缩包"}.get(kind.extension, f"{kind.extension}文件")  # fmt: skip
    if head.startswith(OLE_MAGIC):
        return "旧版Office文件"
    return "其他格式的文件"


def _is_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM (Excel's "Unicode 文本")
        return True
    return b"\x00" not in head and filetype.guess(head) is None


def _content_matches(ext: str, head: bytes) -> bool:
    if ext in {"jpg", "jpeg"}:
        return head.startswith(b"\xff\xd8\xff")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext == "heic":
        return filetype.guess_extension(head) in {"heic", "avif"}
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext in ZIP_MARKERS:
        return head.startswith(ZIP_MAGIC)
    if ext in {"doc", "xls"}:
        return head.startswith(OLE_MAGIC)
    if ext in {"csv", "txt"}:
        return _is_text(head)
    return False


def _check_zip_content(fh: IO[bytes], ext: str, label: str) -> None:
    """An Office/OFD zip: within the zip limits, its main part present, no program inside."""
    try:
        with zipfile.ZipFile(fh) as archive:
            check_zip(archive)
            names = [name.replace("\\", "/").lower() for name in archive.namelist()]
    except LimitExceeded as exc:
        raise ValidationError(f"“{label}”：{exc}") from exc
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ValidationError(f"“{label}”已损坏或不完整，无法打开，已拒绝：请重新保存后上传") from exc
    if any(name.endswith(EXECUTABLE_NAMES) for name in names):
        raise ValidationError(f"“{label}”中夹带可执行程序，已拒绝")
    marker = ZIP_MARKERS[ext]
    if not any(name.startswith(marker) or name == marker for name in names):
        raise ValidationError(f"“{label}”的内容不是{TYPES[ext][1]}（实际是压缩包），已拒绝")


def check_upload(upload: UploadedFile, use: str) -> str:
    """Refuse an upload whose type is not accepted for `use` ("table", "evidence", "attachment"), whose
    content is not what its name says, or which is over its type's size limit. Returns the extension."""
    name = Path(upload.name or "").name
    ext = Path(name).suffix.lower().lstrip(".")
    allowed = allowed_types(use)
    if ext not in allowed or ext not in TYPES:
        shown = "、".join(f".{e}" for e in allowed)
        raise ValidationError(f"“{name}”的文件类型不支持作为{USE_NAMES[use]}，请上传 {shown} 文件")
    size = upload.size or 0
    limit = size_limit(ext, use)
    if size > limit:
        raise ValidationError(f"“{name}”超过 {size_text(limit)} 的上限（本文件约 {size_text(size)}），已拒绝")
    if size == 0:
        raise ValidationError(f"“{name}”是空文件（0字节），请重新选择")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    is_program = head.startswith(EXECUTABLE_MAGIC[:3]) or head[:4] in EXECUTABLE_MAGIC[3:]
    if use == "table" and head.startswith((ZIP_MAGIC, OLE_MAGIC)) and not is_program:
        # a workbook under another name (.xlsx as .csv) is read as what it is
        ext_seen = "xlsx" if head.startswith(ZIP_MAGIC) else "xls"
    else:
        ext_seen = ext
    if is_program or not _content_matches(ext_seen, head):
        raise ValidationError(
            f"“{name}”的内容不是{TYPES[ext][1]}（实际是{_what_it_is(head)}），已拒绝：请上传真正的{TYPES[ext][1]}"
        )
    if ext_seen in ZIP_MARKERS:
        _check_zip_content(upload.file, ext_seen, name)
        upload.seek(0)
    return ext_seen


def _private(target: Path) -> int:
    """A file descriptor for writing `target`, readable and writable by the server's account only."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    if hasattr(os, "fchmod"):  # an existing file keeps its mode through O_CREAT: set it
        os.fchmod(fd, 0o600)
    return fd


def save_upload(upload: UploadedFile, target: Path) -> Path:
    """Write the upload to `target` in chunks (large scans never sit in memory), mode 0600."""
    upload.seek(0)
    with os.fdopen(_private(target), "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return target


def copy_private(source: Path, target: Path) -> Path:
    """Copy a file given on the command line into the data directory, mode 0600."""
    with open(source, "rb") as src, os.fdopen(_private(target), "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return target


def stamped(folder: Path, name: str) -> Path:
    """A path in `folder` for `name`, prefixed with the time so that two uploads never collide."""
    return folder / f"{timezone.now():%Y%m%d%H%M%S%f}-{Path(name).name}"
