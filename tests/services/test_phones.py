import pytest

from hotline.services.citizens.phones import display_phone, mask_phone, normalise_phone
from hotline.services.errors import InvalidInput


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000", " 13800138000 "],
)
def test_chinese_mobiles_normalise_to_e164(raw):
    assert normalise_phone(raw) == "+8613800138000"


def test_landline_with_area_code():
    assert normalise_phone("010-12345678") == "+861012345678"


def test_other_regions_keep_their_country_code():
    assert normalise_phone("+1 212 639 9675") == "+12126399675"
    assert normalise_phone("212 639 9675", region="US") == "+12126399675"


@pytest.mark.parametrize("raw", ["", "12ab", "1380013800", "+86 999", "phone"])
def test_invalid_numbers_are_refused_with_a_message(raw):
    with pytest.raises(InvalidInput) as error:
        normalise_phone(raw)
    assert error.value.field == "caller_phone"


def test_masking_hides_the_middle_digits():
    assert mask_phone("+8613800138000") == "138****8000"
    assert mask_phone("+12126399675") == "+121****9675"


def test_display_uses_national_digits_at_home():
    assert display_phone("+8613800138000") == "13800138000"
    assert display_phone("+12126399675") == "+12126399675"
