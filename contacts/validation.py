"""Normalising and validating contact details; shared by the API schemas and the roster import."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_mobile(raw: str) -> str:
    """A mobile number in E.164 (default region Finland). Landlines are refused: they cannot receive SMS."""
    try:
        number = phonenumbers.parse(raw.strip(), "FI")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"'{raw}' is not a valid phone number")
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise ValueError(
            f"'{raw}' is not a mobile number (a landline cannot receive SMS); Finnish mobiles start 04x or 050"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"'{raw}' is not a valid email address: {exc}") from exc
