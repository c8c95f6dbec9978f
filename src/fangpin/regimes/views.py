"""政策口径: the regimes configured, the one in force, and what differs between them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fangpin.rules.catalogue import load_catalogue
from fangpin.web.views import capability_required

from .regime import FORMULAS, current, for_province


@capability_required("view_register")
def index(request: HttpRequest) -> HttpResponse:
    in_force = current()
    every = load_catalogue()
    shown = []
    for regime in for_province():
        applying = [rule for rule in every if regime.applies(rule)]
        shown.append({
            "regime": regime,
            "in_force": regime == in_force,
            "rules": len(applying),
            # the rules that make the difference: those that run under some regimes only
            "own_rules": [rule for rule in applying if rule.regimes],
            "excluded": [rule for rule in every if rule.id in regime.excluded_rules],
            "income": FORMULAS[regime.standard.income],
            "pending": regime.pending(),
        })  # fmt: skip
    return render(request, "regimes/index.html", {"regimes": shown, "in_force": in_force})
