"""Walk the access log's hash chain and fail, naming the first broken entry, if it was altered."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinics.access_log import verify_chain


class Command(BaseCommand):
    help = "Check the access log's hash chain; exit non-zero naming the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.intact:
            raise CommandError(
                f"{report.problem} (after {report.checked} intact entries)", returncode=1
            )
        self.stdout.write(
            f"The access log is intact: {report.checked} entries, last hash {report.head}."
        )
