from datetime import timedelta

import pytest
from django.contrib import messages
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from clinics.models import StaffMember
from outreach.models import Booking, OutreachSession, StaffAssignment
from outreach.services import check_in
from tests.factories import (
    BookingFactory,
    MessageFactory,
    MessageTemplateFactory,
    OrganisationFactory,
    OutreachSessionFactory,
    PatientFactory,
    ServiceTypeFactory,
    SessionSeriesFactory,
    StaffAssignmentFactory,
    StaffMemberFactory,
    VenueFactory,
    VisitOutcomeFactory,
    WaitlistEntryFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff_user(organisation, role=StaffMember.Role.COORDINATOR):
    staff = StaffMemberFactory(organisation=organisation, role=role, user__is_staff=True)
    staff.user.groups.add(Group.objects.get(name=staff.group_name))
    return staff.user


def admin_url(model, view="changelist", *args):
    return reverse(f"admin:outreach_{model}_{view}", args=args)


def run_action(client, model, action, *objects):
    return client.post(
        admin_url(model),
        {"action": action, "_selected_action": [obj.pk for obj in objects]},
        follow=True,
    )


def shown_messages(response):
    return [(message.level, message.message) for message in response.context["messages"]]


def future_session(organisation, **kwargs):
    starts_at = (timezone.now() + timedelta(days=7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    return OutreachSessionFactory(organisation=organisation, starts_at=starts_at, **kwargs)


ROWS = {
    "sessionseries": SessionSeriesFactory,
    "outreachsession": OutreachSessionFactory,
    "booking": BookingFactory,
    "visitoutcome": VisitOutcomeFactory,
    "waitlistentry": WaitlistEntryFactory,
    "messagetemplate": MessageTemplateFactory,
}
READ_ONLY_ROWS = {"staffassignment": StaffAssignmentFactory, "message": MessageFactory}


@pytest.mark.parametrize("model", sorted(ROWS))
def test_every_outreach_page_opens_for_a_superuser(admin_client, model):
    row = ROWS[model]()

    assert admin_client.get(admin_url(model)).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 200
    assert admin_client.get(admin_url(model, "change", row.pk)).status_code == 200


@pytest.mark.parametrize("model", sorted(READ_ONLY_ROWS))
def test_the_rota_and_the_outbox_are_read_only_even_for_a_superuser(admin_client, model):
    row = READ_ONLY_ROWS[model]()

    assert admin_client.get(admin_url(model)).status_code == 200
    assert admin_client.get(admin_url(model, "change", row.pk)).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "change", row.pk), {}).status_code == 403


def test_a_coordinator_sees_only_their_own_organisations_sessions_and_bookings(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    mine = BookingFactory(
        session__organisation=org_a, session__name="Food bank A", patient__preferred_name="Ann"
    )
    theirs = BookingFactory(
        session__organisation=org_b, session__name="Hostel B", patient__preferred_name="Bea"
    )
    client.force_login(staff_user(org_a))

    sessions = client.get(admin_url("outreachsession"))
    bookings = client.get(admin_url("booking"))

    assert "Food bank A" in sessions.text
    assert "Hostel B" not in sessions.text
    assert "Ann" in bookings.text
    assert "Bea" not in bookings.text
    for model, obj in (("outreachsession", theirs.session), ("booking", theirs)):
        change = client.get(admin_url(model, "change", obj.pk), follow=True)
        assert change.redirect_chain
        assert "Bea" not in change.text
        assert "Hostel B" not in change.text
        assert client.get(admin_url(model, "history", obj.pk)).status_code == 404
    assert client.get(admin_url("booking", "change", mine.pk)).status_code == 200


def test_the_session_page_lists_its_bookings_to_read(client):
    booking = BookingFactory(patient__preferred_name="Ann")
    client.force_login(staff_user(booking.session.organisation))

    response = client.get(admin_url("outreachsession", "change", booking.session.pk))

    assert response.status_code == 200
    assert "Ann" in response.text
    assert 'name="bookings-0-status"' not in response.text
    assert admin_url("booking", "change", booking.pk) in response.text


def test_an_analyst_sees_sessions_but_no_bookings_or_patients(client):
    # A name no generated session, venue or staff name can contain ("Ann" can: "Joanne").
    booking = BookingFactory(patient__preferred_name="Qwilla")
    client.force_login(staff_user(booking.session.organisation, StaffMember.Role.ANALYST))

    session_page = client.get(admin_url("outreachsession", "change", booking.session.pk))

    assert session_page.status_code == 200
    assert "Qwilla" not in session_page.text
    assert client.get(admin_url("booking")).status_code == 403


def test_booking_history_shows_who_changed_it_and_why(client):
    booking = BookingFactory()
    user = staff_user(booking.session.organisation)
    check_in(booking, by=user)
    client.force_login(user)

    response = client.get(admin_url("booking", "history", booking.pk))

    assert response.status_code == 200
    assert "Checked in" in response.text


def test_mark_arrived_checks_a_booking_in(client):
    booking = BookingFactory()
    user = staff_user(booking.session.organisation)
    client.force_login(user)

    response = run_action(client, "booking", "mark_arrived", booking)

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ARRIVED
    assert booking.arrived_at is not None
    assert booking.history.latest().history_user == user


def test_an_illegal_action_is_a_warning_naming_the_booking_not_an_error(client):
    cancelled = BookingFactory(
        status=Booking.Status.CANCELLED, cancelled_by=Booking.CancelledBy.PATIENT
    )
    booked = BookingFactory(
        session=cancelled.session, patient__organisation=cancelled.session.organisation, lane=2
    )
    client.force_login(staff_user(cancelled.session.organisation))

    response = run_action(client, "booking", "mark_arrived", cancelled, booked)

    assert response.status_code == 200
    shown = shown_messages(response)
    [warning] = [text for level, text in shown if level == messages.WARNING]
    assert warning.startswith(f"{cancelled}: ")
    assert "cannot move from 'cancelled' to 'arrived'" in warning
    assert (messages.SUCCESS, "Marked arrived: 1 booking.") in shown
    cancelled.refresh_from_db()
    booked.refresh_from_db()
    assert cancelled.status == Booking.Status.CANCELLED
    assert booked.status == Booking.Status.ARRIVED


def test_did_not_attend_waits_until_the_appointment_has_started(client):
    past = BookingFactory(session__starts_at=timezone.now() - timedelta(days=1))
    upcoming = BookingFactory(session=future_session(past.session.organisation))
    client.force_login(staff_user(past.session.organisation))

    response = run_action(client, "booking", "mark_did_not_attend", past, upcoming)

    past.refresh_from_db()
    upcoming.refresh_from_db()
    assert past.status == Booking.Status.NOSHOW
    assert upcoming.status == Booking.Status.BOOKED
    [warning] = [text for level, text in shown_messages(response) if level == messages.WARNING]
    assert warning.startswith(str(upcoming))


def test_confirm_moves_a_planned_session_and_refuses_a_cancelled_one(client):
    planned = OutreachSessionFactory()
    cancelled = OutreachSessionFactory(
        organisation=planned.organisation,
        venue=planned.venue,
        status=OutreachSession.Status.CANCELLED,
        cancellation_reason="Bus off the road",
    )
    client.force_login(staff_user(planned.organisation))

    response = run_action(client, "outreachsession", "confirm", planned, cancelled)

    planned.refresh_from_db()
    assert planned.status == OutreachSession.Status.CONFIRMED
    warnings = [text for level, text in shown_messages(response) if level == messages.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(str(cancelled))


def test_a_change_form_never_moves_the_status(client):
    booking = BookingFactory()
    user = staff_user(booking.session.organisation)
    client.force_login(user)

    response = client.post(
        admin_url("booking", "change", booking.pk),
        {
            "status": Booking.Status.FULFILLED,
            "notes": "Needs an interpreter",
            "change_reason": "Noted on the phone",
        },
    )

    assert response.status_code == 302, response.context["errors"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert booking.notes == "Needs an interpreter"
    assert booking.history.latest().history_change_reason == "Noted on the phone"


def test_a_booking_added_in_the_admin_goes_through_the_booking_service(client):
    organisation = OrganisationFactory()
    service = ServiceTypeFactory()
    session = future_session(organisation)
    session.services.add(service)
    patient = PatientFactory(organisation=organisation)
    user = staff_user(organisation)
    client.force_login(user)

    response = client.post(
        admin_url("booking", "add"),
        {
            "session": session.pk,
            "patient": patient.pk,
            "service_type": service.pk,
            "source": Booking.Source.BOOKED,
        },
    )

    assert response.status_code == 302, response.context["errors"]
    booking = Booking.objects.get()
    assert booking.starts_at == session.starts_at
    assert booking.lane == 1
    assert booking.booked_by == user
    assert booking.history.count() == 1
    assert booking.history.get().history_change_reason == "Booked"


def test_the_booking_services_refusal_is_a_form_error(client):
    organisation = OrganisationFactory()
    session = future_session(organisation)
    patient = PatientFactory(organisation=organisation)
    client.force_login(staff_user(organisation))

    response = client.post(
        admin_url("booking", "add"),
        {
            "session": session.pk,
            "patient": patient.pk,
            "service_type": ServiceTypeFactory().pk,  # not offered at this session
            "source": Booking.Source.BOOKED,
        },
    )

    assert response.status_code == 200
    assert "not offered" in str(response.context["adminform"].form.errors)
    assert not Booking.objects.exists()


def test_a_coordinator_cannot_book_another_organisations_patient(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    service = ServiceTypeFactory()
    session = future_session(org_a)
    session.services.add(service)
    theirs = PatientFactory(organisation=org_b)
    client.force_login(staff_user(org_a))

    response = client.post(
        admin_url("booking", "add"),
        {
            "session": session.pk,
            "patient": theirs.pk,
            "service_type": service.pk,
            "source": Booking.Source.BOOKED,
        },
    )

    assert response.status_code == 200
    assert "patient" in response.context["adminform"].form.errors
    assert not Booking.objects.exists()


def session_form(venue, starts_at, ends_at, **extra):
    london = timezone.get_current_timezone()
    starts, ends = starts_at.astimezone(london), ends_at.astimezone(london)
    return {
        "name": "Food bank clinic",
        "venue": venue.pk,
        "mobile_unit": "",
        "starts_at_0": starts.date().isoformat(),
        "starts_at_1": starts.strftime("%H:%M"),
        "ends_at_0": ends.date().isoformat(),
        "ends_at_1": ends.strftime("%H:%M"),
        "services": [ServiceTypeFactory().pk],
        "booking_mode": "mixed",
        "slot_minutes": "15",
        "lanes": "1",
        "walk_in_share_percent": "0",
        "minimum_notice_minutes": "0",
        "audience": "everyone",
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
        **extra,
    }


def test_the_rota_takes_its_times_from_the_session(client):
    organisation = OrganisationFactory()
    nurse = StaffMemberFactory(organisation=organisation)
    venue = VenueFactory(organisation=organisation)
    starts_at = timezone.now().replace(microsecond=0, second=0, minute=0) + timedelta(days=3)
    client.force_login(staff_user(organisation))

    response = client.post(
        admin_url("outreachsession", "add"),
        session_form(
            venue,
            starts_at,
            starts_at + timedelta(hours=4),
            **{"assignments-TOTAL_FORMS": "1", "assignments-0-staff": nurse.pk},
        ),
    )

    assert response.status_code == 302, response.context["errors"]
    session = OutreachSession.objects.get()
    assert session.organisation == organisation
    assignment = StaffAssignment.objects.get()
    assert (assignment.staff, assignment.starts_at, assignment.ends_at, assignment.is_live) == (
        nurse,
        session.starts_at,
        session.ends_at,
        True,
    )


def test_moving_a_session_moves_its_rota(client):
    assignment = StaffAssignmentFactory()
    session = assignment.session
    client.force_login(staff_user(session.organisation))
    later = session.starts_at + timedelta(days=1)

    response = client.post(
        admin_url("outreachsession", "change", session.pk),
        session_form(
            session.venue,
            later,
            later + timedelta(hours=2),
            **{
                "assignments-TOTAL_FORMS": "1",
                "assignments-INITIAL_FORMS": "1",
                "assignments-0-id": assignment.pk,
                "assignments-0-session": session.pk,
                "assignments-0-staff": assignment.staff_id,
                "bookings-TOTAL_FORMS": "0",
                "bookings-INITIAL_FORMS": "0",
            },
        ),
    )

    assert response.status_code == 302, response.context["errors"]
    assignment.refresh_from_db()
    assert (assignment.starts_at, assignment.ends_at) == (later, later + timedelta(hours=2))


def test_a_nurse_already_working_elsewhere_is_refused_with_a_reason(client):
    elsewhere = StaffAssignmentFactory()
    organisation = elsewhere.session.organisation
    client.force_login(staff_user(organisation))

    response = client.post(
        admin_url("outreachsession", "add"),
        session_form(
            VenueFactory(organisation=organisation),
            elsewhere.starts_at,
            elsewhere.ends_at,
            **{"assignments-TOTAL_FORMS": "1", "assignments-0-staff": elsewhere.staff_id},
        ),
    )

    assert response.status_code == 200
    assert "already working" in response.text
    assert OutreachSession.objects.count() == 1


def test_the_outbox_list_masks_phone_numbers(client):
    message = MessageFactory(to="+447911123456")
    client.force_login(staff_user(message.organisation))

    response = client.get(admin_url("message"))

    assert response.status_code == 200
    assert "***456" in response.text
    assert "7911123456" not in response.text


@pytest.mark.parametrize("rows", [5, 30])
def test_booking_list_queries_do_not_grow_with_rows(client, django_assert_max_num_queries, rows):
    session = OutreachSessionFactory(lanes=20)
    service = ServiceTypeFactory()
    for index in range(rows):
        BookingFactory(
            session=session,
            service_type=service,
            patient__organisation=session.organisation,
            starts_at=session.starts_at + timedelta(minutes=15 * (index // 20)),
            lane=index % 20 + 1,
        )
    client.force_login(staff_user(session.organisation))

    with django_assert_max_num_queries(10):
        response = client.get(admin_url("booking"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows
