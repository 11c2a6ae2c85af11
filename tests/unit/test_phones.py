"""Phone numbers in matching form: one caller, however the number was written, is one key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.phones import digits_only, normalize_number


@pytest.mark.parametrize(
    "written",
    ["+7 (495) 123-45-67", "84951234567", "4951234567", "+74951234567", "8-495-123.45.67"],
)
def test_one_moscow_number_written_every_way_is_one_key(written: str) -> None:
    assert normalize_number(written) == "4951234567"


def test_the_international_trunk_and_national_forms_are_equal() -> None:
    forms = {normalize_number(n) for n in ("+7 (495) 123-45-67", "84951234567", "4951234567")}

    assert forms == {"4951234567"}


@pytest.mark.parametrize("extension", ["101", "2001", "12345", "(101)", " 101 "])
def test_a_short_extension_stays_whole(extension: str) -> None:
    assert normalize_number(extension) == extension.strip(" ()")


def test_the_number_of_compared_digits_is_a_parameter() -> None:
    assert normalize_number("+7 (495) 123-45-67", match_digits=7) == "1234567"


def test_a_number_exactly_as_long_as_the_match_stays_whole() -> None:
    assert normalize_number("4951234567", match_digits=10) == "4951234567"


def test_text_without_digits_normalizes_to_nothing() -> None:
    assert normalize_number("anonymous") == ""


def test_full_width_digits_count_as_their_ascii_digits() -> None:
    # An East Asian keyboard's digits must still match what Asterisk sends (always ASCII).
    full_width = "+7 (495) 123-45-67".translate({ord(c): ord(c) + 0xFEE0 for c in "+0123456789"})

    assert normalize_number(full_width) == "4951234567"


def test_superscripts_are_not_digits_of_a_number() -> None:
    # str.isdigit() is True for "²", which would glue a footnote mark onto the number.
    assert digits_only("101²") == "101"


@given(st.text())
def test_a_normalized_number_is_only_ascii_digits_and_never_longer_than_the_match(
    raw: str,
) -> None:
    normalized = normalize_number(raw)

    assert all(char in "0123456789" for char in normalized)
    assert len(normalized) <= 10
    assert digits_only(raw).endswith(normalized)


@given(st.from_regex(r"[0-9]{10}", fullmatch=True), st.sampled_from(["+7", "8", "+7 ", ""]))
def test_a_prefix_before_a_ten_digit_number_never_changes_its_key(
    national: str, prefix: str
) -> None:
    assert normalize_number(prefix + national) == national
