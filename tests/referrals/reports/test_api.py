"""GET /api/v1/reports/: analysts' own tools get the same suppressed aggregates as the pages."""

import pytest

from outreach.models import Booking
from tests import factories
from tests.api_support import assert_error
from tests.referrals.reports.conftest import london

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/uptake/"
PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


@pytest.fixture
def bookings(organisation, other_organisation, book):
    venue = factories.VenueFactory(organisation=organisation, name="Alpha hostel", imd_decile=1)
    service = factories.ServiceTypeFactory(name="Health check")
    session = factories.OutreachSessionFactory(
        organisation=organisation, venue=venue, starts_at=london(2026, 3, 10, 10)
    )
    for _ in range(6):
        book(session, service, Booking.Status.FULFILLED)
    book(session, service, Booking.Status.NOSHOW)
    theirs = factories.OutreachSessionFactory(
        organisation=other_organisation,
        venue=factories.VenueFactory(organisation=other_organisation),
        starts_at=london(2026, 3, 10, 10),
    )
    for _ in range(9):
        book(theirs, service, Booking.Status.NOSHOW)


def test_an_analyst_gets_the_report_as_json_with_small_numbers_suppressed(
    bookings, analyst, client_for
):
    response = client_for(analyst).get(URL, {**PERIOD, "by": "venue"})

    assert response.status_code == 200
    body = response.json()
    assert body["report"] == "uptake"
    assert body["split"] == "venue"
    assert (body["from"], body["to"]) == ("2026-01-01", "2026-06-30")
    (row,) = body["rows"]
    assert row["label"] == "Alpha hostel"
    assert (row["booked"], row["attended"], row["no_show"]) == (7, 6, "<5")
    assert row["uptake_rate"] is None  # 6 of 7 gives away the 1 who did not come
    assert body["total"]["booked"] == 7  # the other organisation's nine are not there
    assert {column["key"] for column in body["columns"]} >= {"booked", "uptake_rate"}


def test_the_list_names_every_report_and_its_splits(analyst, client_for):
    body = client_for(analyst).get("/api/v1/reports/").json()

    assert [report["name"] for report in body] == ["uptake", "referrals", "screening"]
    uptake = body[0]
    assert [split["key"] for split in uptake["splits"]] == [
        "service", "venue", "month", "deprivation", "ethnicity", "housing", "sex"
    ]  # fmt: skip


def test_a_nurse_may_not_see_reports(nurse_client):
    assert_error(nurse_client.get(URL), 403, "permission_denied")
    assert_error(nurse_client.get("/api/v1/reports/"), 403, "permission_denied")


def test_signed_out_is_refused(client):
    # 401 naming the bearer scheme, as every API endpoint since API tokens.
    assert_error(client.get(URL), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-06-01", "to": "2026-01-01"}, "to"),
        ({"by": "destination"}, "by"),
        ({"by": "nonsense"}, "by"),
    ],
)
def test_bad_filters_get_field_errors(coordinator_client, query, field):
    body = assert_error(coordinator_client.get(URL, query), 400)

    assert field in body["fields"], body


def test_an_unknown_report_is_not_found(coordinator_client):
    assert_error(coordinator_client.get("/api/v1/reports/nothing/"), 404, "not_found")


def test_the_referrals_and_screening_reports_answer(coordinator_client, clock):
    referrals = coordinator_client.get("/api/v1/reports/referrals/", {"by": "sex"}).json()
    screening = coordinator_client.get("/api/v1/reports/screening/").json()

    assert referrals["split"] == "sex"
    assert referrals["total"]["sent"] == 0
    assert referrals["total"]["median_days"] is None
    # The default period: this month and the eleven before it, in London.
    assert (screening["from"], screening["to"]) == ("2025-07-01", "2026-06-01")
    assert screening["split"] == "ethnicity"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("coordinator", True), ("admin", True), ("analyst", True), ("nurse", False), ("hca", False)],
)
def test_reports_are_for_coordinators_admins_and_analysts(organisation, make_staff, role, allowed):
    from referrals.reports.access import can_see_reports

    staff = make_staff(organisation, role)

    assert staff.user.has_perm("referrals.view_reports") is allowed
    assert can_see_reports(staff.user) is allowed
