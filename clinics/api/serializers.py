from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from clinics.api.common import ScopedPrimaryKeyRelatedField, StrictModelSerializer
from clinics.models import (
    ContactPoint,
    MobileUnit,
    Organisation,
    Patient,
    ServiceType,
    StaffMember,
    Venue,
)
from clinics.validators import normalise_nhs_number


def _active_services(user: Any) -> Any:
    return ServiceType.objects.filter(is_active=True)


class OrganisationSerializer(StrictModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "ods_code", "is_active"]
        read_only_fields = fields


class ServiceTypeSerializer(StrictModelSerializer):
    class Meta:
        model = ServiceType
        fields = [
            "id",
            "code",
            "name",
            "description",
            "default_duration_minutes",
            "requires_competency",
            "min_age_years",
            "max_age_years",
            "requires_cervix",
            "eligibility_notes",
            "sensitive",
            "is_active",
        ]
        read_only_fields = fields


class VenueSerializer(StrictModelSerializer):
    """A place sessions are held. Every organisation may hold sessions at any active venue."""

    class Meta:
        model = Venue
        fields = [
            "id",
            "organisation",
            "name",
            "kind",
            "address",
            "town",
            "postcode",
            "latitude",
            "longitude",
            "access_notes",
            "host_contact_name",
            "host_contact_phone",
            "imd_decile",
            "is_active",
        ]
        read_only_fields = ["id", "organisation"]
        extra_kwargs = {
            # The database's range checks, stated so the schema says them too.
            "latitude": {"min_value": -90, "max_value": 90},
            "longitude": {"min_value": -180, "max_value": 180},
            "imd_decile": {"min_value": 1, "max_value": 10},
        }


class MobileUnitSerializer(StrictModelSerializer):
    supported_services = ScopedPrimaryKeyRelatedField(
        scope=_active_services, many=True, required=False
    )

    class Meta:
        model = MobileUnit
        fields = [
            "id",
            "organisation",
            "name",
            "registration",
            "capacity",
            "supported_services",
            "notes",
            "is_active",
        ]
        read_only_fields = ["id", "organisation"]
        extra_kwargs = {"capacity": {"min_value": 1, "max_value": 20}}


class StaffMemberSerializer(StrictModelSerializer):
    """A member of staff. Their user account (name, sign-in) is managed in the admin."""

    name = serializers.SerializerMethodField()
    competencies = ScopedPrimaryKeyRelatedField(scope=_active_services, many=True, required=False)

    class Meta:
        model = StaffMember
        fields = ["id", "name", "role", "organisation", "competencies", "phone", "is_active"]
        read_only_fields = ["id", "name", "organisation"]

    def get_name(self, staff: StaffMember) -> str:
        return staff.user.get_full_name() or staff.user.get_username()


class ContactPointSerializer(StrictModelSerializer):
    """A mobile number or email address; messages go only with consent and no opt-out."""

    class Meta:
        model = ContactPoint
        fields = [
            "id",
            "patient",
            "channel",
            "value",
            "is_preferred",
            "consent_given",
            "consent_recorded_at",
            "opted_out_at",
            "created_at",
        ]
        read_only_fields = ["id", "patient", "consent_recorded_at", "opted_out_at", "created_at"]
        # The service checks the uniqueness per patient once the number is normalised.
        validators: list[Any] = []


class PatientSerializer(StrictModelSerializer):
    """A person. Only `preferred_name` is required: a first name is enough to book."""

    contact_points = ContactPointSerializer(many=True, read_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "preferred_name",
            "legal_name",
            "date_of_birth",
            "year_of_birth",
            "nhs_number",
            "sex",
            "gender_identity",
            "has_cervix",
            "ethnicity",
            "housing_status",
            "postcode",
            "no_fixed_abode",
            "gp_registration",
            "gp_practice_name",
            "safe_contact_notes",
            "interpreter_language",
            "access_needs",
            "contact_points",
            "organisation",
            "merged_into",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "organisation", "merged_into", "created_at", "updated_at"]
        # Typed as printed on the card ("943 476 5919"): normalised to ten digits when saved.
        extra_kwargs = {
            "nhs_number": {"max_length": 20},
            # The database's check constraint, stated here so the schema is the same whichever
            # database generated it (the implied integer range differs between backends).
            "year_of_birth": {"min_value": 1900, "max_value": 2100},
        }

    def validate_nhs_number(self, value: str) -> str:
        value = normalise_nhs_number(value)
        if value:
            clash = Patient.objects.current().filter(nhs_number=value)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    "This NHS number is already registered. Ask a coordinator to check for a "
                    "duplicate record."
                )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = Patient(**{**self._current(), **attrs})
        try:
            candidate.clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs

    def _current(self) -> dict[str, Any]:
        if self.instance is None:
            return {}
        return {
            "no_fixed_abode": self.instance.no_fixed_abode,
            "postcode": self.instance.postcode,
            "date_of_birth": self.instance.date_of_birth,
        }
