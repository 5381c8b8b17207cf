"""The role groups are built after migrate with exactly the permissions ROLE_PERMISSIONS gives."""

import pytest
from django.contrib.auth.models import Group, Permission

from clinics.models import StaffMember
from clinics.roles import ROLE_PERMISSIONS, codename_for, ensure_role_groups
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = {"nurse", "coordinator", "admin", "analyst", "auditor"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories give every user a password; the production hasher costs ~0.25 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _member_of(group_name: str):
    user = factories.UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    return user


def _granted(group: Group) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def _snapshot() -> dict[str, set[int]]:
    return {
        group.name: set(group.permissions.values_list("pk", flat=True))
        for group in Group.objects.all()
    }


def test_the_role_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= ROLES
    assert set(StaffMember.ROLE_GROUPS.values()) == ROLES


@pytest.mark.parametrize(
    ("group", "permission", "granted"),
    [
        ("nurse", "outreach.add_booking", True),
        ("nurse", "outreach.change_booking", True),
        ("nurse", "clinics.add_patient", True),
        ("nurse", "referrals.add_referral", True),
        ("nurse", "outreach.add_sessionseries", False),
        ("nurse", "outreach.add_outreachsession", False),
        ("nurse", "clinics.delete_patient", False),
        ("nurse", "auth.change_user", False),
        ("coordinator", "outreach.add_sessionseries", True),
        ("coordinator", "outreach.delete_staffassignment", True),
        ("coordinator", "outreach.add_booking", True),
        ("coordinator", "clinics.change_staffmember", False),
        ("analyst", "outreach.view_outreachsession", True),
        ("analyst", "outreach.view_sessionseries", True),
        ("analyst", "clinics.view_patient", False),
        ("analyst", "outreach.view_booking", False),
        ("analyst", "referrals.view_referral", False),
        ("analyst", "outreach.view_message", False),
        ("admin", "auth.change_user", True),
        ("admin", "clinics.delete_patient", True),
        ("admin", "outreach.add_sessionseries", True),
        ("admin", "auth.change_group", False),
        ("admin", "clinics.view_sensitive_services", True),
        ("admin", "clinics.add_datasharingagreement", True),
        ("admin", "clinics.change_accesslogentry", False),
        ("admin", "clinics.delete_accesslogentry", False),
        ("coordinator", "clinics.view_sensitive_services", True),
        ("coordinator", "clinics.export_patient", True),
        ("coordinator", "clinics.anonymise_patient", True),
        ("coordinator", "clinics.view_accesslogentry", True),
        ("coordinator", "clinics.add_datasharingagreement", False),
        ("nurse", "clinics.view_sensitive_services", False),
        ("nurse", "clinics.view_accesslogentry", False),
        ("nurse", "clinics.export_patient", False),
        ("analyst", "clinics.view_sensitive_services", False),
        ("analyst", "clinics.view_accesslogentry", False),
        ("auditor", "clinics.view_accesslogentry", True),
        ("auditor", "clinics.view_datasharingagreement", True),
        ("auditor", "clinics.view_patient", False),
        ("auditor", "clinics.change_patient", False),
        ("auditor", "outreach.view_booking", False),
        ("auditor", "outreach.add_booking", False),
        ("auditor", "referrals.add_referral", False),
        ("auditor", "clinics.view_sensitive_services", False),
    ],
)
def test_a_member_of_a_role_group_has_exactly_its_permissions(group, permission, granted):
    assert _member_of(group).has_perm(permission) is granted


@pytest.mark.parametrize("group_name", sorted(ROLES))
def test_every_permission_the_role_map_names_exists_and_is_granted(group_name):
    # A misspelt model or action would otherwise be dropped silently by the filter.
    wanted = {
        f"{app_label}.{codename_for(action, model)}"
        for (app_label, model), actions in ROLE_PERMISSIONS[group_name].items()
        for action in actions
    }
    assert _granted(Group.objects.get(name=group_name)) == wanted


def test_ensure_role_groups_run_twice_changes_nothing():
    before = _snapshot()
    groups = Group.objects.count()
    ensure_role_groups()
    ensure_role_groups()
    assert _snapshot() == before
    assert Group.objects.count() == groups


def test_ensure_role_groups_puts_back_exactly_the_mapped_permissions():
    nurse = Group.objects.get(name="nurse")
    expected = _granted(nurse)
    nurse.permissions.remove(Permission.objects.get(codename="add_booking"))
    nurse.permissions.add(Permission.objects.get(codename="delete_patient"))
    ensure_role_groups()
    assert _granted(nurse) == expected


def test_ensure_role_groups_recreates_a_deleted_group():
    Group.objects.filter(name="analyst").delete()
    ensure_role_groups()
    assert "clinics.view_patient" not in _granted(Group.objects.get(name="analyst"))
    assert "outreach.view_outreachsession" in _granted(Group.objects.get(name="analyst"))
