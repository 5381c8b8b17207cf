import pytest
from django.contrib import messages
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from clinics.models import StaffMember
from referrals.models import Referral, ReferralChase
from referrals.services import move_referral
from tests.factories import (
    DestinationFactory,
    OrganisationFactory,
    PatientFactory,
    ReferralChaseFactory,
    ReferralFactory,
    StaffMemberFactory,
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
    return reverse(f"admin:referrals_{model}_{view}", args=args)


def run_action(client, action, *referrals):
    return client.post(
        admin_url("referral"),
        {"action": action, "_selected_action": [referral.pk for referral in referrals]},
        follow=True,
    )


def warnings_in(response):
    return [
        message.message
        for message in response.context["messages"]
        if message.level == messages.WARNING
    ]


ROWS = {
    "destination": DestinationFactory,
    "referral": ReferralFactory,
    "referralchase": ReferralChaseFactory,
}


@pytest.mark.parametrize("model", sorted(ROWS))
def test_every_referrals_page_opens_for_a_superuser(admin_client, model):
    row = ROWS[model]()

    assert admin_client.get(admin_url(model)).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 200
    assert admin_client.get(admin_url(model, "change", row.pk)).status_code == 200


def test_a_coordinator_sees_only_their_own_organisations_referrals(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    user = staff_user(org_a)
    mine = ReferralFactory(organisation=org_a, patient__preferred_name="Ann", referrer=user)
    theirs = ReferralFactory(organisation=org_b, patient__preferred_name="Bea", referrer=user)
    client.force_login(user)

    listing = client.get(admin_url("referral"))
    change = client.get(admin_url("referral", "change", theirs.pk), follow=True)

    assert "Ann" in listing.text
    assert "Bea" not in listing.text
    assert change.redirect_chain
    assert "Bea" not in change.text
    assert client.get(admin_url("referral", "history", theirs.pk)).status_code == 404
    assert client.get(admin_url("referral", "change", mine.pk)).status_code == 200


def test_referral_history_shows_who_moved_it_and_why(client):
    organisation = OrganisationFactory()
    user = staff_user(organisation)
    referral = ReferralFactory(organisation=organisation, referrer=user)
    move_referral(referral, Referral.Status.SENT, by=user, reason="Sent by NHSmail to the clinic")
    client.force_login(user)

    response = client.get(admin_url("referral", "history", referral.pk))

    assert response.status_code == 200
    assert "Sent by NHSmail to the clinic" in response.text


def test_mark_sent_sends_a_draft_with_consent(client):
    organisation = OrganisationFactory()
    user = staff_user(organisation)
    referral = ReferralFactory(organisation=organisation, referrer=user)
    client.force_login(user)

    response = run_action(client, "mark_sent", referral)

    assert response.status_code == 200
    assert warnings_in(response) == []
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT
    assert referral.sent_at is not None
    assert referral.due_date is not None
    assert referral.history.latest().history_user == user


def test_refused_moves_are_warnings_naming_each_referral(client):
    organisation = OrganisationFactory()
    user = staff_user(organisation)
    no_consent = ReferralFactory(
        organisation=organisation,
        referrer=user,
        consent_to_share=False,
        consent_method="",
        consent_recorded_at=None,
    )
    draft = ReferralFactory(organisation=organisation, referrer=user)
    client.force_login(user)

    sent = run_action(client, "mark_sent", no_consent)
    accepted = run_action(client, "mark_accepted", draft)

    assert sent.status_code == accepted.status_code == 200
    [consent_warning] = warnings_in(sent)
    assert consent_warning.startswith(f"Referral #{no_consent.pk}")
    assert "consent" in consent_warning
    [illegal_warning] = warnings_in(accepted)
    assert illegal_warning.startswith(f"Referral #{draft.pk}")
    assert Referral.objects.filter(status=Referral.Status.DRAFT).count() == 2


def referral_form(referral, **extra):
    return {
        "patient": referral.patient_id,
        "destination": referral.destination_id,
        "priority": referral.priority,
        "reason": referral.reason,
        "referrer": referral.referrer_id,
        "consent_to_share": "on",
        "consent_method": Referral.ConsentMethod.VERBAL,
        "chases-TOTAL_FORMS": "0",
        "chases-INITIAL_FORMS": "0",
        **extra,
    }


def test_a_chase_added_on_the_referral_is_recorded_as_the_users(client):
    organisation = OrganisationFactory()
    user = staff_user(organisation)
    referral = ReferralFactory(organisation=organisation, referrer=user)
    client.force_login(user)

    response = client.post(
        admin_url("referral", "change", referral.pk),
        referral_form(
            referral,
            status=Referral.Status.CLOSED,  # ignored: statuses move through actions
            **{
                "chases-TOTAL_FORMS": "1",
                "chases-0-channel": ReferralChase.Channel.PHONE,
                "chases-0-outcome": ReferralChase.Outcome.LEFT_MESSAGE,
            },
        ),
    )

    assert response.status_code == 302, response.context["errors"]
    chase = referral.chases.get()
    assert chase.chased_by == user
    assert chase.chased_at is not None
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DRAFT


def test_a_coordinators_new_referral_is_their_organisations_with_consent_recorded(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    user = staff_user(org_a)
    patient = PatientFactory(organisation=org_a)
    unsaved = ReferralFactory.build(
        patient=patient, referrer=user, destination=DestinationFactory()
    )
    client.force_login(user)

    response = client.post(
        admin_url("referral", "add"),
        referral_form(unsaved, organisation=org_b.pk, change_reason="Hep C result"),
    )

    assert response.status_code == 302, response.context["errors"]
    referral = Referral.objects.get()
    assert referral.organisation == org_a
    assert referral.status == Referral.Status.DRAFT
    assert referral.consent_recorded_by == user
    assert referral.consent_recorded_at is not None
    assert referral.history.get().history_change_reason == "Hep C result"


def test_a_coordinator_cannot_refer_another_organisations_patient(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    user = staff_user(org_a)
    unsaved = ReferralFactory.build(
        patient=PatientFactory(organisation=org_b), referrer=user, destination=DestinationFactory()
    )
    client.force_login(user)

    response = client.post(admin_url("referral", "add"), referral_form(unsaved))

    assert response.status_code == 200
    assert "patient" in response.context["adminform"].form.errors
    assert not Referral.objects.exists()


@pytest.mark.parametrize("rows", [5, 30])
def test_referral_list_queries_do_not_grow_with_rows(client, django_assert_max_num_queries, rows):
    organisation = OrganisationFactory()
    user = staff_user(organisation)
    destination = DestinationFactory()
    ReferralFactory.create_batch(
        rows,
        organisation=organisation,
        referrer=user,
        destination=destination,
        consent_recorded_at=timezone.now(),
    )
    client.force_login(user)

    with django_assert_max_num_queries(9):
        response = client.get(admin_url("referral"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows
