"""Subject access: write everything held about one patient as JSON, and log the export."""

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from clinics.access_log import record_patient_access
from clinics.data_protection import subject_access_export
from clinics.governance import AccessLogEntry
from clinics.models import Patient


class Command(BaseCommand):
    help = "Export everything held about a patient (subject access request) as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("patient_id", type=int)
        parser.add_argument(
            "--by", required=True, help="Username of the person answering the request (logged)."
        )
        parser.add_argument("--output", help="File to write; standard output if left out.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            patient = Patient.objects.get(pk=options["patient_id"])
        except Patient.DoesNotExist:
            raise CommandError(f"No patient with id {options['patient_id']}.") from None
        try:
            by = get_user_model().objects.get(username=options["by"], is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user called {options['by']!r}.") from None
        text = json.dumps(subject_access_export(patient), cls=DjangoJSONEncoder, indent=2)
        record_patient_access(
            by,
            patient,
            action=AccessLogEntry.Action.EXPORT,
            via=AccessLogEntry.Via.COMMAND,
            path="manage.py export_patient",
        )
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as output:
                output.write(text + "\n")
            self.stderr.write(f"Wrote the export of patient {patient.pk} to {options['output']}.")
        else:
            self.stdout.write(text)
