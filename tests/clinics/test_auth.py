import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from tests.factories import StaffMemberFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def test_a_new_group_membership_is_seen_at_once_despite_the_permission_cache():
    user = StaffMemberFactory().user
    assert not _fresh(user).has_perm("outreach.add_sessionseries")

    user.groups.add(Group.objects.get(name="coordinator"))

    assert _fresh(user).has_perm("outreach.add_sessionseries")


def test_a_permission_taken_from_a_group_is_gone_at_once():
    user = StaffMemberFactory().user
    group = Group.objects.get(name="nurse")
    user.groups.add(group)
    assert _fresh(user).has_perm("outreach.add_booking")

    group.permissions.remove(Permission.objects.get(codename="add_booking"))

    assert not _fresh(user).has_perm("outreach.add_booking")


def test_a_deactivated_user_has_no_permissions():
    user = StaffMemberFactory().user
    user.groups.add(Group.objects.get(name="nurse"))
    assert _fresh(user).has_perm("outreach.add_booking")

    user.is_active = False
    user.save()

    assert not _fresh(user).has_perm("outreach.add_booking")


def test_the_signed_in_user_comes_with_their_staff_record(client, django_assert_num_queries):
    staff = StaffMemberFactory()
    client.force_login(staff.user)
    request_user = client.get("/").wsgi_request.user

    with django_assert_num_queries(0):
        assert request_user.staff.organisation_id == staff.organisation_id
