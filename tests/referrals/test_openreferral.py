"""Open Referral UK (HSDS 3) import and export: a sample directory, a lossless round trip."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from clinics.models import StaffMember
from referrals.models import Destination
from referrals.openreferral import ImportFileError, export_directory, import_directory
from tests import factories
from tests.referrals.conftest import assert_error

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).parent / "data" / "oruk_directory.json"
DESTINATIONS = "/api/v1/destinations/"


def _stored(destination: Destination) -> dict:
    row = model_to_dict(destination)
    row.pop("id")
    return row


def test_the_sample_directory_imports():
    assert import_directory(SAMPLE.read_bytes()) == {"created": 3, "updated": 0}
    housing = Destination.objects.get(name="Peterborough Housing Options")
    assert (housing.category, housing.route, housing.response_target_days) == (
        "housing",
        "phone",
        3,
    )
    assert housing.provider == "Peterborough City Council"
    assert (housing.area, housing.postcode) == ("Peterborough", "PE1 1HF")
    assert housing.address == "Town Hall, Bridge Street"
    assert housing.phone == "01733 747474"
    assert housing.eligibility_notes.startswith("Anyone in Peterborough")
    advice = Destination.objects.get(name="Wakefield Citizens Advice")
    # No route of ours: the most direct way the file offers.
    assert (advice.category, advice.route, advice.response_target_days) == (
        "citizens_advice",
        "email",
        14,
    )
    other = Destination.objects.get(name="Befriending from another directory")
    assert (other.category, other.route, other.is_active) == ("other", "portal", False)


def test_importing_twice_updates_rather_than_duplicates():
    import_directory(SAMPLE.read_bytes())
    assert import_directory(SAMPLE.read_bytes()) == {"created": 0, "updated": 3}
    assert Destination.objects.count() == 3


def test_a_round_trip_loses_nothing_we_store():
    factories.DestinationFactory(
        name="iCaSH Peterborough",
        category="sexual_health",
        provider="Cambridgeshire Community Services NHS Trust",
        description="Testing, treatment, PrEP.\nWalk in on Tuesdays.",
        route="nhsmail",
        email="icash@example.nhs.uk",
        phone="+447700900960",
        url="https://icash.example.nhs.uk",
        address="Rivergate\nPeterborough",
        postcode="PE1 1EJ",
        area="Peterborough",
        response_target_days=7,
        eligibility_notes="Over 13s.",
    )
    factories.DestinationFactory(name="Food bank", category="food_bank", route="walk_in",
                                 is_active=False, area="")  # fmt: skip
    import_directory(SAMPLE.read_bytes())
    before = {d.name: _stored(d) for d in Destination.objects.all()}
    exported = json.dumps(export_directory())

    Destination.objects.all().delete()
    import_directory(exported)

    after = {d.name: _stored(d) for d in Destination.objects.all()}
    assert after == before
    # And the second export is the first one, ids included.
    again = export_directory()
    first = json.loads(exported)
    for page in (again, first):
        for service in page["contents"]:
            service.pop("last_modified")
    assert again == first


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"contents": 3}', "Expected a list"),
        ('[{"description": "no name"}]', "has no name"),
        ('[{"name": "X", "attributes": [{"taxonomy_term": {"vocabulary": '
         '"outreach-destination-category", "code": "spa"}}]}]', "unknown category"),
        ('[{"name": "X", "attributes": [{"taxonomy_term": {"vocabulary": '
         '"outreach-response-target-days", "code": "days"}, "value": "soon"}]}]', "number of days"),
        ('[{"name": "X"}, {"name": "X"}]', "appears twice"),
        ('[{"name": "X", "email": "not an email"}]', "not a valid destination"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_refused_and_imports_nothing(content, message):
    factories.DestinationFactory(name="Already here")
    with pytest.raises(ImportFileError, match=message):
        import_directory(content)
    assert list(Destination.objects.values_list("name", flat=True)) == ["Already here"]


def test_the_management_commands_round_trip(tmp_path):
    call_command("import_directory", str(SAMPLE), stdout=StringIO())
    out = tmp_path / "directory.json"
    call_command("export_directory", "--output", str(out), stderr=StringIO())
    assert json.loads(out.read_text())["total_items"] == 3
    Destination.objects.all().delete()
    stdout = StringIO()
    call_command("import_directory", str(out), stdout=stdout)
    assert "3 created" in stdout.getvalue()


def test_the_import_command_reports_a_bad_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(CommandError, match="Service 1 is not an object"):
        call_command("import_directory", str(bad))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_directory", str(tmp_path / "missing.json"))


# --- Over the API ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(organisation, make_staff, client_for):
    return client_for(make_staff(organisation, StaffMember.Role.ADMIN))


def test_the_api_imports_and_exports(admin_client):
    response = admin_client.post(
        f"{DESTINATIONS}import/", SAMPLE.read_bytes(), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 3, "updated": 0}
    exported = admin_client.get(f"{DESTINATIONS}export/").json()
    assert {service["name"] for service in exported["contents"]} == {
        "Peterborough Housing Options",
        "Wakefield Citizens Advice",
        "Befriending from another directory",
    }


def test_the_api_takes_an_uploaded_file(admin_client):
    with SAMPLE.open("rb") as upload:
        response = admin_client.post(f"{DESTINATIONS}import/", {"file": upload})
    assert response.status_code == 200, response.content


def test_a_malformed_upload_is_a_clear_400(admin_client):
    response = admin_client.post(
        f"{DESTINATIONS}import/", b"{broken", content_type="application/json"
    )
    assert_error(response, 400, "invalid_import")
    assert not Destination.objects.exists()


def test_a_nurse_cannot_import(nurse_client):
    response = nurse_client.post(
        f"{DESTINATIONS}import/", SAMPLE.read_bytes(), content_type="application/json"
    )
    assert response.status_code == 403
    assert not Destination.objects.exists()


def test_the_directory_is_searchable(nurse_client):
    import_directory(SAMPLE.read_bytes())
    names = lambda query: [  # noqa: E731
        row["name"] for row in nurse_client.get(f"{DESTINATIONS}?{query}").json()["results"]
    ]
    assert names("search=housing") == ["Peterborough Housing Options"]
    assert names("category=citizens_advice") == ["Wakefield Citizens Advice"]
    assert names("area=wakefield") == ["Wakefield Citizens Advice"]
    assert names("search=council") == ["Peterborough Housing Options"]
