"""The database refuses what the clinics models forbid, whatever the Python code above it does.

Rows are written with `queryset.update()` so that no `clean()`, validator or `save()` normalising
stands between the test and the database: what is asserted is the schema itself.
"""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, models, transaction
from django.db.models import F

from clinics.governance import AccessLogEntry
from clinics.models import ContactPoint, Organisation, Patient
from tests import factories
from tests.constraint_checks import (
    assert_accepted,
    assert_refused,
    case_ids,
    declared_constraints,
)

pytestmark = pytest.mark.django_db


RECORDED = factories.BASE_TIME

Values = dict[str, Any] | Callable[[models.Model], dict[str, Any]]


def _other_patient(patient: Patient) -> Patient:
    return factories.PatientFactory(organisation=patient.organisation)


# (constraint, factory, a row it refuses, a boundary row it accepts)
CHECK_CASES = [
    ("organisation_kind_valid", factories.OrganisationFactory, {"kind": "hospital"},
     {"kind": "voluntary"}),
    ("servicetype_duration_range", factories.ServiceTypeFactory,
     {"default_duration_minutes": 4}, {"default_duration_minutes": 5}),
    ("servicetype_duration_range", factories.ServiceTypeFactory,
     {"default_duration_minutes": 241}, {"default_duration_minutes": 240}),
    ("servicetype_age_range_ordered", factories.ServiceTypeFactory,
     {"min_age_years": 50, "max_age_years": 49}, {"min_age_years": 50, "max_age_years": 50}),
    ("servicetype_age_range_ordered", factories.ServiceTypeFactory,
     {"min_age_years": 50, "max_age_years": 0}, {"min_age_years": 50, "max_age_years": None}),
    ("staffmember_role_valid", factories.StaffMemberFactory, {"role": "doctor"},
     {"role": "analyst"}),
    ("mobileunit_capacity_range", factories.MobileUnitFactory, {"capacity": 0}, {"capacity": 1}),
    ("mobileunit_capacity_range", factories.MobileUnitFactory, {"capacity": 21},
     {"capacity": 20}),
    ("venue_kind_valid", factories.VenueFactory, {"kind": "pub"}, {"kind": "other"}),
    ("venue_imd_decile_range", factories.VenueFactory, {"imd_decile": 0}, {"imd_decile": 1}),
    ("venue_imd_decile_range", factories.VenueFactory, {"imd_decile": 11}, {"imd_decile": 10}),
    ("venue_latitude_range", factories.VenueFactory,
     {"latitude": Decimal("90.000001"), "longitude": Decimal("0")},
     {"latitude": Decimal("90"), "longitude": Decimal("0")}),
    ("venue_latitude_range", factories.VenueFactory,
     {"latitude": Decimal("-90.000001"), "longitude": Decimal("0")},
     {"latitude": Decimal("-90"), "longitude": Decimal("0")}),
    ("venue_longitude_range", factories.VenueFactory,
     {"latitude": Decimal("52.57"), "longitude": Decimal("180.000001")},
     {"latitude": Decimal("52.57"), "longitude": Decimal("180")}),
    ("venue_longitude_range", factories.VenueFactory,
     {"latitude": Decimal("52.57"), "longitude": Decimal("-180.000001")},
     {"latitude": Decimal("52.57"), "longitude": Decimal("-180")}),
    ("venue_coordinates_paired", factories.VenueFactory,
     {"latitude": Decimal("52.57"), "longitude": None},
     {"latitude": None, "longitude": None}),
    ("venue_coordinates_paired", factories.VenueFactory,
     {"latitude": None, "longitude": Decimal("-0.24")},
     {"latitude": Decimal("52.57"), "longitude": Decimal("-0.24")}),
    ("patient_housing_status_valid", factories.PatientFactory, {"housing_status": "castle"},
     {"housing_status": "rough_sleeping"}),
    ("patient_gp_registration_valid", factories.PatientFactory, {"gp_registration": "maybe"},
     {"gp_registration": "no"}),
    ("patient_sex_valid", factories.PatientFactory, {"sex": "f"}, {"sex": ""}),
    ("patient_sex_valid", factories.PatientFactory, {"sex": "F"}, {"sex": "female"}),
    ("patient_ethnicity_valid", factories.PatientFactory, {"ethnicity": "ZZ"},
     {"ethnicity": ""}),
    ("patient_ethnicity_valid", factories.PatientFactory, {"ethnicity": "a"},
     {"ethnicity": "99"}),
    ("patient_preferred_name_required", factories.PatientFactory, {"preferred_name": ""},
     {"preferred_name": "J"}),
    ("patient_nhs_number_ten_digits", factories.PatientFactory, {"nhs_number": "943476591"},
     {"nhs_number": ""}),
    ("patient_nhs_number_ten_digits", factories.PatientFactory, {"nhs_number": "943 476 59"},
     {"nhs_number": "9434765919"}),
    ("patient_nhs_number_ten_digits", factories.PatientFactory, {"nhs_number": "94347659X9"},
     {"nhs_number": "0000000000"}),
    ("patient_no_fixed_abode_has_no_postcode", factories.PatientFactory,
     {"no_fixed_abode": True, "postcode": "PE1 1HF"}, {"no_fixed_abode": True, "postcode": ""}),
    ("patient_no_fixed_abode_has_no_postcode", factories.PatientFactory,
     {"no_fixed_abode": True, "postcode": "PE1 1HF"},
     {"no_fixed_abode": False, "postcode": "PE1 1HF"}),
    ("patient_year_of_birth_range", factories.PatientFactory, {"year_of_birth": 1899},
     {"year_of_birth": 1900}),
    ("patient_year_of_birth_range", factories.PatientFactory, {"year_of_birth": 2101},
     {"year_of_birth": 2100}),
    ("patient_not_merged_into_itself", factories.PatientFactory,
     {"merged_into_id": F("id")}, lambda p: {"merged_into": _other_patient(p)}),
    ("contactpoint_channel_valid", factories.ContactPointFactory, {"channel": "fax"},
     {"channel": "email"}),
    ("contactpoint_consent_has_time", factories.ContactPointFactory,
     {"consent_given": True, "consent_recorded_at": None},
     {"consent_given": False, "consent_recorded_at": None}),
    ("datasharingagreement_ends_after_start", factories.DataSharingAgreementFactory,
     lambda a: {"ends_on": a.starts_on}, lambda a: {"ends_on": a.starts_on + timedelta(days=1)}),
    ("datasharingagreement_not_with_itself", factories.DataSharingAgreementFactory,
     lambda a: {"receiving_organisation": a.sharing_organisation},
     lambda a: {"receiving_organisation": factories.OrganisationFactory()}),
    ("datasharingagreement_records_valid", factories.DataSharingAgreementFactory,
     {"records": "everything"}, {"records": "patients"}),
    ("apitoken_expires_after_creation", factories.ApiTokenFactory,
     {"expires_at": F("created_at")},
     lambda t: {"expires_at": t.created_at + timedelta(seconds=1)}),
    ("apitoken_revoker_has_time", factories.ApiTokenFactory,
     lambda t: {"revoked_by": t.user, "revoked_at": None},
     lambda t: {"revoked_by": t.user, "revoked_at": t.created_at}),
]  # fmt: skip

UNIQUE_TESTED = {
    "organisation_ods_code_unique",
    "patient_nhs_number_unique",
    "contactpoint_unique_per_patient",
    # test_access_log_append.py: test_the_database_refuses_a_fork_in_the_chain
    "accesslogentry_one_successor",
}


@pytest.mark.parametrize(
    ("name", "factory", "refused", "accepted"), CHECK_CASES, ids=case_ids(CHECK_CASES)
)
def test_check_constraint_refuses_a_violating_row(name, factory, refused, accepted):
    assert_refused(name, factory, refused)


@pytest.mark.parametrize(
    ("name", "factory", "refused", "accepted"), CHECK_CASES, ids=case_ids(CHECK_CASES)
)
def test_check_constraint_accepts_the_boundary_row(name, factory, refused, accepted):
    assert_accepted(factory, accepted)


# The access log cannot be updated, so its checks are tested on insert.
INSERT_CASES = [
    ("accesslogentry_action_valid", {"action": "peek"}),
    ("accesslogentry_via_valid", {"via": "fax"}),
]


@pytest.mark.parametrize(("name", "refused"), INSERT_CASES)
def test_the_access_log_refuses_an_unknown_action_or_channel(name, refused):
    fields = {"action": "view", "via": "api", "previous_hash": "0" * 64, "entry_hash": name}
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        AccessLogEntry.objects.bulk_create([AccessLogEntry(**{**fields, **refused})])


def test_every_clinics_constraint_has_a_test():
    declared = declared_constraints("clinics")
    tested = {case[0] for case in CHECK_CASES} | UNIQUE_TESTED | {c[0] for c in INSERT_CASES}
    assert declared == tested


def test_two_organisations_cannot_share_an_ods_code():
    factories.OrganisationFactory(ods_code="RGN")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.OrganisationFactory(ods_code="RGN")


def test_many_organisations_may_have_no_ods_code():
    factories.OrganisationFactory(ods_code="")
    factories.OrganisationFactory(ods_code="")
    assert Organisation.objects.filter(ods_code="").count() == 2


def test_two_live_patients_cannot_share_an_nhs_number_even_across_organisations():
    factories.PatientFactory(nhs_number="9434765919")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.PatientFactory(nhs_number="9434765919")


def test_a_merged_duplicate_keeps_its_nhs_number_for_audit():
    survivor = factories.PatientFactory(nhs_number="9434765919")
    duplicate = factories.PatientFactory(organisation=survivor.organisation)
    Patient.objects.filter(pk=duplicate.pk).update(nhs_number="9434765919", merged_into=survivor)
    assert Patient.objects.filter(nhs_number="9434765919").count() == 2
    assert list(Patient.objects.current().filter(nhs_number="9434765919")) == [survivor]


def test_a_merged_duplicate_cannot_come_back_to_life_with_the_same_nhs_number():
    survivor = factories.PatientFactory(nhs_number="9434765919")
    duplicate = factories.PatientFactory(nhs_number="", organisation=survivor.organisation)
    Patient.objects.filter(pk=duplicate.pk).update(nhs_number="9434765919", merged_into=survivor)
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        Patient.objects.filter(pk=duplicate.pk).update(merged_into=None)


def test_many_patients_may_have_no_nhs_number():
    factories.PatientFactory(nhs_number="")
    factories.PatientFactory(nhs_number="")
    assert Patient.objects.filter(nhs_number="").count() == 2


def test_a_patient_cannot_have_the_same_contact_point_twice():
    first = factories.ContactPointFactory(value="+447700900123")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.ContactPointFactory(patient=first.patient, value="+447700900123")


def test_two_patients_may_share_a_phone_number():
    first = factories.ContactPointFactory(value="+447700900123")
    factories.ContactPointFactory(value="+447700900123")
    assert ContactPoint.objects.filter(value=first.value).count() == 2
