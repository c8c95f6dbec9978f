"""Lists show one page and continue by key, with their filters (web/paging.py)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fangpin.monitoring.models import Clue, Source
from fangpin.registry.models import Household
from fangpin.web.paging import PAGE_SIZE

pytestmark = pytest.mark.django_db


def test_the_inbox_shows_a_page_of_clues_and_the_next_page_continues_after_it(client, register, county_staff):
    household = Household.objects.get(household_no="H001")
    Clue.objects.bulk_create(
        Clue(household=household, region_code=household.region_code, source=Source.HOTLINE, summary=f"线索{n:03d}",
             reported_by=county_staff, reported_at=timezone.now())
        for n in range(PAGE_SIZE + 7)
    )  # fmt: skip
    client.force_login(county_staff)
    first = client.get(reverse("monitoring:inbox"), {"status": "pending"}).content.decode()
    shown = re.findall(r"线索(\d{3})", first)
    assert len(shown) == PAGE_SIZE and shown[0] == f"{PAGE_SIZE + 6:03d}"  # newest first
    (link,) = re.findall(r'class="next-page" href="\?([^"]+)"', first)
    assert "status=pending" in link  # the filter is kept
    second = client.get(reverse("monitoring:inbox") + "?" + link.replace("&amp;", "&")).content.decode()
    assert re.findall(r"线索(\d{3})", second) == [f"{n:03d}" for n in range(6, -1, -1)]
    assert "第一页" in second and "next-page" not in second
