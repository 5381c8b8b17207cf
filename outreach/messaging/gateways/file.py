"""Development: append each message as one JSON line to OUTREACH_MESSAGE_FILE."""

import json
import uuid
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from outreach.messaging.gateways.base import Gateway, Outgoing


class FileGateway(Gateway):
    def send(self, message: Outgoing) -> str:
        provider_id = f"file-{uuid.uuid4()}"
        path = Path(settings.OUTREACH_MESSAGE_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {"id": provider_id, "at": timezone.now().isoformat(), **asdict(message)}
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        return provider_id

    def lookup(self, reference: str) -> str | None:
        path = Path(settings.OUTREACH_MESSAGE_FILE)
        if not path.exists():
            return None
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row.get("reference") == reference:
                    return row["id"]
        return None
