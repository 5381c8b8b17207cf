"""GOV.UK Notify: one generic template per channel whose content is ((body))."""

from django.conf import settings
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from requests import ConnectionError as RequestsConnectionError
from requests import Timeout

from outreach.messaging.gateways.base import Gateway, Outgoing, TransportError

# Notify answers 400 and 403 for a request that will never succeed (a bad number, a trial-mode
# recipient, a bad key); 429 (over the rate limit) and 5xx are worth retrying.
_RETRYABLE = {429, 500, 502, 503, 504}


class NotifyGateway(Gateway):
    def __init__(self) -> None:
        self.client = NotificationsAPIClient(
            settings.NOTIFY_API_KEY,
            base_url=settings.NOTIFY_BASE_URL,
            timeout=settings.NOTIFY_TIMEOUT_SECONDS,
        )

    def send(self, message: Outgoing) -> str:
        personalisation = {"body": message.body}
        try:
            if message.channel == "sms":
                sender = settings.NOTIFY_DISCREET_SMS_SENDER_ID if message.discreet else ""
                response = self.client.send_sms_notification(
                    phone_number=message.to,
                    template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
                    personalisation=personalisation,
                    reference=message.reference,
                    sms_sender_id=sender or None,
                )
            else:
                response = self.client.send_email_notification(
                    email_address=message.to,
                    template_id=settings.NOTIFY_EMAIL_TEMPLATE_ID,
                    personalisation={**personalisation, "subject": message.subject},
                    reference=message.reference,
                )
        except APIError as error:
            raise _transport_error(error) from error
        return str(response["id"])

    def lookup(self, reference: str) -> str | None:
        try:
            response = self.client.get_all_notifications(reference=reference)
        except APIError as error:
            raise _transport_error(error) from error
        notifications = response.get("notifications") or []
        return str(notifications[0]["id"]) if notifications else None


def _transport_error(error: APIError) -> TransportError:
    cause = error.__cause__
    if isinstance(cause, Timeout | RequestsConnectionError) and error.response is None:
        # A read timeout may come after Notify accepted the message: look it up before resending.
        uncertain = not isinstance(cause, RequestsConnectionError) or isinstance(cause, Timeout)
        return TransportError(f"Notify did not answer: {type(cause).__name__}", uncertain=uncertain)
    status = error.status_code
    detail = f"Notify answered {status}"
    return TransportError(detail, permanent=status not in _RETRYABLE)
