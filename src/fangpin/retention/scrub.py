"""Masking what looks like an ID or a mobile number in free text: tracebacks, log lines, messages.

A message built by fangpin names the row, the column and the kind of fault; but an exception raised
by a library may quote a cell as it was (`invalid literal for int(): '140826194908104608'`), and what
Excel left of an ID is still that person's ID. So text that leaves the worker for a job's summary or a
log line goes through `scrub`, which replaces every 15/17/18-digit run (an 18th X included) and every
mainland mobile by its mask. Runs glued to letters or other digits are left alone: they are hashes,
tokens or longer numbers (a 20-digit 人口编号), never a person's number.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fangpin.common.idnumber import mask_id
from fangpin.common.phone import mask_phone

_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{17}|\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?(1[3-9]\d{9})(?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """`text` with every ID-like digit run and every mobile number masked (1408**********4608)."""
    if not text or not any(c.isdigit() for c in text):
        return text
    text = _ID.sub(lambda m: mask_id(m.group()), text)
    return _MOBILE.sub(lambda m: mask_phone(m.group(1)), text)


def scrub_value(value: Any) -> Any:
    """`scrub` through the strings of a JSON-like value (a job's problems or summary)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(item) for item in value]
    return value


def scrub_exception(exc: BaseException) -> str:
    """An exception's message as a user may read it: `str(exc)` quotes whatever the library saw."""
    return scrub(str(exc))


class ScrubFilter(logging.Filter):
    """Installed on every handler (settings.LOGGING): the record's message, its exception text and its
    stack are rendered once and masked, so no handler writes a number in clear."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as logging does
            return True
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
