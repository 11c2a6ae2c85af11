"""The default outbound dial pattern: national and international numbers pass; feature codes,
short service numbers and premium ranges are refused; the connector's extensions always pass."""

from __future__ import annotations

import importlib

import pytest

from telephony.commands import CommandRejected, check_number
from telephony.config import DEFAULT_DIAL_PATTERN
from tests.factories import make_connector_config

CONFIG = make_connector_config(
    outbound_dial_pattern=DEFAULT_DIAL_PATTERN, lines={"101": "PJSIP/101", "*97": "PJSIP/vm"}
)


@pytest.mark.parametrize(
    "number",
    [
        "+15551234567",
        "+1 (555) 123-4567",
        "+7 495 123-45-67",
        "+44 20 7946 0000",
        "0049 30 1234567",
        "0044 20 7946 0000",
        "030 1234567",
        "020 7946 0000",
        "8 (495) 123-45-67",
        "5551234567",
        "1 555 123 4567",
        "555-1234",
        "101",  # a configured extension, whatever the pattern says
        "*97",  # also configured: an admin may give a feature code a line of its own
    ],
)
def test_national_international_numbers_and_own_extensions_pass(number: str) -> None:
    assert check_number(CONFIG, number)


@pytest.mark.parametrize(
    "number",
    [
        "*67#",
        "*72",
        "#31#",
        "*",
        "#",
        "101#",
        "*67 555 123 4567",
        "900",
        "112",
        "911",
        "1234",
        "102",  # a short number that is no configured extension
        "123456",
        "9001234567",
        "1 900 555 1234",
        "+1 900 555 1234",
        "001 900 555 1234",
        "0900 123456",
        "09001234567",
        "0906 123 4567",
        "0000000000",
        "+0123456789",
        "++15551234567",
        "+1234567",
        "+1234567890123456",
        "1234567890123456",
    ],
)
def test_feature_codes_short_and_premium_numbers_are_refused(number: str) -> None:
    with pytest.raises(CommandRejected) as refused:
        check_number(CONFIG, number)
    assert refused.value.code == "invalid-number"


def test_the_model_and_the_frozen_config_share_the_default() -> None:
    from telephony.models import Connector

    field = Connector._meta.get_field("outbound_dial_pattern")
    assert field.default == DEFAULT_DIAL_PATTERN
    migration = importlib.import_module(
        "telephony.migrations.0006_dial_pattern_refuses_feature_codes"
    )
    assert migration.NEW_DEFAULT == DEFAULT_DIAL_PATTERN


@pytest.mark.django_db
def test_connectors_on_the_first_default_are_tightened_and_chosen_patterns_stay() -> None:
    from django.apps import apps

    from telephony.models import Connector
    from tests.factories import make_connector

    migration = importlib.import_module(
        "telephony.migrations.0006_dial_pattern_refuses_feature_codes"
    )
    old = make_connector(name="old", outbound_dial_pattern=migration.OLD_DEFAULT)
    chosen = make_connector(name="chosen", outbound_dial_pattern=r"^8[0-9]{10}$")
    migration.tighten_old_default(apps, None)
    patterns = dict(Connector.objects.values_list("name", "outbound_dial_pattern"))
    assert patterns == {old.name: DEFAULT_DIAL_PATTERN, chosen.name: r"^8[0-9]{10}$"}
