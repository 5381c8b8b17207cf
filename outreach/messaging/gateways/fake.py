"""Tests: keep sent messages in memory and fail on demand."""

import itertools
from collections.abc import Callable
from typing import ClassVar

from outreach.messaging.gateways.base import Gateway, Outgoing, TransportError


class FakeGateway(Gateway):
    """`FakeGateway.sent` is shared by every instance; `fail_next` queues errors to raise.

    An error with `uncertain=True` is raised *after* the message is recorded, as a timeout does
    when the provider did get the request. `during_send` callbacks run while a message is "at
    the provider", so a test can make another worker act at exactly that moment.
    """

    sent: ClassVar[list[Outgoing]] = []
    fail_next: ClassVar[list[TransportError]] = []
    during_send: ClassVar[list[Callable[[Outgoing], None]]] = []
    _ids = itertools.count(1)

    @classmethod
    def reset(cls) -> None:
        cls.sent.clear()
        cls.fail_next.clear()
        cls.during_send.clear()

    def send(self, message: Outgoing) -> str:
        for callback in list(self.during_send):
            callback(message)
        error = self.fail_next.pop(0) if self.fail_next else None
        if error is not None and not error.uncertain:
            raise error
        self.sent.append(message)
        if error is not None:
            raise error
        return f"fake-{next(self._ids)}"

    def lookup(self, reference: str) -> str | None:
        for index, message in enumerate(self.sent):
            if message.reference == reference:
                return f"fake-found-{index}"
        return None
