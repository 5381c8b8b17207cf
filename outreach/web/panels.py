"""Places on outreach pages where an app built on outreach adds its own section.

outreach must not import referrals (the apps depend one way), yet a person's page shows their
open referrals and a recorded outcome offers the referrals it suggests. So referrals registers a
panel here when it starts (referrals/apps.py), and the page renders whatever is registered.

A panel is a function of (request, object) returning a dict with "template" and "context", or
None to show nothing.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

Panel = Callable[[HttpRequest, Any], dict[str, Any] | None]

PERSON_PANELS: list[Panel] = []
OUTCOME_PANELS: list[Panel] = []


def register_person_panel(panel: Panel) -> Panel:
    if panel not in PERSON_PANELS:
        PERSON_PANELS.append(panel)
    return panel


def register_outcome_panel(panel: Panel) -> Panel:
    if panel not in OUTCOME_PANELS:
        OUTCOME_PANELS.append(panel)
    return panel


def render_panels(panels: list[Panel], request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
    return [shown for panel in panels if (shown := panel(request, obj))]
