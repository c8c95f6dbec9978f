"""Saving an uploaded file to disk, in one place."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone


def save_upload(upload: UploadedFile, target: Path) -> Path:
    """Write the upload to `target` in chunks (large scans never sit in memory)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return target


def stamped(folder: Path, name: str) -> Path:
    """A path in `folder` for `name`, prefixed with the time so that two uploads never collide."""
    return folder / f"{timezone.now():%Y%m%d%H%M%S%f}-{Path(name).name}"
