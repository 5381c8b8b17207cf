"""Import destinations from an Open Referral UK (HSDS 3) JSON file."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from referrals.openreferral import ImportFileError, import_directory


class Command(BaseCommand):
    help = "Create or update destinations from an Open Referral UK (HSDS 3) JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The JSON file; - reads standard input.")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            raw = self.stdin.read() if str(path) == "-" else path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        try:
            counts = import_directory(raw)
        except ImportFileError as error:
            fields = getattr(error, "extra", {}).get("fields")
            raise CommandError(f"{error.detail} {fields or ''}".strip()) from None
        self.stdout.write(
            f"Imported the directory: {counts['created']} created, {counts['updated']} updated."
        )
