"""`manage.py demo_logins`: where to sign in, and as whom, once the demo is loaded."""

from base64 import b32encode
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import StaffMember
from referrals.demo import DEMO_LOGINS, DEMO_PASSWORD, SUPERUSER
from referrals.demo.programmes import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the site address and the demo usernames, roles and password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/",
            help="The address the site is served on (default: http://127.0.0.1:8000/).",
        )
        parser.add_argument(
            "--code",
            action="store_true",
            help="Print only the demo authenticator's two-factor code for now.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["code"]:
            self.stdout.write(demo_code())
            return
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
        with_app = TOTPDevice.objects.filter(
            user__username__in=usernames, key=DEMO_TOTP_KEY, confirmed=True
        ).values_list("user__username", flat=True)
        if with_app:
            self.stdout.write("")
            self.stdout.write(
                f"{', '.join(sorted(with_app))} also give a two-factor code. Add this key to an "
                f"authenticator app: {demo_key_base32()}"
            )
            self.stdout.write(
                "or print the code for now with: .venv/bin/python manage.py demo_logins --code"
            )


def demo_key_base32() -> str:
    """The demo authenticator's key as authenticator apps take it."""
    return b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode().rstrip("=")


def demo_code() -> str:
    """The 6-digit code the demo authenticator shows now."""
    return f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}"


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
