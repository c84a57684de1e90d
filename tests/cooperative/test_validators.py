import pytest
from django.core.exceptions import ValidationError

from cooperative import validators as v


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126", "2000000002"])
def test_valid_npis_pass(npi):
    v.validate_npi(npi)
    assert v.is_valid_npi(npi) is True


@pytest.mark.parametrize(
    ("npi", "code"),
    [
        ("1234567890", "npi_check"),
        ("1234567894", "npi_check"),
        ("123456789", "npi_format"),
        ("12345678931", "npi_format"),
        ("12345678a3", "npi_format"),
        ("", "npi_format"),
        ("3234567891", "npi_prefix"),
    ],
)
def test_invalid_npis_are_refused_with_reason(npi, code):
    with pytest.raises(ValidationError) as error:
        v.validate_npi(npi)
    assert error.value.code == code
    assert v.is_valid_npi(npi) is False


def test_npi_check_digit_uses_prefix_80840():
    # 123456789 with prefix 80840 -> check digit 3 (CMS example); without the prefix it would be 7.
    assert v.is_valid_npi("1234567893")
    assert not v.is_valid_npi("1234567897")


@pytest.mark.parametrize(
    ("raw", "normal"), [("12-3456789", "12-3456789"), ("123456789", "12-3456789")]
)
def test_valid_eins_normalize(raw, normal):
    assert v.normalize_ein(raw) == normal


@pytest.mark.parametrize(
    "raw", ["00-1234567", "07-1234567", "12-345678", "1234567890", "ab-cdefghi"]
)
def test_invalid_eins_are_refused(raw):
    with pytest.raises(ValidationError, match="An EIN is 9 digits"):
        v.validate_ein(raw)


@pytest.mark.parametrize("rtn", ["111000025", "021000021", "011000015"])
def test_valid_routing_numbers(rtn):
    assert v.normalize_routing_number(rtn) == rtn


@pytest.mark.parametrize("rtn", ["111000024", "12345678", "0210000210", "abcdefghi"])
def test_invalid_routing_numbers_are_refused(rtn):
    with pytest.raises(ValidationError, match="ABA routing number"):
        v.validate_routing_number(rtn)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("77002", "77002"), ("77002-1234", "77002-1234"), ("770021234", "77002-1234")],
)
def test_valid_zips_normalize(raw, normal):
    assert v.normalize_zip(raw) == normal


@pytest.mark.parametrize("raw", ["7700", "770021", "77002-12", "ABCDE", ""])
def test_invalid_zips_are_refused(raw):
    with pytest.raises(ValidationError, match="A ZIP code is 5 digits"):
        v.validate_zip(raw)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("(512) 555-0123", "+15125550123"),
        ("512.555.0123", "+15125550123"),
        ("1-512-555-0123", "+15125550123"),
        ("+1 512 555 0123", "+15125550123"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_normalize_to_e164(raw, normal):
    assert v.normalize_phone(raw) == normal


@pytest.mark.parametrize("raw", ["555-0123", "(012) 555-0123", "(512) 155-0123", "phone", "+1 512"])
def test_invalid_phones_are_refused(raw):
    with pytest.raises(ValidationError):
        v.validate_phone(raw)


def test_format_phone_for_display():
    assert v.format_phone("+15125550123") == "(512) 555-0123"


def test_served_states_follow_the_service_area(settings):
    v.validate_served_state("TX")
    v.validate_served_state("ok")
    with pytest.raises(ValidationError, match="does not serve California yet"):
        v.validate_served_state("CA")
    with pytest.raises(ValidationError, match="'XX' is not a US state code"):
        v.validate_served_state("XX")
    settings.SERVICE_AREA_STATES = ["TX", "CA"]
    v.validate_served_state("CA")
    assert v.served_state_choices() == [("TX", "Texas"), ("CA", "California")]


def test_npi_check_digit_generates_valid_npis():
    assert v.npi_check_digit("123456789") == "3"
    for first_nine in ("100000001", "200000017", "199999999"):
        assert v.is_valid_npi(first_nine + v.npi_check_digit(first_nine))


@pytest.mark.parametrize("name", ["José", "O'Brien", "Mary-Jane", "St. John", "Nguyễn", "Zoë Ann"])
def test_person_names_accept_real_names(name):
    v.validate_person_name(name)


@pytest.mark.parametrize("name", ["<script>", "Ann<b>", "R2D2", "", " ", "-Ann", "Ann;DROP"])
def test_person_names_refuse_markup_digits_and_blanks(name):
    with pytest.raises(ValidationError, match="letters, spaces, apostrophes"):
        v.validate_person_name(name)


def test_organization_names_refuse_markup_only():
    v.validate_no_markup("Clinic 2 & Partners, LLC")
    with pytest.raises(ValidationError, match="Remove the characters"):
        v.validate_no_markup('Clinic <img src=x onerror="alert(1)">')
