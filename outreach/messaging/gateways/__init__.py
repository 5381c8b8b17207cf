"""One gateway per way out; settings choose which by dotted path."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from outreach.messaging.gateways.base import Gateway, Outgoing, TransportError

__all__ = ["Gateway", "Outgoing", "TransportError", "gateway_for"]


@cache
def _instance(path: str) -> Gateway:
    # One instance per process: the Notify client keeps its HTTP connection open between sends.
    return import_string(path)()


def gateway_for(channel: str) -> Gateway:
    """Return the configured gateway for "sms" or "email"."""
    path = settings.OUTREACH_SMS_GATEWAY if channel == "sms" else settings.OUTREACH_EMAIL_GATEWAY
    return _instance(path)
