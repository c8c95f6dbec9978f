"""Lists show one page of rows, newest first, and page by key (as fast on page 100 as on page 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZE = 50


@dataclass
class Page:
    rows: list[Any]
    next_query: str  # the query string of the next page; "" on the last one
    first_query: str  # the same filters from the first page
    is_first: bool

    def __iter__(self):  # a page reads as its rows in templates and code
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def newest_first(
    queryset: QuerySet, request: HttpRequest, *, param: str = "before", size: int = PAGE_SIZE
) -> Page:
    """One page of `queryset` by descending primary key; `?{param}=<pk>` continues after that row.
    The other query parameters (the filters) are kept in the links."""
    before = request.GET.get(param, "")
    rows_qs = queryset.order_by("-pk")
    if before.isdigit():
        rows_qs = rows_qs.filter(pk__lt=int(before))
    rows = list(rows_qs[: size + 1])
    params = request.GET.copy()
    params.pop(param, None)
    first_query = params.urlencode()
    next_query = ""
    if len(rows) > size:
        params[param] = str(rows[size - 1].pk)
        next_query = params.urlencode()
    return Page(rows[:size], next_query, first_query, not before.isdigit())


def by_key(
    queryset: QuerySet,
    request: HttpRequest,
    *,
    key: tuple[str, str] = ("region_code", "household_no"),
    param: str = "after",
    size: int = PAGE_SIZE,
) -> Page:
    """One page of households in register order (village, 户编号), continued by `?{param}=<cursor>`."""
    from fangpin.registry.filters import keyset_page

    cursor = request.GET.get(param, "")
    rows, next_cursor = keyset_page(queryset, cursor, size, key=key)
    params = request.GET.copy()
    params.pop(param, None)
    first_query = params.urlencode()
    if next_cursor:
        params[param] = next_cursor
    return Page(rows, params.urlencode() if next_cursor else "", first_query, not cursor)
