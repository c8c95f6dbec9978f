"""A log filter that replaces the token of a /field/<token>/ path: Django logs the path of every
refused request (django.request: "Forbidden: /field/…/submission"), and a token in a log file is a
working credential for whoever reads it."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"(/field/)(?!static/)[A-Za-z0-9_\-]{8,}(?=/|\b)")


def scrub_token(text: str) -> str:
    return _TOKEN.sub(r"\1***", text) if "/field/" in text else text


class FieldTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself
            return True
        if "/field/" in message:
            record.msg, record.args = scrub_token(message), None
        return True
