"""What Schemathesis found, kept as plain tests: each was a real mismatch with the schema."""

import pytest
import yaml
from django.test import Client

from tests.api_support import assert_error, post_json

pytestmark = pytest.mark.django_db


def test_an_address_under_the_api_that_matches_nothing_is_a_json_404(coordinator_client):
    assert_error(coordinator_client.get("/api/v1/bookings/0.5/"), 404, "not_found")
    assert b"<html" in Client().get("/no-such-page/").content.lower()


@pytest.mark.parametrize("size", ["0", "null", "201", "-1"])
def test_a_page_size_that_is_not_1_to_200_is_a_field_error(coordinator_client, size):
    for url in ("/api/v1/service-types/", "/api/v1/patients/", "/api/v1/referrals/worklists/mine/"):
        body = assert_error(coordinator_client.get(url, {"page_size": size}), 400, "invalid")
        assert "page_size" in body["fields"]


def test_a_filter_given_a_value_it_cannot_use_is_a_field_error(coordinator_client):
    for url, query in [
        ("/api/v1/service-types/", {"sensitive": "maybe"}),
        ("/api/v1/sessions/", {"starts_at__lt": ""}),
        ("/api/v1/venues/", {"imd_decile": "0.5"}),
        ("/api/v1/referrals/worklists/overdue/", {"due_date__lt": ""}),
    ]:
        body = assert_error(coordinator_client.get(url, query), 400, "invalid")
        assert set(query) <= set(body["fields"])
    assert coordinator_client.get("/api/v1/venues/", {"imd_decile": "3"}).status_code == 200


def test_a_number_where_text_belongs_is_a_field_error(nurse_client):
    body = assert_error(post_json(nurse_client, "/api/v1/patients/", {"preferred_name": 0}), 400)
    assert "preferred_name" in body["fields"]


def test_a_callback_asked_with_another_method_is_405_before_the_token(client):
    response = client.generic("TRACE", "/api/v1/webhooks/notify/inbound/")
    assert_error(response, 405)


def test_the_schema_allows_the_blank_values_the_answers_carry(coordinator_client):
    schema = yaml.safe_load(coordinator_client.get("/api/schema/").content)
    components = schema["components"]["schemas"]
    assert "format" not in components["Destination"]["properties"]["email"]
    assert "format" not in components["Destination"]["properties"]["url"]
    for component, field in [
        ("Booking", "cancelled_by"),
        ("Referral", "rejection_reason"),
        ("Message", "suppressed_reason"),
        ("Message", "purpose"),
    ]:
        options = components[component]["properties"][field]["oneOf"]
        assert {"$ref": "#/components/schemas/BlankEnum"} in options
    start = components["SessionSeries"]["properties"]["start_time"]
    assert "format" not in start
    assert start["pattern"]
