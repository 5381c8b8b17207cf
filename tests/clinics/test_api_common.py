"""The API helpers every app shares."""

import threading

import pytest

from clinics.api.common import represent
from outreach.api.serializers import BookingSerializer
from outreach.models import Booking
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_kept_serializer_represents_each_booking_as_a_new_one_would():
    booked = factories.BookingFactory(notes="Bring glasses")
    cancelled = factories.BookingFactory(
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.SERVICE,
        cancellation_reason="Bus broke down",
    )
    seen = factories.VisitOutcomeFactory().booking

    for booking in (booked, cancelled, seen, booked):
        booking = Booking.objects.get(pk=booking.pk)
        assert represent(BookingSerializer, booking) == BookingSerializer(booking).data
    assert represent(BookingSerializer, seen)["outcome"]["outcome"] == "completed"
    assert represent(BookingSerializer, booked)["outcome"] is None


def test_each_thread_keeps_its_own_serializer():
    booking = factories.BookingFactory()
    kept: list[object] = []

    def keep() -> None:
        represent(BookingSerializer, booking)
        from clinics.api import common

        kept.append(common._built.serializers[BookingSerializer])

    keep()
    worker = threading.Thread(target=keep)
    worker.start()
    worker.join()
    assert len(kept) == 2
    assert kept[0] is not kept[1]
