import pytest
from django.core.exceptions import ValidationError

from units.models import ContactMethod, normalize_phone


@pytest.mark.parametrize(("given", "stored"), [
    ("+44 7911 123456", "+447911123456"),
    ("+1 (416) 555-0123", "+14165550123"),
    ("+44 7700 900123", "+447700900123"),  # Ofcom's drama range, used by the demo
])
def test_phone_numbers_are_stored_in_e164(given, stored):
    assert normalize_phone(given) == stored


@pytest.mark.parametrize("given", ["07911 123456", "+44 1234", "call me", "+44 7700 901123"])
def test_phone_numbers_that_cannot_be_dialled_are_refused_with_an_example(given):
    with pytest.raises(ValidationError, match="not a"):
        normalize_phone(given)


def test_email_contact_must_be_an_address(member_a):
    method = ContactMethod(person=member_a, kind="email", address="not-an-address")
    with pytest.raises(ValidationError) as error:
        method.full_clean()
    assert "address" in error.value.message_dict
