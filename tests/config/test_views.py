import pytest
from django.urls import reverse

from tests.factories import StaffMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_sends_a_stranger_to_the_sign_in_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_page_renders_a_labelled_form(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<label class="nhsuk-label" for="id_username">Username</label>' in body
    assert 'class="nhsuk-input"' in body
    assert 'autocomplete="current-password"' in body


def test_wrong_password_shows_an_error_summary_and_keeps_the_username(client):
    UserFactory(username="sam")

    response = client.post(reverse("login"), {"username": "sam", "password": "wrong"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert 'value="sam"' in body


def test_signed_in_staff_without_a_landing_page_see_their_role_and_links(client):
    staff = StaffMemberFactory(user__username="analyst", role="analyst", user__is_staff=True)
    client.post(reverse("login"), {"username": "analyst", "password": "correct-horse-battery"})

    response = client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert f"Analyst at {staff.organisation.name}" in body
    assert reverse("admin:index") in body
    assert reverse("api-docs") in body


def test_sign_out_is_a_post_and_returns_to_sign_in(client):
    client.force_login(UserFactory())

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_healthz_answers_ok_with_the_database_reachable(client):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_navigation_marks_the_page_and_follows_the_role(client):
    from config.navigation import navigation_for

    nurse = StaffMemberFactory(role="nurse")
    analyst = StaffMemberFactory(role="analyst")

    on_a_person = navigation_for(nurse.user, "outreach_web:person")

    assert [(item["label"], item["current"]) for item in on_a_person] == [
        ("Today", False),
        ("People", True),
    ]
    # Analysts work with aggregates only: reports are all they are offered.
    assert [item["label"] for item in navigation_for(analyst.user, "home")] == ["Reports"]
    assert navigation_for(analyst.user, "reports_web:report")[0]["current"] is True
