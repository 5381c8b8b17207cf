"""The referrals API: making a referral in one call, every transition as an action, exports."""

import importlib
from datetime import date, timedelta
from itertools import product

import pytest
import time_machine
from django.forms.models import model_to_dict

from clinics.models import StaffMember
from clinics.services import SYSTEM_USERNAME
from outreach.models import Message, VisitOutcome
from referrals import services
from referrals.fhir import NHS_NUMBER_SYSTEM
from referrals.models import Destination, Referral, ReferralRule
from tests import factories
from tests.referrals.conftest import NOW, assert_error, post_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

REFERRALS = "/api/v1/referrals/"
S = Referral.Status


def _url(referral: Referral, action: str = "") -> str:
    return f"{REFERRALS}{referral.pk}/{action + '/' if action else ''}"


def _create(client, patient, destination, **extra):
    body = {
        "patient": patient.pk,
        "destination": destination.pk,
        "reason": "Reactive dry blood spot test.",
        "consent_to_share": True,
        "consent_method": "verbal",
        **extra,
    }
    return post_json(client, REFERRALS, body)


# --- Making a referral ----------------------------------------------------------------------


def test_a_nurse_refers_from_a_visit_outcome_in_one_call(nurse_client, nurse, destination):
    outcome = factories.VisitOutcomeFactory(
        booking__session__organisation=nurse.organisation,
        result=VisitOutcome.Result.REACTIVE,
    )
    response = post_json(
        nurse_client,
        REFERRALS,
        {
            "source_outcome": outcome.pk,
            "destination": destination.pk,
            "reason": "Reactive hepatitis C antibody.",
            "priority": "urgent",
            "consent_to_share": True,
            "consent_method": "verbal",
            "send": True,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["patient"] == outcome.booking.patient_id
    assert body["source_booking"] == outcome.booking_id
    assert body["source_session"] == outcome.booking.session_id
    assert body["status"] == "sent"
    # Urgent: two days, sooner than the destination's fourteen.
    assert body["due_date"] == "2026-06-03"
    referral = Referral.objects.get(pk=body["id"])
    assert referral.consent_recorded_by == nurse.user
    assert referral.consent_recorded_at == NOW
    assert referral.consent_method == "verbal"


@pytest.mark.parametrize(
    ("priority", "due"),
    [("routine", "2026-06-15"), ("urgent", "2026-06-03"), ("two_week_wait", "2026-06-15")],
)
def test_the_priority_sets_the_due_date_from_the_response_target(
    nurse_client, patient, destination, priority, due
):
    response = _create(nurse_client, patient, destination, priority=priority, send=True)
    assert response.status_code == 201, response.content
    assert response.json()["due_date"] == due


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent_to_share": False}, "consent_to_share"),
        ({"consent_method": ""}, "consent_method"),
        ({"destination": 999999}, "destination"),
        ({"priority": "asap"}, "priority"),
        ({"patient": None}, "patient"),
    ],
    ids=["no-consent", "consent-method-missing", "unknown-destination", "bad-priority", "no-one"],
)
def test_bad_input_is_refused_with_a_clear_400_and_nothing_is_made(
    nurse_client, patient, destination, change, field
):
    body = {
        "patient": patient.pk,
        "destination": destination.pk,
        "reason": "Reason",
        "consent_to_share": True,
        "consent_method": "verbal",
        **change,
    }
    body = {key: value for key, value in body.items() if value is not None}
    response = post_json(nurse_client, REFERRALS, body)
    error = assert_error(response, 400, "invalid")
    assert field in error["fields"]
    assert not Referral.objects.exists()


def test_an_inactive_destination_is_refused(nurse_client, patient, destination):
    destination.is_active = False
    destination.save()
    assert_error(_create(nurse_client, patient, destination), 400, "invalid")
    assert not Referral.objects.exists()


def test_another_organisations_patient_reads_as_unknown(nurse_client, destination):
    stranger = factories.PatientFactory()
    error = assert_error(_create(nurse_client, stranger, destination), 400)
    assert "patient" in error["fields"]


@pytest.mark.parametrize("field", ["source_booking", "source_outcome"])
def test_a_referral_from_a_sensitive_visit_needs_the_permission(
    nurse_client, coordinator_client, organisation, destination, field
):
    outcome = factories.VisitOutcomeFactory(
        booking__session__organisation=organisation, booking__service_type__sensitive=True
    )
    source = outcome.booking if field == "source_booking" else outcome
    body = {
        field: source.pk,
        "destination": destination.pk,
        "reason": "Abnormal cytology.",
        "consent_to_share": True,
        "consent_method": "verbal",
    }

    # To a nurse without the permission the visit reads as an id that does not exist.
    error = assert_error(post_json(nurse_client, REFERRALS, body), 400, "invalid")
    assert error["fields"] == {field: [f"No such record: {source.pk}."]}
    assert not Referral.objects.exists()

    made = post_json(coordinator_client, REFERRALS, body)
    assert made.status_code == 201, made.content
    assert made.json()["source_booking"] == outcome.booking_id


def test_malformed_json_is_a_400_not_a_500(nurse_client):
    response = nurse_client.post(REFERRALS, "{not json", content_type="application/json")
    assert_error(response, 400)


# --- Every transition through the API ------------------------------------------------------

ACTIONS = {
    S.SENT: ("send", {}),
    S.ACCEPTED: ("accept", {}),
    S.REJECTED: ("reject", {"rejection_reason": "no_capacity"}),
    S.BOOKED: ("book", {"appointment_at": "2026-06-10T09:30:00Z"}),
    S.ATTENDED: ("attend", {}),
    S.CLOSED: ("close", {"notes": "Treatment started."}),
    S.WITHDRAWN: ("withdraw", {"reason": "Moved away."}),
    S.LOST: ("lost", {"reason": "No trace after three calls."}),
}
IN_STATUS = {
    **{status: {"sent_at": NOW} for status in S.values if status not in ("draft", "withdrawn")},
    S.REJECTED: {"sent_at": NOW, "rejection_reason": "duplicate"},
}
ALL_PAIRS = [
    pytest.param(start, to, id=f"{start}->{to}") for start, to in product(S.values, ACTIONS)
]


@pytest.mark.parametrize(("start", "to"), ALL_PAIRS)
def test_every_from_to_pair_through_the_api(coordinator_client, coordinator, start, to):
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, status=start, **IN_STATUS.get(start, {})
    )
    before = model_to_dict(Referral.objects.get(pk=referral.pk))
    history_before = referral.history.count()
    action, body = ACTIONS[to]

    response = post_json(coordinator_client, _url(referral, action), body)

    if to in Referral.NEXT_STATUSES[start]:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == to
        latest = referral.history.first()
        assert latest.status == to
        assert latest.history_user == coordinator.user
        assert referral.history.count() == history_before + 1
    else:
        error = assert_error(response, 409, "illegal_transition")
        assert error["current"] == start
        assert error["allowed"] == sorted(Referral.NEXT_STATUSES[start])
        assert model_to_dict(Referral.objects.get(pk=referral.pk)) == before
        assert referral.history.count() == history_before


def test_a_stale_expected_status_is_refused(coordinator_client, coordinator):
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, status=S.ACCEPTED, sent_at=NOW
    )
    response = post_json(
        coordinator_client,
        _url(referral, "withdraw"),
        {"reason": "Duplicate", "expected_status": "sent"},
    )
    error = assert_error(response, 409, "stale_status")
    assert error["current"] == "accepted"
    referral.refresh_from_db()
    assert referral.status == S.ACCEPTED


def test_rejecting_needs_a_coded_reason(coordinator_client, coordinator):
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, status=S.SENT, sent_at=NOW
    )
    assert_error(post_json(coordinator_client, _url(referral, "reject"), {}), 400, "invalid")
    assert_error(
        post_json(coordinator_client, _url(referral, "reject"), {"rejection_reason": "meh"}),
        400,
    )
    referral.refresh_from_db()
    assert referral.status == S.SENT


def test_sending_without_consent_is_refused_and_changes_nothing(coordinator_client, coordinator):
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation,
        consent_to_share=False,
        consent_method="",
        consent_recorded_at=None,
    )
    assert_error(post_json(coordinator_client, _url(referral, "send")), 400, "consent_required")
    referral.refresh_from_db()
    assert referral.status == S.DRAFT


def test_a_rejected_referral_is_re_referred_as_a_new_linked_one(coordinator_client, coordinator):
    rejected = factories.ReferralFactory(
        organisation=coordinator.organisation,
        status=S.REJECTED,
        sent_at=NOW,
        rejection_reason="not_eligible",
    )
    other = factories.DestinationFactory(name="Another clinic")
    response = post_json(
        coordinator_client,
        _url(rejected, "re-refer"),
        {"destination": other.pk, "consent_to_share": True, "consent_method": "written"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["previous_referral"] == rejected.pk
    assert body["destination"] == other.pk
    assert body["status"] == "draft"
    assert body["patient"] == rejected.patient_id
    # Only a rejected one can be re-referred.
    open_one = factories.ReferralFactory(organisation=coordinator.organisation)
    assert_error(
        post_json(
            coordinator_client,
            _url(open_one, "re-refer"),
            {"consent_to_share": True, "consent_method": "verbal"},
        ),
        409,
        "not_rejected",
    )


def test_another_organisations_referral_is_not_found(coordinator_client):
    stranger = factories.ReferralFactory()
    assert_error(coordinator_client.get(_url(stranger)), 404)
    assert_error(post_json(coordinator_client, _url(stranger, "send")), 404)


def test_an_analyst_cannot_move_a_referral(organisation, make_staff, client_for):
    analyst = make_staff(organisation, StaffMember.Role.ANALYST)
    referral = factories.ReferralFactory(organisation=organisation)
    response = post_json(client_for(analyst), _url(referral, "send"))
    assert response.status_code in (403, 404)
    referral.refresh_from_db()
    assert referral.status == S.DRAFT


# --- Chasing ---------------------------------------------------------------------------------


def test_chases_are_logged_and_enough_failures_lose_the_referral(
    coordinator_client, coordinator, settings
):
    settings.OUTREACH_REFERRAL_MAX_FAILED_CHASES = 2
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, status=S.SENT, sent_at=NOW
    )
    url = _url(referral, "chases")
    first = post_json(coordinator_client, url, {"channel": "phone", "outcome": "no_answer"})
    assert first.status_code == 201, first.content
    referral.refresh_from_db()
    assert referral.status == S.SENT
    post_json(coordinator_client, url, {"channel": "email", "outcome": "left_message"})
    referral.refresh_from_db()
    assert referral.status == S.LOST
    assert "No answer after 2 chases" in referral.outcome_notes
    assert referral.history.first().history_user == coordinator.user
    listed = coordinator_client.get(url).json()
    # Newest first (same frozen time, so by id).
    assert [chase["channel"] for chase in listed] == ["email", "phone"]
    # A lost referral is no longer chased.
    assert_error(
        post_json(coordinator_client, url, {"channel": "phone", "outcome": "no_answer"}),
        409,
        "not_chaseable",
    )


def test_a_chase_that_got_an_answer_does_not_count(coordinator_client, coordinator, settings):
    settings.OUTREACH_REFERRAL_MAX_FAILED_CHASES = 1
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, status=S.SENT, sent_at=NOW
    )
    post_json(
        coordinator_client, _url(referral, "chases"), {"channel": "phone", "outcome": "response"}
    )
    referral.refresh_from_db()
    assert referral.status == S.SENT


# --- History, FHIR and the summary ----------------------------------------------------------


def test_history_shows_who_did_what_including_the_system_user(coordinator_client, coordinator):
    referral = factories.ReferralFactory(organisation=coordinator.organisation)
    post_json(coordinator_client, _url(referral, "send"))
    with time_machine.travel(NOW + timedelta(days=20), tick=False):
        services.mark_overdue_referrals()
    entries = coordinator_client.get(_url(referral, "history")).json()
    assert [entry["type"] for entry in entries] == ["created", "changed", "changed"]
    sent, overdue = entries[1], entries[2]
    assert sent["by"] == (coordinator.user.get_full_name() or coordinator.user.username)
    assert {"field": "status", "old": "draft", "new": "sent"} in sent["changes"]
    assert overdue["by"] == "Outreach (automatic)"
    assert overdue["reason"].startswith("Overdue")
    assert referral.history.first().history_user.username == SYSTEM_USERNAME


def test_fhir_service_request_is_uk_core_shaped(coordinator_client, coordinator):
    patient = factories.PatientFactory(
        organisation=coordinator.organisation, nhs_number="9434765919"
    )
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation,
        patient=patient,
        priority=Referral.Priority.TWO_WEEK_WAIT,
        destination__category=Destination.Category.COLPOSCOPY,
    )
    services.send_referral(referral, by=coordinator.user)
    response = coordinator_client.get(_url(referral, "fhir"))
    assert response.status_code == 200
    resource = response.json()
    assert resource["resourceType"] == "ServiceRequest"
    assert resource["status"] == "active"
    assert resource["intent"] == "order"
    assert resource["priority"] == "asap"
    assert resource["subject"]["identifier"] == {
        "system": NHS_NUMBER_SYSTEM,
        "value": "9434765919",
    }
    assert resource["reasonCode"] == [{"text": referral.reason}]
    assert resource["performer"][0]["display"].startswith("Sexual health clinic")
    assert resource["occurrencePeriod"]["end"] == "2026-06-15"
    assert resource["authoredOn"].startswith("2026-06-01")


@pytest.mark.parametrize(
    ("status", "fhir_status"),
    [("draft", "draft"), ("closed", "completed"), ("rejected", "revoked"), ("booked", "active")],
)
def test_fhir_status_mapping(coordinator_client, coordinator, status, fhir_status):
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, status=status, **IN_STATUS.get(status, {})
    )
    resource = coordinator_client.get(_url(referral, "fhir")).json()
    assert resource["status"] == fhir_status
    assert "identifier" not in resource["subject"]


def test_the_summary_has_text_and_escaped_html(coordinator_client, coordinator):
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, reason="<b>Reactive</b> & needs treatment"
    )
    body = coordinator_client.get(_url(referral, "summary")).json()
    assert "Reason for referral:\n<b>Reactive</b> & needs treatment" in body["text"]
    assert "&lt;b&gt;Reactive&lt;/b&gt; &amp; needs treatment" in body["html"]
    assert f"#{referral.pk}" in body["subject"]


# --- The patient is told what happens next ---------------------------------------------------


def test_the_patient_is_told_when_sent_accepted_and_booked(
    coordinator_client, coordinator, patient, destination
):
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, patient=patient, destination=destination
    )
    for action, body in [("send", {}), ("accept", {}), ("book", {"appointment_at": None})]:
        assert post_json(coordinator_client, _url(referral, action), body).status_code == 200
    messages = Message.objects.filter(patient=patient).order_by("id")
    assert [m.idempotency_key for m in messages] == [
        f"referral:{referral.pk}:sent",
        f"referral:{referral.pk}:accepted",
        f"referral:{referral.pk}:booked",
    ]
    assert {m.status for m in messages} == {Message.Status.SCHEDULED}
    assert {m.to for m in messages} == {"+447700900123"}
    assert "Hepatitis C treatment service" not in messages[0].body


def test_a_sensitive_referral_is_worded_discreetly(coordinator, patient):
    factories.MessageTemplateFactory(
        purpose="referral_update",
        channel="sms",
        discreet=False,
        body="Hi {{ first_name }}, your referral to {{ service }}: {{ update }}",
    )
    sexual_health = factories.DestinationFactory(
        name="iCaSH Peterborough", category=Destination.Category.SEXUAL_HEALTH
    )
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation, patient=patient, destination=sexual_health
    )
    services.send_referral(referral, by=coordinator.user)
    message = Message.objects.get(idempotency_key=f"referral:{referral.pk}:sent")
    assert "iCaSH" not in message.body
    assert "sexual" not in message.body.lower()
    assert message.template is None
    assert message.discreet
    assert message.purpose == "referral_update"


def test_no_consented_contact_means_a_suppressed_message(coordinator):
    patient = factories.PatientFactory(organisation=coordinator.organisation)
    factories.ContactPointFactory(patient=patient, consent_given=False, consent_recorded_at=None)
    referral = factories.ReferralFactory(organisation=coordinator.organisation, patient=patient)
    services.send_referral(referral, by=coordinator.user)
    message = Message.objects.get(idempotency_key=f"referral:{referral.pk}:sent")
    assert (message.status, message.suppressed_reason) == ("suppressed", "no_consent")
    nobody = factories.ReferralFactory(organisation=coordinator.organisation)
    services.send_referral(nobody, by=coordinator.user)
    message = Message.objects.get(idempotency_key=f"referral:{nobody.pk}:sent")
    assert (message.status, message.suppressed_reason) == ("suppressed", "no_contact")


# --- Suggestions from results ---------------------------------------------------------------

SEEDED_RULES = importlib.import_module("referrals.migrations.0004_seed_referral_rules").RULES


@pytest.fixture
def seeded_rules() -> None:
    """The rules the data migration seeds; a transactional test elsewhere may have flushed them."""
    for code, result, category, priority, reason in SEEDED_RULES:
        ReferralRule.objects.get_or_create(
            service_code=code,
            result=result,
            destination_category=category,
            defaults={"priority": priority, "reason": reason},
        )


def test_the_migration_seeds_the_rules_the_issue_names():
    assert {(code, result, category) for code, result, category, *_ in SEEDED_RULES} == {
        ("dry-blood-spot", "reactive", "hepatitis_c"),
        ("dry-blood-spot", "reactive", "sexual_health"),
        ("cervical-screening", "abnormal", "colposcopy"),
    }


@pytest.mark.usefixtures("seeded_rules")
def test_a_reactive_blood_spot_suggests_hepatitis_c_and_sexual_health(nurse_client, nurse):
    dbs = factories.ServiceTypeFactory(code="dry-blood-spot")
    outcome = factories.VisitOutcomeFactory(
        booking__session__organisation=nurse.organisation,
        booking__service_type=dbs,
        result=VisitOutcome.Result.REACTIVE,
    )
    hep_c = factories.DestinationFactory(name="Hep C", category="hepatitis_c")
    response = nurse_client.get(f"{REFERRALS}suggestions/?outcome={outcome.pk}")
    assert response.status_code == 200, response.content
    suggestions = {row["category"]: row for row in response.json()}
    assert set(suggestions) == {"hepatitis_c", "sexual_health"}
    assert [d["id"] for d in suggestions["hepatitis_c"]["destinations"]] == [hep_c.pk]


@pytest.mark.usefixtures("seeded_rules")
def test_an_abnormal_screen_suggests_colposcopy(nurse_client, nurse):
    screening = factories.ServiceTypeFactory(code="cervical-screening")
    outcome = factories.VisitOutcomeFactory(
        booking__session__organisation=nurse.organisation,
        booking__service_type=screening,
        result=VisitOutcome.Result.ABNORMAL,
    )
    response = nurse_client.get(f"{REFERRALS}suggestions/?outcome={outcome.pk}")
    assert [row["category"] for row in response.json()] == ["colposcopy"]
    assert response.json()[0]["priority"] == "two_week_wait"


def test_suggestions_need_an_outcome_of_ones_own(nurse_client):
    assert_error(nurse_client.get(f"{REFERRALS}suggestions/"), 400)
    stranger = factories.VisitOutcomeFactory()
    assert_error(nurse_client.get(f"{REFERRALS}suggestions/?outcome={stranger.pk}"), 404)


# --- The list --------------------------------------------------------------------------------


def test_the_list_filters_and_orders(coordinator_client, coordinator):
    org = coordinator.organisation
    late = factories.ReferralFactory(organisation=org, status=S.SENT, sent_at=NOW,
                                     due_date=date(2026, 5, 1))  # fmt: skip
    soon = factories.ReferralFactory(organisation=org, status=S.SENT, sent_at=NOW,
                                     due_date=date(2026, 6, 20))  # fmt: skip
    factories.ReferralFactory(organisation=org)
    factories.ReferralFactory(status=S.SENT, sent_at=NOW)  # another organisation's
    body = coordinator_client.get(f"{REFERRALS}?status=sent&ordering=created_at").json()
    assert [row["id"] for row in body["results"]] == [late.pk, soon.pk]
    assert [row["is_overdue"] for row in body["results"]] == [True, False]
    body = coordinator_client.get(f"{REFERRALS}?status=sent&due_date__lt=2026-06-01").json()
    assert [row["id"] for row in body["results"]] == [late.pk]


def test_an_ordering_the_list_does_not_offer_is_a_field_error(coordinator_client):
    body = assert_error(coordinator_client.get(f"{REFERRALS}?ordering=due_date"), 400, "invalid")
    assert "created_at" in body["fields"]["ordering"][0]


def test_a_referral_from_a_booking_takes_its_patient_and_session(nurse_client, nurse, destination):
    booking = factories.BookingFactory(session__organisation=nurse.organisation)
    body = {
        "source_booking": booking.pk,
        "destination": destination.pk,
        "reason": "Needs GP registration.",
        "consent_to_share": True,
        "consent_method": "written",
    }
    response = post_json(nurse_client, REFERRALS, body)
    assert response.status_code == 201, response.content
    assert response.json()["patient"] == booking.patient_id
    assert response.json()["source_session"] == booking.session_id
    assert response.json()["status"] == "draft"


def test_a_booking_of_someone_else_is_refused(nurse_client, nurse, patient, destination):
    booking = factories.BookingFactory(session__organisation=nurse.organisation)
    response = _create(nurse_client, patient, destination, source_booking=booking.pk)
    error = assert_error(response, 400, "invalid")
    assert "source_booking" in error["fields"]
    assert not Referral.objects.exists()


def test_a_referral_from_a_sensitive_service_is_worded_discreetly(coordinator, patient):
    booking = factories.BookingFactory(
        session__organisation=coordinator.organisation,
        patient=patient,
        service_type__sensitive=True,
    )
    referral = factories.ReferralFactory(
        organisation=coordinator.organisation,
        patient=patient,
        source_booking=booking,
        destination__name="Hepatitis C service",
        destination__category=Destination.Category.HEPATITIS_C,
    )
    services.send_referral(referral, by=coordinator.user)
    message = Message.objects.get(idempotency_key=f"referral:{referral.pk}:sent")
    assert message.discreet
    assert "Hepatitis" not in message.body
