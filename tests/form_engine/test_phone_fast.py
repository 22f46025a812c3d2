"""The fast E.164 validity check agrees with `phonenumbers` wherever it decides."""

from __future__ import annotations

import random

import phonenumbers

from form_engine.field_types.phone_fast import fast_validity


def truth(number: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def test_agrees_with_phonenumbers_on_random_numbers_of_every_country_code() -> None:
    rng = random.Random(20261122)
    decided = 0
    for country_code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for _ in range(60):
            length = rng.randint(4, 13)
            number = f"+{country_code}{rng.randint(10 ** (length - 1), 10 ** length - 1)}"
            verdict = fast_validity(number)
            if verdict is not None:
                decided += 1
                assert verdict == truth(number), number
    assert decided > 5000  # it decides for most country codes


def test_agrees_on_every_example_number() -> None:
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in range(11):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            text = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            verdict = fast_validity(text)
            assert verdict in (None, phonenumbers.is_valid_number(example)), text


def test_chinese_mobiles_take_the_fast_path() -> None:
    assert fast_validity("+8613812345678") is True
    assert fast_validity("+8613812345") is False
    assert fast_validity("+86 138") is None or fast_validity("+86 138") is False


def test_shared_country_codes_and_trunk_prefixes_take_the_full_path() -> None:
    assert fast_validity("+14155552671") is None       # +1 is shared by 25 regions
    assert fast_validity("+8602750362662") is None      # a trunk 0 after the country code


def test_typed_numbers_read_as_phonenumbers_reads_them() -> None:
    """The lenient fast path (plain digits, spaces, dashes) gives what parsing gives."""
    from form_engine.errors import CoercionError
    from form_engine.field_types import FIELD_TYPES, TypeEnv
    from form_engine.field_types.phone import normalize_phone

    rng = random.Random(3)
    for region in ("CN", "HK", "JP", "GB", "US", "DE", "SG"):
        coerce = FIELD_TYPES["phone"].coercer({"key": "p", "type": "phone"}, True,
                                              TypeEnv(region=region))
        example = phonenumbers.example_number(region)
        national = str(example.national_number)
        for _ in range(300):
            digits = "".join(rng.choice("0123456789") for _ in range(len(national) - 3))
            typed = rng.choice([national[:3] + digits, f"+{example.country_code} "
                                f"{national[:3]}-{digits}", f"0{national[:3]}{digits}",
                                f"({national[:3]}) {digits}", f"00{example.country_code}"
                                f"{national[:3]}{digits}"])
            expected = normalize_phone(typed, region)
            try:
                got = coerce(typed)
            except CoercionError:
                got = None
            assert got == expected, (region, typed)
