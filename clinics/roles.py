"""The auth groups behind staff roles, and the model permissions each is given.

Groups are (re)built after every migrate so a new model's permissions reach the roles
without a hand-written data migration; running it again changes nothing.
"""

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

# (app_label, model): actions. "view" alone means read-only.
_CLINICAL = {
    ("clinics", "patient"): {"view", "add", "change"},
    ("clinics", "contactpoint"): {"view", "add", "change"},
    ("clinics", "servicetype"): {"view"},
    ("clinics", "venue"): {"view"},
    ("clinics", "mobileunit"): {"view"},
    ("clinics", "organisation"): {"view"},
    ("outreach", "outreachsession"): {"view"},
    ("outreach", "staffassignment"): {"view"},
    ("outreach", "booking"): {"view", "add", "change"},
    ("outreach", "visitoutcome"): {"view", "add", "change"},
    ("outreach", "waitlistentry"): {"view", "add", "change"},
    ("outreach", "message"): {"view"},
    ("referrals", "destination"): {"view"},
    ("referrals", "referral"): {"view", "add", "change"},
    ("referrals", "referralchase"): {"view", "add"},
}
_COORDINATOR = {
    **_CLINICAL,
    ("clinics", "venue"): {"view", "add", "change"},
    ("clinics", "staffmember"): {"view"},
    ("outreach", "sessionseries"): {"view", "add", "change"},
    ("outreach", "outreachsession"): {"view", "add", "change"},
    ("outreach", "staffassignment"): {"view", "add", "change", "delete"},
    ("outreach", "messagetemplate"): {"view"},
    ("outreach", "message"): {"view", "change"},
    ("outreach", "inboundmessage"): {"view", "change"},
    ("referrals", "destination"): {"view", "add", "change"},
    ("referrals", "referralchase"): {"view", "add", "change"},
    ("referrals", "referralrule"): {"view"},
    ("clinics", "accesslogentry"): {"view"},
    ("clinics", "datasharingagreement"): {"view"},
    ("clinics", "patient"): {"view", "add", "change", "export", "anonymise"},
    # Coordinators plan and chase every clinic, the sensitive ones too.
    ("clinics", "servicetype"): {"view", "view_sensitive_services"},
    # Reports: "view_reports" is a Meta permission of referrals.BackgroundJob.
    ("referrals", "reports"): {"view"},
}
# Auditors read the access log, the agreements and the history of their organisation's
# records; they write nothing and list no people (clinics.permissions keeps them out).
_AUDITOR = {
    ("clinics", "organisation"): {"view"},
    ("clinics", "accesslogentry"): {"view"},
    ("clinics", "datasharingagreement"): {"view"},
}
_ANALYST = {
    ("clinics", "organisation"): {"view"},
    ("clinics", "servicetype"): {"view"},
    ("clinics", "venue"): {"view"},
    ("clinics", "mobileunit"): {"view"},
    ("outreach", "sessionseries"): {"view"},
    ("outreach", "outreachsession"): {"view"},
    ("referrals", "destination"): {"view"},
    ("referrals", "reports"): {"view"},
}
_ALL = {"view", "add", "change", "delete"}
_ADMIN_MODELS = (
    [
        ("clinics", m)
        for m in (
            "organisation",
            "staffmember",
            "mobileunit",
            "venue",
            "servicetype",
            "patient",
            "contactpoint",
        )
    ]
    + [
        ("outreach", m)
        for m in (
            "sessionseries",
            "outreachsession",
            "staffassignment",
            "booking",
            "visitoutcome",
            "waitlistentry",
            "messagetemplate",
            "message",
            "inboundmessage",
        )
    ]
    + [("referrals", m) for m in ("destination", "referral", "referralchase", "referralrule")]
    + [("auth", "user")]
)
_ADMIN = {
    **dict.fromkeys(_ADMIN_MODELS, _ALL),
    ("clinics", "patient"): _ALL | {"export", "anonymise"},
    ("clinics", "servicetype"): _ALL | {"view_sensitive_services"},
    ("clinics", "datasharingagreement"): {"view", "add", "change"},
    # The log is append-only: view is all anyone gets, whatever the role.
    ("clinics", "accesslogentry"): {"view"},
    # Tokens are made by their owner only (the secret is shown once); admins see and revoke.
    ("clinics", "apitoken"): {"view", "change"},
    # Reports: "view_reports" is a Meta permission of referrals.BackgroundJob.
    ("referrals", "reports"): {"view"},
}

ROLE_PERMISSIONS: dict[str, dict[tuple[str, str], set[str]]] = {
    "nurse": _CLINICAL,
    "coordinator": _COORDINATOR,
    "admin": _ADMIN,
    "analyst": _ANALYST,
    "auditor": _AUDITOR,
}


def ensure_role_groups(**kwargs: Any) -> None:
    """Create the role groups and set exactly the permissions ROLE_PERMISSIONS gives them."""
    for group_name, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = Q(pk__in=[])
        for (app_label, model), actions in grants.items():
            wanted |= Q(
                content_type__app_label=app_label,
                codename__in=[codename_for(action, model) for action in actions],
            )
        group.permissions.set(Permission.objects.filter(wanted))


def codename_for(action: str, model: str) -> str:
    """`view` -> view_patient; a custom permission that already names its subject stays as is."""
    return action if action.endswith("_services") else f"{action}_{model}"
