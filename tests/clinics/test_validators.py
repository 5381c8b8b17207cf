"""NHS numbers, postcodes, mobiles and ODS codes: what people type, and what we store."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from clinics.models import ContactPoint
from clinics.validators import (
    nhs_number_is_valid,
    normalise_mobile,
    normalise_nhs_number,
    normalise_postcode,
    validate_mobile,
    validate_nhs_number,
    validate_ods_code,
    validate_postcode,
)
from tests import factories

# 943 476 5919 is the NHS's own example number. 000000006 is a prefix whose check digit is 10.
VALID_NHS_NUMBER = "9434765919"
PREFIX_WITH_CHECK_DIGIT_TEN = "000000006"


def _check_digit(nine_digits: str) -> int:
    """The modulus 11 check digit, written out from the NHS Data Dictionary as a test oracle."""
    weighted = 0
    for position, digit in enumerate(nine_digits):
        weighted += int(digit) * (10 - position)
    remainder = weighted % 11
    return 0 if remainder == 0 else 11 - remainder


def _code(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return error.value.error_list[0].code


# --- NHS numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["9434765919", "943 476 5919", "943-476-5919", " 943 476 5919 ", "4010232137"]
)
def test_a_valid_nhs_number_passes_however_it_is_spaced(typed):
    assert nhs_number_is_valid(typed)
    validate_nhs_number(typed)


@pytest.mark.parametrize("typed", ["943 476 5919", "943-476-5919", "9434 765919\t"])
def test_normalising_an_nhs_number_leaves_ten_digits(typed):
    assert normalise_nhs_number(typed) == VALID_NHS_NUMBER


@pytest.mark.parametrize("wrong_last_digit", ["9434765910", "9434765918", "943 476 5911"])
def test_a_wrong_check_digit_is_refused_as_a_checksum_error(wrong_last_digit):
    assert not nhs_number_is_valid(wrong_last_digit)
    with pytest.raises(ValidationError) as error:
        validate_nhs_number(wrong_last_digit)
    assert _code(error) == "nhs_number_checksum"


@pytest.mark.parametrize(
    "typed",
    [
        "943476591",  # 9 digits
        "94347659190",  # 11 digits
        "94347659I9",  # a letter I for a one
        "943476591O",  # a letter O for a zero
        "9434.765919",
        "",
        "NHS",
    ],
)
def test_anything_but_ten_digits_is_refused_as_a_length_error(typed):
    assert not nhs_number_is_valid(typed)
    with pytest.raises(ValidationError) as error:
        validate_nhs_number(typed)
    assert _code(error) == "nhs_number_length"


@pytest.mark.parametrize("last", "0123456789")
def test_nine_digits_whose_check_digit_computes_to_ten_make_no_valid_number(last):
    assert _check_digit(PREFIX_WITH_CHECK_DIGIT_TEN) == 10
    number = PREFIX_WITH_CHECK_DIGIT_TEN + last
    assert not nhs_number_is_valid(number)
    with pytest.raises(ValidationError) as error:
        validate_nhs_number(number)
    assert _code(error) == "nhs_number_checksum"


def _in_script(zero: int, digits: str = VALID_NHS_NUMBER) -> str:
    return "".join(chr(zero + int(digit)) for digit in digits)


@pytest.mark.parametrize(
    "typed",
    [
        _in_script(0xFF10),  # full-width digits, as some phone keyboards type them
        _in_script(0x0660),  # Arabic-Indic digits
        "94347659\u00b29",  # a superscript two
    ],
    ids=["full-width", "arabic-indic", "superscript"],
)
def test_digits_from_other_scripts_are_refused_with_a_validation_error(typed):
    # The database only stores ASCII digits (patient_nhs_number_ten_digits), so the validator
    # must refuse these itself: with a ValidationError, never a crash or a later IntegrityError.
    with pytest.raises(ValidationError):
        validate_nhs_number(typed)
    assert not nhs_number_is_valid(typed)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_nine_digits_have_at_most_one_check_digit_and_it_validates(prefix):
    valid_endings = [last for last in "0123456789" if nhs_number_is_valid(prefix + last)]
    assert len(valid_endings) <= 1
    check = _check_digit(prefix)
    if check == 10:
        assert valid_endings == []
    else:
        assert valid_endings == [str(check)]
        validate_nhs_number(prefix + str(check))
        validate_nhs_number(f"{prefix[:3]} {prefix[3:6]} {prefix[6:]}{check}")


@pytest.mark.django_db
def test_full_clean_refuses_a_patient_with_an_invalid_nhs_number():
    patient = factories.PatientFactory.build(
        organisation=factories.OrganisationFactory(), nhs_number="9434765918"
    )
    with pytest.raises(ValidationError) as error:
        patient.full_clean()
    assert [e.code for e in error.value.error_dict["nhs_number"]] == ["nhs_number_checksum"]


@pytest.mark.django_db
def test_full_clean_accepts_a_patient_with_a_valid_nhs_number():
    patient = factories.PatientFactory.build(
        organisation=factories.OrganisationFactory(), nhs_number=VALID_NHS_NUMBER
    )
    patient.full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["943 476 5919", "943-476-5919"])
def test_full_clean_accepts_an_nhs_number_typed_as_printed_on_the_card(typed):
    # The validator and its own message ("for example 943 476 5919") accept the spaced form, so
    # the field must not refuse it first for being longer than the ten digits it is saved as.
    patient = factories.PatientFactory.build(
        organisation=factories.OrganisationFactory(), nhs_number=typed
    )
    patient.full_clean()


@pytest.mark.django_db
def test_saving_a_patient_stores_the_nhs_number_without_spaces():
    patient = factories.PatientFactory(nhs_number="943 476 5919")
    patient.refresh_from_db()
    assert patient.nhs_number == VALID_NHS_NUMBER


# --- Postcodes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("pe11hf", "PE1 1HF"),
        ("PE1 1HF", "PE1 1HF"),
        ("  pe1   1hf ", "PE1 1HF"),
        ("sw1a1aa", "SW1A 1AA"),
        ("m11ae", "M1 1AE"),
        ("gir0aa", "GIR 0AA"),
        ("", ""),
    ],
)
def test_a_postcode_is_upper_cased_with_one_space_before_the_inward_code(typed, stored):
    assert normalise_postcode(typed) == stored


@pytest.mark.parametrize("typed", ["PE1 1HF", "pe11hf", "SW1A 1AA", "M1 1AE", "EC1A 1BB"])
def test_a_full_uk_postcode_is_valid(typed):
    validate_postcode(typed)


@pytest.mark.parametrize("typed", ["PE1", "PE1 1H", "12345", "PE1 1HFF", "1PE 1HF", "PE1-1HF"])
def test_a_partial_or_malformed_postcode_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        validate_postcode(typed)
    assert _code(error) == "postcode_invalid"


@pytest.mark.django_db
def test_saving_a_patient_and_a_venue_normalises_the_postcode():
    patient = factories.PatientFactory(postcode="pe11hf")
    venue = factories.VenueFactory(postcode="sw1a1aa")
    patient.refresh_from_db()
    venue.refresh_from_db()
    assert (patient.postcode, venue.postcode) == ("PE1 1HF", "SW1A 1AA")


@pytest.mark.django_db
def test_full_clean_refuses_a_patient_with_an_invalid_postcode():
    patient = factories.PatientFactory.build(
        organisation=factories.OrganisationFactory(), postcode="PE1"
    )
    with pytest.raises(ValidationError) as error:
        patient.full_clean()
    assert [e.code for e in error.value.error_dict["postcode"]] == ["postcode_invalid"]


# --- Mobiles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["07400 123456", "07400123456", "+44 7400 123456", "+447400123456"]
)
def test_a_uk_mobile_is_valid_and_normalised_to_e164(typed):
    validate_mobile(typed)
    assert normalise_mobile(typed) == "+447400123456"


@pytest.mark.parametrize("landline", ["01733 123456", "020 7946 0000"])
def test_a_landline_is_refused_for_text_messages(landline):
    with pytest.raises(ValidationError) as error:
        validate_mobile(landline)
    assert _code(error) == "phone_not_mobile"


@pytest.mark.parametrize("garbage", ["hello", "0740012345", "074001234567", "+44", ""])
def test_something_that_is_not_a_phone_number_is_refused(garbage):
    with pytest.raises(ValidationError) as error:
        validate_mobile(garbage)
    assert _code(error) == "phone_invalid"


def test_normalising_leaves_what_cannot_be_parsed_alone():
    assert normalise_mobile("hello") == "hello"


@pytest.mark.django_db
def test_a_text_message_contact_point_is_saved_in_e164():
    contact = factories.ContactPointFactory(channel=ContactPoint.Channel.SMS, value="07400 123456")
    contact.refresh_from_db()
    assert contact.value == "+447400123456"


@pytest.mark.django_db
def test_full_clean_refuses_a_landline_for_text_messages():
    contact = factories.ContactPointFactory.build(
        patient=factories.PatientFactory(), channel=ContactPoint.Channel.SMS, value="01733 123456"
    )
    with pytest.raises(ValidationError) as error:
        contact.full_clean()
    assert "value" in error.value.error_dict


# --- ODS codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["RGN", "D81001", "QUE", "Y0001"])
def test_an_ods_code_is_three_to_six_capitals_and_digits(code):
    validate_ods_code(code)


@pytest.mark.parametrize("code", ["rgn", "AB", "ABCDEFG", "R-N", "R N", ""])
def test_a_malformed_ods_code_is_refused(code):
    with pytest.raises(ValidationError) as error:
        validate_ods_code(code)
    assert _code(error) == "ods_code_invalid"


@pytest.mark.django_db
def test_an_organisation_may_have_no_ods_code():
    organisation = factories.OrganisationFactory.build(ods_code="")
    organisation.full_clean()
