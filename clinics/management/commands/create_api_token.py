"""Make an API token for an account, such as a service account that syncs rotas."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinics import tokens
from clinics.domain import DomainError


class Command(BaseCommand):
    help = "Make an API token for a user and print it once (only its hash is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--days",
            type=int,
            default=settings.OUTREACH_API_TOKEN_DAYS,
            help=f"How long it lasts (1 to {settings.OUTREACH_API_TOKEN_MAX_DAYS}).",
        )

    def handle(self, *args: Any, username: str, name: str, days: int, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username!r} is deactivated: its tokens would not work.")
        try:
            new = tokens.create_api_token(user, name=name, days=days)
        except DomainError as error:
            raise CommandError(error.detail) from None
        self.stderr.write(
            f"Token {new.token.prefix} for {username}, expires {new.token.expires_at:%Y-%m-%d}. "
            "It is shown only now:"
        )
        self.stdout.write(new.secret)
