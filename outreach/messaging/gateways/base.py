"""What every gateway offers, and the one error they raise."""

from dataclasses import dataclass


class TransportError(Exception):
    """Sending failed. `permanent`: retrying cannot help (a bad number, a refused template).

    `uncertain`: the request may have reached the provider (a timeout), so the message must be
    looked up by its reference before it is sent again.
    """

    def __init__(self, detail: str, *, permanent: bool = False, uncertain: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.uncertain = uncertain


@dataclass(frozen=True)
class Outgoing:
    """What a gateway needs: `reference` is ours and carries no personal data."""

    reference: str
    channel: str
    to: str
    subject: str
    body: str
    discreet: bool = False


class Gateway:
    """Send one message and return the provider's id for it."""

    def send(self, message: Outgoing) -> str:
        raise NotImplementedError

    def lookup(self, reference: str) -> str | None:
        """The provider's id of a message already sent with this reference, if any."""
        return None
