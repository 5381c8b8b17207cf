"""Referrals API shapes: `<Model>Serializer` for output, `<Action>InputSerializer` for input.

`status` is read-only everywhere: it changes only through the POST actions.
"""

from typing import Any

from rest_framework import serializers

from clinics.api.common import ScopedPrimaryKeyRelatedField, StrictCharField
from clinics.permissions import patients_for
from outreach.models import VisitOutcome
from outreach.permissions import bookings_for
from referrals.destinations import EDITABLE_FIELDS
from referrals.models import Destination, Referral, ReferralChase
from referrals.permissions import destinations_for


def _active_destinations(user: Any) -> Any:
    return destinations_for(user).filter(is_active=True)


def _outcomes(user: Any) -> Any:
    return VisitOutcome.objects.filter(booking__in=bookings_for(user))


class DestinationSerializer(serializers.ModelSerializer):
    # Blank when the destination takes referrals another way: not always an address.
    email = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)

    class Meta:
        model = Destination
        fields = ["id", *EDITABLE_FIELDS, "updated_at"]
        read_only_fields = fields


class ReferralSerializer(serializers.ModelSerializer):
    # Blank unless the referral was rejected.
    rejection_reason = serializers.ChoiceField(
        Referral.RejectionReason.choices, allow_blank=True, read_only=True
    )
    patient_name = serializers.CharField(source="patient.preferred_name", read_only=True)
    destination_name = serializers.CharField(source="destination.name", read_only=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "organisation",
            "patient",
            "patient_name",
            "destination",
            "destination_name",
            "source_session",
            "source_booking",
            "source_outcome",
            "referrer",
            "reason",
            "priority",
            "status",
            "consent_to_share",
            "consent_method",
            "consent_recorded_by",
            "consent_recorded_at",
            "due_date",
            "is_overdue",
            "overdue_since",
            "sent_at",
            "responded_at",
            "appointment_at",
            "attended_at",
            "closed_at",
            "rejection_reason",
            "outcome_notes",
            "previous_referral",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_overdue(self, referral: Referral) -> bool:
        today = self.context.get("today")
        return bool(
            today
            and referral.status == Referral.Status.SENT
            and referral.due_date
            and referral.due_date < today
        )


class WorklistEntrySerializer(ReferralSerializer):
    """A worklist row: what a coordinator needs to choose whom to chase, and nothing more.

    Lean on purpose: a 200-row page is serialised field by field, so every field costs.
    """

    class Meta:
        model = Referral
        fields = [
            "id",
            "patient",
            "patient_name",
            "destination",
            "destination_name",
            "referrer",
            "priority",
            "status",
            "due_date",
            "is_overdue",
            "sent_at",
            "responded_at",
            "appointment_at",
            "attended_at",
        ]
        read_only_fields = fields

    # Only the columns the row shows are read (see ReferralViewSet.worklist).
    COLUMNS = (
        "id",
        "patient_id",
        "patient__preferred_name",
        "destination_id",
        "destination__name",
        "referrer_id",
        "priority",
        "status",
        "due_date",
        "sent_at",
        "responded_at",
        "appointment_at",
        "attended_at",
    )


class ReferralChaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferralChase
        fields = ["id", "referral", "chased_at", "chased_by", "channel", "outcome", "notes"]
        read_only_fields = fields


class ReferralInputSerializer(serializers.Serializer):
    """Make a referral; from a booking or visit outcome, the patient comes with it."""

    patient = ScopedPrimaryKeyRelatedField(patients_for, required=False)
    source_booking = ScopedPrimaryKeyRelatedField(bookings_for, required=False, allow_null=True)
    source_outcome = ScopedPrimaryKeyRelatedField(_outcomes, required=False, allow_null=True)
    destination = ScopedPrimaryKeyRelatedField(_active_destinations)
    reason = StrictCharField(max_length=2000)
    priority = serializers.ChoiceField(Referral.Priority.choices, default=Referral.Priority.ROUTINE)
    consent_to_share = serializers.BooleanField(
        help_text="The person agreed to their details being shared with the destination."
    )
    consent_method = serializers.ChoiceField(Referral.ConsentMethod.choices)
    send = serializers.BooleanField(default=False, help_text="Send it straight away.")

    def validate_consent_to_share(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                "A referral needs the person's consent to share their details."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        outcome = attrs.get("source_outcome")
        booking = attrs.get("source_booking") or (outcome.booking if outcome else None)
        patient = attrs.get("patient") or (booking.patient if booking else None)
        if patient is None:
            raise serializers.ValidationError(
                {"patient": "Give the patient, or the booking or visit outcome they came from."}
            )
        attrs["patient"] = patient
        attrs["source_booking"] = booking
        return attrs


class TransitionInputSerializer(serializers.Serializer):
    expected_status = serializers.ChoiceField(
        Referral.Status.choices,
        required=False,
        help_text="The status you saw. If someone has moved the referral since, the action is "
        "refused with 409 `stale_status` instead of being applied on top of their change.",
    )


class NotesInputSerializer(TransitionInputSerializer):
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectInputSerializer(NotesInputSerializer):
    rejection_reason = serializers.ChoiceField(Referral.RejectionReason.choices)


class BookInputSerializer(TransitionInputSerializer):
    appointment_at = serializers.DateTimeField(required=False, allow_null=True)


class ReasonInputSerializer(TransitionInputSerializer):
    reason = StrictCharField(max_length=2000)


class ReReferInputSerializer(serializers.Serializer):
    destination = ScopedPrimaryKeyRelatedField(_active_destinations, required=False)
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(Referral.Priority.choices, required=False)
    consent_to_share = serializers.BooleanField()
    consent_method = serializers.ChoiceField(Referral.ConsentMethod.choices)
    send = serializers.BooleanField(default=False)

    def validate_consent_to_share(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                "A re-referral needs the person's consent to share their details."
            )
        return value


class ChaseInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(ReferralChase.Channel.choices)
    outcome = serializers.ChoiceField(ReferralChase.Outcome.choices)
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class WorklistCountsSerializer(serializers.Serializer):
    overdue = serializers.IntegerField()
    accepted_not_booked = serializers.IntegerField()
    attended_not_closed = serializers.IntegerField()
    mine = serializers.IntegerField()
    by_destination = serializers.ListField(child=serializers.DictField())


class SummarySerializer(serializers.Serializer):
    subject = StrictCharField()
    text = StrictCharField()
    html = StrictCharField()


class SuggestionSerializer(serializers.Serializer):
    category = StrictCharField()
    priority = StrictCharField()
    reason = StrictCharField()
    destinations = DestinationSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
