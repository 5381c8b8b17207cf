import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from clinics.admin import mask_contact
from clinics.models import ContactPoint, Patient, StaffMember
from tests.factories import (
    ContactPointFactory,
    MobileUnitFactory,
    OrganisationFactory,
    PatientFactory,
    ServiceTypeFactory,
    StaffMemberFactory,
    UserFactory,
    VenueFactory,
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
    return reverse(f"admin:clinics_{model}_{view}", args=args)


ROWS = {
    "organisation": OrganisationFactory,
    "servicetype": ServiceTypeFactory,
    "staffmember": StaffMemberFactory,
    "mobileunit": MobileUnitFactory,
    "venue": VenueFactory,
    "patient": PatientFactory,
    "contactpoint": ContactPointFactory,
}


@pytest.mark.parametrize("model", sorted(ROWS))
def test_every_clinics_page_opens_for_a_superuser(admin_client, model):
    row = ROWS[model]()

    assert admin_client.get(admin_url(model)).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 200
    assert admin_client.get(admin_url(model, "change", row.pk)).status_code == 200


def test_a_coordinator_sees_only_their_own_organisations_patients(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    PatientFactory(organisation=org_a, preferred_name="Alexandra")
    theirs = PatientFactory(organisation=org_b, preferred_name="Bartholomew")
    client.force_login(staff_user(org_a))

    listing = client.get(admin_url("patient"))
    change = client.get(admin_url("patient", "change", theirs.pk), follow=True)
    history = client.get(admin_url("patient", "history", theirs.pk))
    version = client.get(
        reverse(
            "admin:clinics_patient_simple_history",
            args=[theirs.pk, theirs.history.latest().history_id],
        )
    )

    assert listing.status_code == 200
    assert "Alexandra" in listing.text
    assert "Bartholomew" not in listing.text
    # The admin answers a row it cannot find with a redirect to the index and a notice.
    assert change.redirect_chain
    assert "Bartholomew" not in change.text
    assert history.status_code == 404
    assert version.status_code == 404


def test_patient_autocomplete_offers_only_the_coordinators_organisation(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    mine = PatientFactory(organisation=org_a, preferred_name="Sam A")
    PatientFactory(organisation=org_b, preferred_name="Sam B")
    client.force_login(staff_user(org_a))

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "clinics",
            "model_name": "contactpoint",
            "field_name": "patient",
            "term": "Sam",
        },
    )

    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(mine.pk)]


def test_a_coordinators_new_patient_is_filed_under_their_organisation(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    user = staff_user(org_a)
    client.force_login(user)

    response = client.post(
        admin_url("patient", "add"),
        {
            "organisation": org_b.pk,  # ignored: the field is read-only for them
            "preferred_name": "Jo",
            "housing_status": Patient.Housing.HOSTEL,
            "gp_registration": Patient.GPRegistration.UNKNOWN,
            "has_cervix": "unknown",
            "change_reason": "Registered at the food bank",
            "contact_points-TOTAL_FORMS": "1",
            "contact_points-INITIAL_FORMS": "0",
            "contact_points-0-channel": ContactPoint.Channel.SMS,
            "contact_points-0-value": "07911 123456",
            "contact_points-0-consent_given": "on",
        },
    )

    assert response.status_code == 302, response.context["errors"]
    patient = Patient.objects.get(preferred_name="Jo")
    assert patient.organisation == org_a
    assert patient.created_by == user
    record = patient.history.latest()
    assert record.history_user == user
    assert record.history_change_reason == "Registered at the food bank"
    contact = patient.contact_points.get()
    assert contact.value == "+447911123456"
    assert contact.consent_recorded_at is not None
    assert contact.consent_recorded_by == user


def test_a_coordinator_cannot_file_a_contact_point_under_another_organisations_patient(client):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    theirs = PatientFactory(organisation=org_b)
    client.force_login(staff_user(org_a))

    response = client.post(
        admin_url("contactpoint", "add"),
        {"patient": theirs.pk, "channel": ContactPoint.Channel.EMAIL, "value": "a@example.org"},
    )

    assert response.status_code == 200
    assert "patient" in response.context["adminform"].form.errors
    assert not ContactPoint.objects.exists()


def test_patient_history_shows_who_changed_it_and_why(client):
    organisation = OrganisationFactory()
    patient = PatientFactory(organisation=organisation)
    patient.housing_status = Patient.Housing.HOSTEL
    patient._change_reason = "Moved into the Cathedral Square hostel"
    patient.save()
    client.force_login(staff_user(organisation))

    response = client.get(admin_url("patient", "history", patient.pk))

    assert response.status_code == 200
    assert "Moved into the Cathedral Square hostel" in response.text


def test_saving_a_staff_member_puts_the_user_in_the_roles_group(admin_client):
    organisation = OrganisationFactory()
    user = UserFactory()
    user.groups.add(Group.objects.get(name="nurse"))

    response = admin_client.post(
        admin_url("staffmember", "add"),
        {
            "user": user.pk,
            "organisation": organisation.pk,
            "role": StaffMember.Role.COORDINATOR,
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.context["errors"]
    assert set(user.groups.values_list("name", flat=True)) == {"coordinator"}


@pytest.mark.parametrize("rows", [5, 30])
def test_patient_list_queries_do_not_grow_with_rows(client, django_assert_max_num_queries, rows):
    organisation = OrganisationFactory()
    PatientFactory.create_batch(rows, organisation=organisation)
    client.force_login(staff_user(organisation))

    # Seven for the page, and its one access log entry (one statement on PostgreSQL, two on
    # SQLite, which has no advisory lock to take).
    with django_assert_max_num_queries(9):
        response = client.get(admin_url("patient"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("+447700900123", "***123"),
        ("sam@example.nhs.uk", "***@example.nhs.uk"),
        ("", ""),
    ],
)
def test_contact_details_are_masked_to_a_hint(value, shown):
    assert mask_contact(value) == shown


def test_an_organisation_admin_sees_only_their_own_staffs_accounts(client):
    admin_staff = StaffMemberFactory(role="admin", user__username="orgadmin")
    admin_staff.user.groups.add(Group.objects.get(name="admin"))
    colleague = StaffMemberFactory(organisation=admin_staff.organisation, user__username="mate")
    stranger = StaffMemberFactory(user__username="elsewhere")
    client.force_login(admin_staff.user)

    listing = client.get("/admin/auth/user/").content.decode()

    assert "mate" in listing
    assert "elsewhere" not in listing
    assert client.get(f"/admin/auth/user/{stranger.user.pk}/change/").status_code == 302
    assert client.get(f"/admin/auth/user/{colleague.user.pk}/change/").status_code == 200


def test_an_organisation_admin_cannot_make_anyone_a_superuser(client):
    admin_staff = StaffMemberFactory(role="admin", user__username="orgadmin2")
    admin_staff.user.groups.add(Group.objects.get(name="admin"))
    client.force_login(admin_staff.user)
    me = admin_staff.user

    page = client.get(f"/admin/auth/user/{me.pk}/change/").content.decode()
    client.post(
        f"/admin/auth/user/{me.pk}/change/",
        {
            "username": me.username,
            "first_name": me.first_name,
            "last_name": me.last_name,
            "email": me.email,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )

    me.refresh_from_db()
    assert not me.is_superuser
    assert 'name="is_superuser"' not in page
