"""Export the destination directory as Open Referral UK (HSDS 3) JSON."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from referrals.openreferral import export_directory


class Command(BaseCommand):
    help = "Write the destination directory as Open Referral UK (HSDS 3) JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", "-o", type=Path, help="Write to this file instead of standard output."
        )

    def handle(self, *args: Any, output: Path | None = None, **options: Any) -> None:
        text = json.dumps(export_directory(), indent=2, ensure_ascii=False)
        if output is None:
            self.stdout.write(text)
        else:
            output.write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"Wrote {output}.")
