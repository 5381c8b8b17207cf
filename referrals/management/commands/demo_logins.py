"""`manage.py demo_logins`: where to sign in, and as whom, once the demo is loaded."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from clinics.models import StaffMember
from referrals.demo import DEMO_LOGINS, DEMO_PASSWORD, SUPERUSER


class Command(BaseCommand):
    help = "Print the site address and the demo usernames, roles and password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/",
            help="The address the site is served on (default: http://127.0.0.1:8000/).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["url"].rstrip("/")
        usernames = [spec.username for spec in [*DEMO_LOGINS, SUPERUSER]]
        users = {
            user.username: user
            for user in get_user_model()
            .objects.filter(username__in=usernames)
            .select_related("staff__organisation")
        }
        if not users:
            self.stdout.write(
                "The demo is not loaded: there are no demo logins yet. "
                "Run `manage.py load_demo` first."
            )
            return
        self.stdout.write(f"Outreach: {base}/")
        self.stdout.write(f"Admin:    {base}{reverse('admin:index')}")
        self.stdout.write("")
        rows = [("username", "role", "organisation", "password")]
        # Logins share one stored hash, so this checks one hash, not seven (hashing is slow).
        known: dict[str, bool] = {}
        for username in usernames:
            user = users.get(username)
            if user is None:
                rows.append((username, "(missing: run load_demo again)", "", ""))
                continue
            if user.password not in known:
                known[user.password] = check_password(DEMO_PASSWORD, user.password)
            password = DEMO_PASSWORD if known[user.password] else "(changed since the demo load)"
            rows.append((username, _role(user), _organisation(user), password))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  " + "  ".join([*cells, row[3]]).rstrip())


def _role(user: Any) -> str:
    if user.is_superuser:
        return "Superuser (sees everything)"
    try:
        return StaffMember.Role(user.staff.role).label
    except StaffMember.DoesNotExist:
        return "(no staff record)"


def _organisation(user: Any) -> str:
    try:
        return user.staff.organisation.name
    except StaffMember.DoesNotExist:
        return ""
