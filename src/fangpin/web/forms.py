"""Form pieces shared by every upload of a table (register, rosters, inspection lists)."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

from fangpin.common.tabular import SUPPORTED_SUFFIXES


def table_file(upload: UploadedFile | None) -> UploadedFile | None:
    """Refuse anything but .xlsx/.xls/.csv before it reaches an importer."""
    if upload is None:
        return None
    suffix = "." + upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if suffix not in SUPPORTED_SUFFIXES:
        raise forms.ValidationError("请上传 .xlsx、.xls 或 .csv 文件")
    return upload
