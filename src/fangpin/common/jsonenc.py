from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


class UnicodeJSONEncoder(DjangoJSONEncoder):
    """JSON columns keep Chinese as UTF-8 (3 bytes a character) instead of \\uXXXX escapes (6 bytes),
    which on SQLite makes the audit log a fifth smaller and readable with the sqlite3 shell."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)
