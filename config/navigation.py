"""The header navigation and each role's landing page, in one place.

Roles are the staff role groups (`StaffMember.group_name`: nurse, coordinator, admin, analyst);
a superuser sees every item. A page joins the navigation by adding one `NavItem` here, naming
its URL and the roles that use it; the order of the list is the order on screen.
"""

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from clinics.permissions import sees_everything, staff_for

NURSE = "nurse"
COORDINATOR = "coordinator"
ADMIN = "admin"
ANALYST = "analyst"


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]
    # Other URL names (or a prefix ending in ":") that count as being on this item's page.
    active_for: tuple[str, ...] = ()


NAVIGATION: list[NavItem] = [
    NavItem(
        "Today",
        "outreach_web:today",
        frozenset({NURSE, COORDINATOR}),
        (
            "outreach_web:walk_in",
            "outreach_web:booking",
            "outreach_web:record_outcome",
            "outreach_web:cancel",
            "outreach_web:outcome",
        ),
    ),
    NavItem(
        "People",
        "clinics_web:people",
        frozenset({NURSE, COORDINATOR}),
        (
            "clinics_web:",
            "outreach_web:person",
            "outreach_web:book_next",
            "outreach_web:person_walk_in",
            "referrals_web:refer",
        ),
    ),
    NavItem(
        "Planner",
        "planner",
        frozenset({COORDINATOR, ADMIN}),
        ("planner-series", "planner-series-create", "planner-session", "planner-session-cancel"),
    ),
    NavItem(
        "Referrals",
        "referral-board",
        frozenset({COORDINATOR, ADMIN}),
        ("board-referral", "board-referral-move", "board-referral-chase"),
    ),
    NavItem(
        "Directory",
        "directory",
        frozenset({COORDINATOR, ADMIN}),
        ("directory-add", "directory-detail", "directory-edit"),
    ),
    NavItem("Messages", "message-log", frozenset({COORDINATOR, ADMIN})),
    NavItem(
        "Reports",
        "reports_web:reports",
        frozenset({COORDINATOR, ADMIN, ANALYST}),
        ("reports_web:",),
    ),
]

# Where "/" sends each role; a role not listed sees the home page.
LANDING: dict[str, str] = {
    NURSE: "outreach_web:today",
    COORDINATOR: "outreach_web:today",
}


def role_for(user: Any) -> str | None:
    """The user's role group, or None for a user without an active staff record."""
    staff = staff_for(user)
    if staff is None or not staff.is_active:
        return None
    return staff.group_name


def navigation_for(user: Any, current_url_name: str = "") -> list[dict[str, Any]]:
    """The items `user` sees, each with its URL and whether it is the current page."""
    if not getattr(user, "is_authenticated", False):
        return []
    everything = sees_everything(user)
    role = role_for(user)
    items = []
    for item in NAVIGATION:
        if not (everything or role in item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        current = current_url_name == item.url_name or any(
            current_url_name.startswith(name) if name.endswith(":") else current_url_name == name
            for name in item.active_for
        )
        items.append({"label": item.label, "url": url, "current": current})
    return items


def landing_url_for(user: Any) -> str | None:
    role = role_for(user)
    url_name = LANDING.get(role or "")
    if not url_name:
        return None
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def navigation(request: Any) -> dict[str, Any]:
    """Template context processor: `navigation` for the header."""
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    return {
        "navigation": navigation_for(request.user, current),
        "staff_member": staff_for(request.user),
    }
