"""Phone numbers in matching form, so ``+7 (495) 123-45-67`` finds ``84951234567``.

Pure functions; the number of trailing digits compared is a setting (``PHONE_MATCH_DIGITS``,
10 by default: a national number without country or trunk prefix).
"""

from __future__ import annotations

import unicodedata

DEFAULT_MATCH_DIGITS = 10


def digits_only(raw: str) -> str:
    """The ASCII digits of ``raw`` (``+``, spaces, dashes and brackets dropped).

    Decimal digits of other scripts (full-width U+FF10 to U+FF19 from an East Asian keyboard) count
    as their ASCII digit, since Asterisk always sends ASCII; ``str.isdigit`` would also
    keep superscripts (``²``), which are no digit of a phone number.
    """
    return "".join(str(unicodedata.decimal(char)) for char in raw if char.isdecimal())


def normalize_number(raw: str, match_digits: int = DEFAULT_MATCH_DIGITS) -> str:
    """The last ``match_digits`` digits; shorter numbers (extensions) stay whole.

    ``+7 (495) 123-45-67``, ``84951234567`` and ``4951234567`` all give ``4951234567``.
    """
    digits = digits_only(raw)
    return digits[-match_digits:] if len(digits) > match_digits else digits
