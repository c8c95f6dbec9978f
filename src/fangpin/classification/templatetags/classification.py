"""The household page's line about its classification (registry/household_detail.html loads it, so the
register's view needs no knowledge of this app)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("classification/_household_card.html", takes_context=True)
def household_classification(context: Any, household: Any) -> dict[str, Any]:
    from fangpin.classification import actions
    from fangpin.classification.models import Assessment
    from fangpin.regimes.regime import current

    user = context["request"].user
    regime = current()
    population = regime.classification.population if regime.classification.enabled else "脱贫户"
    latest = (Assessment.objects.for_user(user).filter(household=household)
              .exclude(status=Assessment.Status.CLOSED).order_by("-started_at").first())  # fmt: skip
    shown = household.household_type == population or latest is not None
    return {
        "shown": shown, "household": household, "latest": latest, "regime": regime,
        "step": actions.current_step(latest).label if latest and latest.is_open else "",
        "may_start": latest is None or (not latest.is_open and latest.regime != regime.code),
        "can_start": regime.classification.enabled and actions.may_start(user, regime)
        and user.covers(household.region_code) and household.household_type == regime.classification.population,
        "csrf_token": context.get("csrf_token"),
    }  # fmt: skip
