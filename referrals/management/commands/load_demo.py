"""`manage.py load_demo`: the Peterborough, Wigan and Wakefield programmes, with invented people."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from referrals.demo import DEMO_PASSWORD, load_demo

__all__ = ["DEMO_PASSWORD", "Command"]


class Command(BaseCommand):
    help = (
        "Load demo organisations, sessions, patients, bookings, referrals and messages, with "
        "one login per role. Safe to run again: nothing changes on a second run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo even with DEBUG off (it creates logins with a known password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to load the demo with DEBUG off: it creates staff logins whose "
                f"password is published ('{DEMO_PASSWORD}'). Run it on a development machine "
                "with DEBUG=true, or pass --force if you really want these accounts here."
            )
        summary = load_demo()
        if options["verbosity"] < 1:
            return
        added = sum(line.added for line in summary)
        self.stdout.write(
            self.style.SUCCESS("Demo data loaded.")
            if added
            else "Demo data already loaded: nothing to change."
        )
        width = max(len(line.label) for line in summary)
        for line in summary:
            extra = f"  (+{line.added})" if line.added else ""
            self.stdout.write(f"  {line.label:<{width}}  {line.total:>5}{extra}")
        self.stdout.write("Run `manage.py demo_logins` for the usernames and password.")
