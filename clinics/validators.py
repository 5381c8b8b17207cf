"""Validators for identifiers and contact details that patients and staff type in."""

import re

import phonenumbers
from django.core.exceptions import ValidationError

_POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$")
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,6}$")
# ASCII digits only: str.isdigit() also accepts full-width, Arabic-Indic and superscript digits.
_TEN_DIGITS = re.compile(r"[0-9]{10}")


def normalise_nhs_number(value: str) -> str:
    """Return the NHS number as ten digits, dropping the spaces people type in it."""
    return re.sub(r"[\s-]", "", value or "")


def nhs_number_is_valid(value: str) -> bool:
    """Check ten digits against the NHS modulus 11 check digit."""
    digits = normalise_nhs_number(value)
    if not _TEN_DIGITS.fullmatch(digits):
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - (total % 11)
    if check == 11:
        check = 0
    # A remainder giving 10 means no valid check digit exists for those nine digits.
    return check != 10 and check == int(digits[9])


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if not _TEN_DIGITS.fullmatch(digits):
        raise ValidationError(
            "An NHS number is 10 digits, for example 943 476 5919.", code="nhs_number_length"
        )
    if not nhs_number_is_valid(digits):
        raise ValidationError(
            "This is not a valid NHS number: the last digit does not match. Check it for typos.",
            code="nhs_number_checksum",
        )


def normalise_postcode(value: str) -> str:
    """Upper-case a UK postcode and put the single space before the inward code."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def validate_postcode(value: str) -> None:
    if not _POSTCODE.match(normalise_postcode(value)):
        raise ValidationError("Enter a full UK postcode, like PE1 1HF.", code="postcode_invalid")


def validate_ods_code(value: str) -> None:
    if not _ODS_CODE.match(value or ""):
        raise ValidationError(
            "An ODS code is 3 to 6 capital letters and digits, like RGN or D81001.",
            code="ods_code_invalid",
        )


def normalise_mobile(value: str) -> str:
    """Return a UK or international phone number in E.164, or the input if it cannot parse."""
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_mobile(value: str) -> None:
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "Enter a mobile number, like 07123 456789.", code="phone_invalid"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("This is not a valid phone number.", code="phone_invalid")
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            "Text messages need a mobile number; this looks like a landline.",
            code="phone_not_mobile",
        )
