"""Cervical screening coverage among the eligible people seen."""

from datetime import date

import pytest

from clinics.models import Patient
from outreach.models import Booking, VisitOutcome
from referrals.reports import get_report
from referrals.reports.measures import age_between
from tests import factories
from tests.referrals.reports.conftest import PERIOD, london

pytestmark = pytest.mark.django_db

S = Booking.Status
F, M = Patient.Sex.FEMALE, Patient.Sex.MALE
INDIAN = Patient.Ethnicity.ASIAN_INDIAN


def counts(table):
    return {row.label: (row.values["eligible"], row.values["screened"]) for row in table.rows}


@pytest.fixture
def screening(organisation, other_organisation, book):
    cervical = factories.ServiceTypeFactory(
        name="Cervical screening", requires_cervix=True, min_age_years=25, max_age_years=64
    )
    check = factories.ServiceTypeFactory(name="Health check")
    alpha = factories.VenueFactory(organisation=organisation, imd_decile=1)
    beta = factories.VenueFactory(organisation=organisation, imd_decile=7)
    at_alpha = factories.OutreachSessionFactory(
        organisation=organisation, venue=alpha, starts_at=london(2026, 3, 2, 10)
    )
    at_beta = factories.OutreachSessionFactory(
        organisation=organisation, venue=beta, starts_at=london(2026, 5, 4, 10)
    )

    def person(**fields):
        return factories.PatientFactory(organisation=organisation, **fields)

    # Eligible, seen for a health check only, at both venues: the most deprived counts.
    p1 = person(sex=F, year_of_birth=1990)
    book(at_alpha, check, patient=p1)
    book(at_beta, check, patient=p1)
    # 25 on the last day of the period: eligible, and screened.
    book(at_beta, cervical, patient=person(sex=F, date_of_birth=date(2001, 6, 30)))
    # 24 on the last day: not eligible.
    book(at_beta, cervical, patient=person(sex=F, date_of_birth=date(2001, 7, 1)))
    # Has a cervix whatever the recorded sex: eligible and screened (no outcome recorded).
    book(at_beta, cervical, patient=person(sex=M, has_cervix=True, year_of_birth=1980))
    # Female with no cervix: not eligible.
    book(at_beta, check, patient=person(sex=F, has_cervix=False, year_of_birth=1980))
    # 64 until 1 July 2026: eligible, but declined on the day.
    declined = book(at_beta, cervical, patient=person(sex=F, date_of_birth=date(1961, 7, 1)))
    factories.VisitOutcomeFactory(booking=declined, outcome=VisitOutcome.Outcome.DECLINED)
    # 65 on the last day: not eligible.
    book(at_beta, check, patient=person(sex=F, date_of_birth=date(1961, 6, 30)))
    # Age not known: not counted.
    book(at_beta, check, patient=person(sex=F, year_of_birth=None))
    # Missed the screening appointment but seen for something else: eligible, not screened.
    p9 = person(sex=F, year_of_birth=1985)
    book(at_alpha, cervical, S.NOSHOW, patient=p9)
    book(at_beta, check, patient=p9)
    # Arrived for screening but not seen yet: eligible, not screened.
    book(at_beta, cervical, S.ARRIVED, patient=person(sex=F, year_of_birth=1990))
    # Screened in the period, four of them at the most deprived venue... one of them.
    book(at_alpha, cervical, patient=person(sex=F, year_of_birth=1995, ethnicity=INDIAN))
    for _ in range(3):
        book(at_beta, cervical, patient=person(sex=F, year_of_birth=1995, ethnicity=INDIAN))
    # Not seen in the period at all; seen only by another organisation.
    december = factories.OutreachSessionFactory(
        organisation=organisation, venue=alpha, starts_at=london(2025, 12, 1, 10)
    )
    book(december, cervical, patient=person(sex=F, year_of_birth=1990))
    theirs = factories.OutreachSessionFactory(
        organisation=other_organisation,
        venue=factories.VenueFactory(organisation=other_organisation),
        starts_at=london(2026, 3, 2, 10),
    )
    book(theirs, cervical, patient=factories.PatientFactory(
        organisation=other_organisation, sex=F, year_of_birth=1990
    ))  # fmt: skip
    return cervical


def test_coverage_counts_eligible_people_seen_and_those_screened(screening, coordinator):
    table = get_report("screening").table(coordinator.user, PERIOD, "ethnicity")

    assert table.total.values["eligible"] == 10
    assert table.total.values["screened"] == 6
    assert table.total.values["coverage"].value == 0.6
    assert table.total.values["coverage"].shown() is None  # 6 of 10 gives away the 4 not screened
    assert counts(table) == {"Asian or Asian British: Indian": (4, 4), "Not recorded": (6, 2)}
    assert table.rows[0].values["coverage"].shown() is None  # 4 of 4: suppressed
    assert "Cervical screening" in table.notes[0]


def test_coverage_by_deprivation_sex_and_housing(screening, coordinator):
    report = get_report("screening")
    user = coordinator.user

    assert counts(report.table(user, PERIOD, "deprivation")) == {
        "1 (most deprived)": (2, 1),
        "7": (8, 5),
    }
    assert counts(report.table(user, PERIOD, "sex")) == {"Female": (9, 5), "Male": (1, 1)}
    assert counts(report.table(user, PERIOD, "housing")) == {"Not known": (10, 6)}


def test_without_a_screening_service_the_report_says_so(coordinator):
    table = get_report("screening").table(coordinator.user, PERIOD, "ethnicity")

    assert table.rows == []
    assert table.total.values["eligible"] == 0
    assert "No screening service" in table.notes[0]


@pytest.mark.parametrize(
    ("fields", "eligible"),
    [
        ({"date_of_birth": date(2001, 6, 30)}, True),
        ({"date_of_birth": date(2001, 7, 1)}, False),
        ({"date_of_birth": date(1961, 7, 1)}, True),
        ({"date_of_birth": date(1961, 6, 30)}, False),
        ({"year_of_birth": 2001}, True),
        ({"year_of_birth": 2002}, False),
        ({"year_of_birth": 1962}, True),
        ({"year_of_birth": 1961}, False),
        ({"year_of_birth": None}, False),
    ],
)
def test_the_age_rule_matches_the_patients_own_age(organisation, fields, eligible):
    patient = factories.PatientFactory(organisation=organisation, **fields)
    on = date(2026, 6, 30)

    found = Patient.objects.filter(age_between(on, 25, 64), pk=patient.pk).exists()

    assert found is eligible
    age = patient.age_on(on)
    assert eligible == (age is not None and 25 <= age <= 64)


def test_the_age_rule_on_29_february(organisation):
    leapling = factories.PatientFactory(organisation=organisation, date_of_birth=date(2003, 3, 1))

    assert not Patient.objects.filter(age_between(date(2028, 2, 29), 25, None)).exists()
    assert Patient.objects.filter(age_between(date(2028, 3, 1), 25, None), pk=leapling.pk).exists()
