"""Development: write each message to the log instead of sending it."""

import logging
import uuid

from outreach.messaging.gateways.base import Gateway, Outgoing

logger = logging.getLogger("outreach.messaging.console")


class ConsoleGateway(Gateway):
    def send(self, message: Outgoing) -> str:
        # Development only: the log line carries the body so a developer can read it.
        logger.info("%s %s to %s: %s", message.channel, message.reference, message.to, message.body)
        return f"console-{uuid.uuid4()}"
