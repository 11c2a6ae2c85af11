"""Django admin for connectors, contacts and the call history, driven through real requests.

The "test connection" action logs in to the project's AMI peer over real TCP; the peer runs
on its own loop in a thread because the admin view is sync and calls ``async_to_sync``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import constants, get_messages
from django.test import Client
from django.urls import reverse

from telephony.admin import ConnectorForm
from telephony.config import DEFAULT_DIAL_PATTERN
from telephony.models import CallEvent, CallRecord, Connector, ConnectorStatus, Contact
from tests.factories import CALL_START, make_call_record, make_connector
from tests.support.ami_peer import AmiPeer
from tests.support.peer_thread import peer_in_thread

pytestmark = pytest.mark.django_db

#: A secret no page would contain by chance.
SECRET = "Zq9vLw2secretXk7"


@pytest.fixture
def threaded_ami_peer() -> Iterator[AmiPeer]:
    """The AMI peer (user ``cti``, secret ``s3cret``) on a loop of its own."""
    with peer_in_thread() as peer:
        yield peer


def connector_form(connector: Connector | None = None, **overrides: str) -> dict[str, Any]:
    """The connector form as the admin page posts it (no extension rows)."""
    data: dict[str, Any] = {
        "name": "office",
        "enabled": "on",
        "host": "pbx.example.net",
        "port": "5038",
        "username": "cti",
        "secret": "",
        "dialect": "auto",
        "originate_context": "from-internal",
        "outbound_dial_pattern": DEFAULT_DIAL_PATTERN,
        "channel_template": "PJSIP/{ext}",
        "hold_method": "park",
        "answer_method": "none",
        "parking_lot": "",
        "fallback_encoding": "",
        "ping_interval": "5",
        "ping_timeout": "5",
        "extensions-TOTAL_FORMS": "0",
        "extensions-INITIAL_FORMS": "0",
        "extensions-MIN_NUM_FORMS": "0",
        "extensions-MAX_NUM_FORMS": "1000",
    }
    if connector is not None:
        data.update(name=connector.name, host=connector.host, username=connector.username)
    data.update(overrides)
    return data


def messages_of(response: Any) -> list[tuple[int, str]]:
    """The (level, text) messages the admin left for the user on this request."""
    return [(message.level, message.message) for message in get_messages(response.wsgi_request)]


def record_ids(response: Any) -> set[int]:
    """The call records a changelist response lists."""
    return {record.pk for record in response.context["cl"].result_list}


# -- contacts ----------------------------------------------------------------------------------


def test_saving_a_contact_stores_each_of_its_numbers_in_matching_form() -> None:
    contact = Contact.objects.create(name="Acme desk", phones="+7 (495) 123-45-67, 101")

    assert set(contact.numbers.values_list("normalized", flat=True)) == {"4951234567", "101"}


def test_editing_a_contacts_numbers_removes_the_old_ones_and_keeps_the_unchanged() -> None:
    contact = Contact.objects.create(name="Acme desk", phones="+7 (495) 123-45-67, 101")
    kept = contact.numbers.get(normalized="4951234567").pk

    contact.phones = "84951234567, 102"
    contact.save()

    numbers = dict(contact.numbers.values_list("normalized", "pk"))
    assert set(numbers) == {"4951234567", "102"}
    assert numbers["4951234567"] == kept


def test_the_same_number_written_twice_is_stored_once() -> None:
    contact = Contact.objects.create(name="Acme", phones="+7 495 123 45 67, 84951234567")

    assert list(contact.numbers.values_list("normalized", flat=True)) == ["4951234567"]


def test_a_contact_added_in_admin_gets_its_numbers(admin_client: Client) -> None:
    data = {
        "name": "Acme desk",
        "company": "Acme",
        "phones": "+7 (495) 123-45-67",
        "notes": "",
        "numbers-TOTAL_FORMS": "0",
        "numbers-INITIAL_FORMS": "0",
        "numbers-MIN_NUM_FORMS": "0",
        "numbers-MAX_NUM_FORMS": "1000",
    }

    response = admin_client.post(reverse("admin:telephony_contact_add"), data)

    assert response.status_code == 302
    contact = Contact.objects.get(name="Acme desk")
    assert list(contact.numbers.values_list("normalized", flat=True)) == ["4951234567"]


# -- connectors: the secret --------------------------------------------------------------------


def test_the_connector_change_form_never_renders_the_secret(admin_client: Client) -> None:
    connector = make_connector(secret=SECRET)

    response = admin_client.get(reverse("admin:telephony_connector_change", args=[connector.pk]))

    assert response.status_code == 200
    assert 'name="secret"' in response.content.decode()
    assert SECRET not in response.content.decode()


def test_leaving_the_secret_blank_on_edit_keeps_the_old_one(admin_client: Client) -> None:
    connector = make_connector(secret=SECRET)
    url = reverse("admin:telephony_connector_change", args=[connector.pk])

    response = admin_client.post(url, connector_form(connector, host="pbx2.example.net"))

    assert response.status_code == 302
    connector.refresh_from_db()
    assert (connector.host, connector.secret) == ("pbx2.example.net", SECRET)


def test_the_link_check_timings_are_set_per_connector_and_bounded(admin_client: Client) -> None:
    connector = make_connector(secret=SECRET)
    url = reverse("admin:telephony_connector_change", args=[connector.pk])

    refused = admin_client.post(url, connector_form(connector, ping_interval="0.1"))
    response = admin_client.post(
        url, connector_form(connector, ping_interval="2", ping_timeout="3")
    )

    assert refused.status_code == 200  # the form again, with the error
    assert response.status_code == 302
    connector.refresh_from_db()
    assert (connector.ping_interval, connector.ping_timeout) == (2.0, 3.0)


def test_a_new_secret_typed_on_edit_replaces_the_old_one(admin_client: Client) -> None:
    connector = make_connector(secret=SECRET)
    url = reverse("admin:telephony_connector_change", args=[connector.pk])

    response = admin_client.post(url, connector_form(connector, secret="n3w-secret"))

    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.secret == "n3w-secret"


def test_the_admin_history_says_the_secret_changed_only_when_it_did(
    admin_client: Client,
) -> None:
    connector = make_connector(secret=SECRET)
    url = reverse("admin:telephony_connector_change", args=[connector.pk])

    admin_client.post(url, connector_form(connector, host="pbx2.example.net"))
    admin_client.post(url, connector_form(connector, host="pbx2.example.net", secret="n3w"))

    kept, replaced = LogEntry.objects.order_by("pk")
    assert kept.get_change_message() == "Changed Host."
    assert replaced.get_change_message() == "Changed AMI secret."
    assert not any("n3w" in entry.change_message for entry in (kept, replaced))


def test_a_new_connector_without_a_secret_is_refused(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:telephony_connector_add"), connector_form())

    assert response.status_code == 200
    assert "secret" in response.context["adminform"].form.errors
    assert not Connector.objects.exists()


def test_a_new_connector_with_a_secret_is_saved(admin_client: Client) -> None:
    data = connector_form(secret=SECRET)

    response = admin_client.post(reverse("admin:telephony_connector_add"), data)

    assert response.status_code == 302
    assert Connector.objects.get(name="office").secret == SECRET


def test_a_refused_form_does_not_echo_the_typed_secret(admin_client: Client) -> None:
    data = connector_form(secret=SECRET, port="not-a-port")

    response = admin_client.post(reverse("admin:telephony_connector_add"), data)

    assert response.status_code == 200
    assert "port" in response.context["adminform"].form.errors
    assert SECRET not in response.content.decode()


def test_the_connector_form_validates_its_pattern_and_template() -> None:
    form = ConnectorForm(
        data=connector_form(secret=SECRET, outbound_dial_pattern="[0-9", channel_template="PJSIP")
    )

    assert not form.is_valid()
    assert {"outbound_dial_pattern", "channel_template"} <= set(form.errors)


def test_the_connectors_repr_masks_the_secret() -> None:
    connector = Connector(name="office", host="pbx", username="cti", secret=SECRET)

    assert SECRET not in repr(connector)
    assert "secret=***" in repr(connector)


# -- connectors: live status -------------------------------------------------------------------


def test_the_connector_list_shows_each_connectors_live_status(admin_client: Client) -> None:
    connector = make_connector(name="office", secret=SECRET)
    ConnectorStatus.objects.create(
        connector=connector,
        connected=False,
        last_error="login as 'cti' refused: Authentication failed",
        worker_host="cti-worker-7:4242",
    )
    make_connector(name="branch", host="10.0.0.9")  # no status row yet

    response = admin_client.get(reverse("admin:telephony_connector_changelist"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "login as &#x27;cti&#x27; refused: Authentication failed" in page
    assert "cti-worker-7:4242" in page
    assert "cti@10.0.0.9:5038" in page
    assert SECRET not in page


# -- connectors: the test connection action ----------------------------------------------------


def test_test_connection_reports_success_with_the_right_secret(
    admin_client: Client, threaded_ami_peer: AmiPeer
) -> None:
    connector = make_connector(port=threaded_ami_peer.port, secret=threaded_ami_peer.secret)
    data = {"action": "test_connection", "_selected_action": [connector.pk]}

    response = admin_client.post(reverse("admin:telephony_connector_changelist"), data)

    ((level, text),) = messages_of(response)
    assert level == constants.SUCCESS
    assert text.startswith(f"office: logged in to 127.0.0.1:{threaded_ami_peer.port}")
    assert [action.name for action in threaded_ami_peer.actions] == ["Login", "Logoff"]


def test_test_connection_reports_asterisks_refusal_of_a_bad_secret(
    admin_client: Client, threaded_ami_peer: AmiPeer
) -> None:
    connector = make_connector(port=threaded_ami_peer.port, secret="wrong-secret")
    data = {"action": "test_connection", "_selected_action": [connector.pk]}

    response = admin_client.post(reverse("admin:telephony_connector_changelist"), data)

    ((level, text),) = messages_of(response)
    assert level == constants.ERROR
    assert text.startswith("office: ")
    assert text.endswith("Authentication failed")
    assert "wrong-secret" not in text


def test_test_connection_reports_a_pbx_that_refuses_the_connection(
    admin_client: Client,
) -> None:
    # A port nothing listens on: the peer started and stopped, so the port is free again.
    with peer_in_thread() as peer:
        port = peer.port
    connector = make_connector(port=port)
    data = {"action": "test_connection", "_selected_action": [connector.pk]}

    response = admin_client.post(reverse("admin:telephony_connector_changelist"), data)

    ((level, text),) = messages_of(response)
    assert level == constants.ERROR
    assert text.startswith("office: ")
    assert str(port) in text


# -- call records ------------------------------------------------------------------------------


def add_event(record: CallRecord, *, seq: int, name: str, seconds: int) -> CallEvent:
    return CallEvent.objects.create(
        record=record,
        connector=record.connector,
        line=record.line,
        seq=seq,
        name=name,
        dedupe_key=name,
        occurred_at=record.started_at + dt.timedelta(seconds=seconds),
        payload={"event": name, "seq": seq},
    )


def test_call_records_cannot_be_added_in_admin(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:telephony_callrecord_add"))

    assert response.status_code == 403


def test_a_call_records_page_has_no_save_button(admin_client: Client) -> None:
    record = make_call_record(connector=make_connector())

    response = admin_client.get(reverse("admin:telephony_callrecord_change", args=[record.pk]))

    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert "+15551230001" in response.content.decode()


def test_posting_to_a_call_record_is_refused_and_changes_nothing(admin_client: Client) -> None:
    record = make_call_record(connector=make_connector())
    url = reverse("admin:telephony_callrecord_change", args=[record.pk])

    response = admin_client.post(url, {"caller_number": "000", "line": "999"})

    assert response.status_code == 403
    record.refresh_from_db()
    assert (record.caller_number, record.line) == ("+15551230001", "101")


def test_a_call_record_shows_its_event_timeline_in_order(admin_client: Client) -> None:
    record = make_call_record(connector=make_connector())
    add_event(record, seq=9, name="RingFinished", seconds=40)
    add_event(record, seq=7, name="RingStarted", seconds=0)
    add_event(record, seq=8, name="CommutationStarted", seconds=4)

    response = admin_client.get(reverse("admin:telephony_callrecord_change", args=[record.pk]))

    page = response.content.decode()
    positions = [page.index(name) for name in ("RingStarted", "CommutationStarted", "RingFinished")]
    assert positions == sorted(positions)
    assert 'name="events-0-DELETE"' not in page


@pytest.fixture
def history() -> dict[str, CallRecord]:
    """Three calls of one morning, each different in direction, disposition and line."""
    connector = make_connector()
    return {
        "answered_in": make_call_record(
            connector=connector, call_id="1.1", line="101", direction="incoming"
        ),
        "missed_in": make_call_record(
            connector=connector,
            call_id="1.2",
            line="102",
            direction="incoming",
            disposition="missed",
            started_at=CALL_START + dt.timedelta(minutes=5),
        ),
        "outgoing": make_call_record(
            connector=connector,
            call_id="1.3",
            line="101",
            direction="outgoing",
            caller_number="101",
            callee_number="+15559870001",
            started_at=CALL_START + dt.timedelta(minutes=9),
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"answered_in", "missed_in", "outgoing"}),
        ({"direction__exact": "incoming"}, {"answered_in", "missed_in"}),
        ({"direction__exact": "outgoing"}, {"outgoing"}),
        ({"disposition__exact": "missed"}, {"missed_in"}),
        ({"line": "101"}, {"answered_in", "outgoing"}),
        ({"line": "102", "direction__exact": "outgoing"}, set()),
    ],
)
def test_the_call_history_filters_by_direction_disposition_and_line(
    admin_client: Client,
    history: dict[str, CallRecord],
    query: dict[str, str],
    expected: set[str],
) -> None:
    response = admin_client.get(reverse("admin:telephony_callrecord_changelist"), query)

    assert response.status_code == 200
    assert record_ids(response) == {history[name].pk for name in expected}


def test_the_call_history_filters_by_day(admin_client: Client) -> None:
    connector = make_connector()
    today = make_call_record(connector=connector, call_id="2.1")
    make_call_record(connector=connector, call_id="2.2", started_at=CALL_START - dt.timedelta(1))
    day = CALL_START.date()

    query = {
        "started_at__year": day.year,
        "started_at__month": day.month,
        "started_at__day": day.day,
    }
    response = admin_client.get(reverse("admin:telephony_callrecord_changelist"), query)

    assert record_ids(response) == {today.pk}


# -- connectors: the test connection button on the change page -------------------------------


def test_the_connector_page_has_a_test_connection_button(admin_client: Client) -> None:
    connector = make_connector()
    page = admin_client.get(reverse("admin:telephony_connector_change", args=[connector.pk]))
    url = reverse("admin:telephony_connector_test", args=[connector.pk])
    assert f'data-url="{url}"' in page.content.decode()


def test_the_test_connection_button_answers_inline(
    admin_client: Client, threaded_ami_peer: AmiPeer
) -> None:
    good = make_connector(port=threaded_ami_peer.port, secret=threaded_ami_peer.secret)
    bad = make_connector(name="branch", port=threaded_ami_peer.port, secret="wrong-secret")

    ok = admin_client.post(reverse("admin:telephony_connector_test", args=[good.pk])).json()
    refused = admin_client.post(reverse("admin:telephony_connector_test", args=[bad.pk])).json()

    assert ok["ok"] is True
    assert ok["message"].startswith(f"logged in to 127.0.0.1:{threaded_ami_peer.port}")
    assert refused["ok"] is False
    assert refused["message"].endswith("Authentication failed")
    assert "wrong-secret" not in refused["message"]
    url = reverse("admin:telephony_connector_test", args=[good.pk])
    assert admin_client.get(url).status_code == 405


def test_only_staff_may_test_a_connection(client: Client) -> None:
    connector = make_connector()
    response = client.post(reverse("admin:telephony_connector_test", args=[connector.pk]))
    assert response.status_code == 302  # to the admin login
