"""Creatio's TMS protocol end to end: a provider look-alike written from the protocol text
(tests/support/tms_client.py) on the dedicated TMS daphne (``telephony.tms.asgi``), the
worker on the production Redis layer, and the AMI test peer replaying a real capture.

alice owns line 101 (the captured call rings there) with her TMS key, bob owns 102 with
his. Every frame any client receives is checked by the client as the provider reads it
(debug mode: no unknown key, ``eventType`` a number, calls with known fields only).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from telephony.callmodel.events import (
    AbonentBusy,
    CallInfoChanged,
    CallState,
    Direction,
    Disposition,
    Feature,
    LineStateChanged,
    RingFinished,
    RingStarted,
)
from telephony.groups import line_group, status_group
from telephony.models import Connector, Extension
from tests.conftest import TEST_REDIS_URL
from tests.factories import make_connector
from tests.integration.test_daphne import (  # the worker and layer wiring of the panel's tests
    HOLD_22,
    INJECTION,
    QUIET,
    _split_before,
    redis_layer,
    running_worker,
)
from tests.support.ami_peer import AmiPeer, success
from tests.support.daphne import DaphneServer, shared_database_env, start_daphne
from tests.support.tms_client import IN, OUT, V1, Opened, TmsClient, serialize_call

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]
__all__ = ["redis_layer"]

ORIGIN = "https://mycompany.creatio.example"
ALICE_KEY = "alice-key-0123456789abcdef"
BOB_KEY = "bob-key-0123456789abcdef00"
ATTENDED_22 = "asterisk-22/g_attended_transfer"
DROP, HOLD, UNHOLD, DTMF, ANSWER, DIAL = 0x8, 0x10, 0x20, 0x400, 0x4, 0x2
COMPLETE = 0x80


@dataclasses.dataclass
class World:
    connector: Connector


def _make_world(port: int, *, enabled: bool = True) -> World:
    connector = make_connector(port=port, tms_enabled=enabled, tms_origins=f"{ORIGIN}\n")
    alice, bob = User.objects.create_user("alice"), User.objects.create_user("bob")
    for number, owner, key in (("101", alice, ALICE_KEY), ("102", bob, BOB_KEY)):
        Extension.objects.create(
            connector=connector, number=number, device=f"PJSIP/{number}", operator=owner,
            tms_key=key,
        )  # fmt: skip
    return World(connector)


@contextlib.asynccontextmanager
async def tms_daphne(**settings: str) -> AsyncIterator[DaphneServer]:
    """The TMS endpoint on its own daphne, as deployed on port 2013 (here a free port);
    ``settings`` become its environment (``CTI_MAX_SOCKETS_PER_USER="2"``...)."""
    env = {
        **await sync_to_async(shared_database_env)(),
        "REDIS_URL": TEST_REDIS_URL,
        **settings,
    }
    server = await asyncio.to_thread(
        start_daphne, env, application="telephony.tms.asgi:application"
    )
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


def provider(server: DaphneServer, origin: str | None = ORIGIN, path: str = "/") -> Opened:
    return Opened(server.ws_url(path), origin)


def _answer_everything(peer: AmiPeer) -> None:
    for name in (
        "Hangup",
        "Park",
        "Redirect",
        "PlayDTMF",
        "Atxfer",
        "BlindTransfer",
        "Originate",
        "DBPut",
        "DBDel",
    ):
        peer.answer(name, success("OK"))
    peer.answer("QueuePause", success("Interface paused successfully"))


async def test_handshake_events_and_every_command_of_a_live_call(
    ami_peer: AmiPeer, redis_layer: Any, tmp_path: Path
) -> None:
    _answer_everything(ami_peer)
    world = await sync_to_async(_make_world)(ami_peer.port)
    live, rest = _split_before(HOLD_22, b"Event: Hold\r\n")
    async with (
        tms_daphne() as server,
        running_worker(ami_peer, world, redis_layer, tmp_path),  # type: ignore[arg-type]
        provider(server) as alice,
        provider(server, path="/ws/tms/") as bob,
    ):
        await alice.handshake("101", ALICE_KEY)
        await bob.handshake("102", BOB_KEY, library=V1)
        # The handshake, byte for byte where the protocol fixes it.
        first, created, snapshot = (json.loads(frame) for frame in alice.frames[:3])
        assert first == {"eventType": 1, "content": alice.library_uid}
        assert len(alice.library_uid) == 36 and not alice.library_uid.startswith('"')
        assert created["eventType"] == 2 and len(created["connectionUId"]) == 36
        assert snapshot == {
            "eventType": 10,
            "connectionUId": alice.connection_uid,
            "content": '{"ActiveCalls":[],"CurrentCall":null}',
        }
        assert bob.types() == [1, 2, 10]

        # RING_STARTED then COMMUTATION_STARTED, from the worker's call events.
        await ami_peer.replay(live)
        answered = (await alice.wait_event(lambda e: e.type == 7)).content
        ring = next(e for e in alice.events if e.type == 5).content
        assert alice.types().index(5) < alice.types().index(7)
        assert (ring["state"], ring["direction"], ring["callerId"]) == (1, IN, "+15551230001")
        assert ring["callFeaturesSet"] & (DROP | ANSWER) == DROP | ANSWER
        assert (answered["state"], answered["deviceId"]) == (2, "101")
        assert answered["callFeaturesSet"] & (DROP | HOLD | DTMF) == DROP | HOLD | DTMF
        call = alice.calls[answered["id"]]

        # A snapshot mid-call: the call, current.
        mark = len(alice.events)
        await alice.command("QueryActiveCallSnapshot")
        now = (await alice.wait_event(lambda e: e.type == 10, after=mark)).content
        assert [c["id"] for c in now["ActiveCalls"]] == [call["id"]]
        assert now["CurrentCall"]["state"] == 2

        # bob cannot touch alice's call; CR/LF never reaches the PBX; both answered with 3.
        before = len(ami_peer.actions)
        mark_bob, mark = len(bob.events), len(alice.events)
        await bob.command("DropCall", call=call)
        await alice.command("BlindTransferCall", {"targetAddress": INJECTION}, call=call)
        foreign = (await bob.wait_event(lambda e: e.type == 3, after=mark_bob)).content
        injected = (await alice.wait_event(lambda e: e.type == 3, after=mark)).content
        assert (foreign["errorType"], foreign["internalErrorCode"]) == (3, "not-your-call")
        assert (injected["errorType"], injected["internalErrorCode"]) == (3, "invalid-input")
        assert foreign["source"] == "DropCall"
        await asyncio.sleep(QUIET)
        assert ami_peer.commanded(before) == []

        # Every call command through our panel's path, to its AMI action.
        async def does(action: str, name: str, **kwargs: Any) -> Any:
            count = ami_peer.action_names().count(action)
            await alice.command(name, **kwargs)
            return await ami_peer.wait_for_action(action, count + 1)

        park = await does("Park", "HoldCall", call=call)  # a toggle: connected -> hold
        assert (park.get("TimeoutChannel") or "").startswith("PJSIP/101-")
        await alice.command("SendDtmf", {"digits": "1#"}, call=call)
        await ami_peer.wait_for_action("PlayDTMF", 2)
        played = [a.get("Digit") for a in ami_peer.actions if a.name == "PlayDTMF"]
        assert played == ["1", "#"]
        target = {"targetAddress": "102"}
        consult = await does("Atxfer", "MakeConsultCall", parameters=target, call=call)
        assert consult.get("Exten") == "102"
        # This capture never turns the Atxfer into a consultation (the real one is the next
        # test's): with one call on the line, complete and cancel are refused, to the PBX nothing.
        await _refused_without_a_consultation(alice, ami_peer, call)
        blind = await does(
            "BlindTransfer", "BlindTransferCall", parameters={"targetAddress": "102"}, call=call
        )
        assert blind.get("Exten") == "102"
        originate = await does(
            "Originate", "MakeCall", parameters={"targetAddress": "+15559870001"}
        )
        assert (originate.get("Channel"), originate.get("Exten")) == ("PJSIP/101", "+15559870001")
        await does("QueuePause", "SetDnd")  # after DBPut: DND on, queue paused ("DND")
        assert ami_peer.action_names().count("DBPut") == 1
        paused = await does(
            "QueuePause", "SetMsgUserState", parameters={"code": "NotReady", "reason": ""}
        )
        assert (paused.get("Paused"), paused.get("Reason")) == ("true", "NotReady")
        wrap = await does("QueuePause", "SetWrapUpUserState", parameters={"isWrapUpActive": False})
        assert wrap.get("Paused") == "false"

        # The queue's own event is what the agent state follows.
        mark = len(alice.events)
        await ami_peer.send_event(
            "QueueMemberPause", ("Queue", "support"), ("Interface", "PJSIP/101"),
            ("Paused", "1"), ("PausedReason", "NotReady"),
        )  # fmt: skip
        state = await alice.wait_event(lambda e: e.type == 12, after=mark)
        assert state.content == "NotReady" and state.raw["content"] == '"NotReady"'
        mark = len(alice.events)
        await alice.command("QueryMsgUserState")
        assert (await alice.wait_event(lambda e: e.type == 12, after=mark)).content == "NotReady"
        await alice.command("QueryLineState")
        line = await alice.wait_event(lambda e: e.type == 11, after=mark)
        assert line.content["callFeaturesSet"] & (DIAL | DROP) == DIAL | DROP

        # Not done here: answered, never silence (error type 4).
        mark = len(alice.events)
        await alice.command("AnswerCall", call=call)  # answer_method "none" on this PBX
        await alice.command("Hookup")
        for name in ("AnswerCall", "Hookup"):
            refused = await alice.wait_event(
                lambda e, name=name: e.type == 3 and e.content["source"] == name, after=mark
            )
            assert refused.content["errorType"] == 4

        # The rest of the call: hold, unhold, hang-up, in order, then an idle line.
        mark = len(alice.events)
        await ami_peer.replay(rest)
        await alice.wait_event(lambda e: e.type == 6, after=mark)
        await alice.wait_event(lambda e: e.type == 11, after=mark)
        call_types = [e.type for e in alice.events[mark:] if e.type in {5, 6, 7, 8, 9}]
        assert call_types == [8, 9, 6]
        assert alice.calls == {}
        held = next(e for e in alice.events[mark:] if e.type == 8).content
        assert (held["state"], held["callFeaturesSet"] & UNHOLD) == (3, UNHOLD)

        # CloseConnection: DISCONNECTED without a reconnect.
        mark = len(alice.events)
        await alice.command("CloseConnection")
        closed = await alice.wait_event(lambda e: e.type == 14, after=mark)
        assert closed.raw["privateData"] == {"ignoreTryReconnection": True}

        await asyncio.sleep(QUIET)
        assert not any(e.type in {5, 6, 7, 8, 9, 12} for e in bob.events)
    assert alice.violations == [] and bob.violations == []
    for frame in alice.frames + bob.frames:
        message = json.loads(frame)
        assert isinstance(message["eventType"], int)
        assert set(message) <= {"eventType", "content", "connectionUId", "privateData"}


async def _refused_without_a_consultation(
    client: TmsClient, peer: AmiPeer, call: dict[str, Any]
) -> None:
    """TransferCall and CancelTransfer with the line's only call (as CtiModel's pair, and as
    the §8 harness sent it: the same call twice): ERROR invalid-state, no AMI action."""
    before, mark = len(peer.actions), len(client.events)
    serialized = serialize_call(call)
    await client.command("TransferCall", {"consultationCall": serialized}, call=call)
    await client.command("CancelTransfer", {"currentCall": serialized, "consultCall": serialized})
    for name in ("TransferCall", "CancelTransfer"):
        refused = await client.wait_event(
            lambda e, name=name: e.type == 3 and e.content["source"] == name, after=mark
        )
        assert (refused.content["errorType"], refused.content["internalErrorCode"]) == (
            3,
            "invalid-state",
        )
    # The worker refuses before it sends anything, and answers after deciding.
    assert peer.commanded(before) == []


async def test_a_consultation_is_a_call_of_its_own_that_transfer_and_cancel_act_on(
    ami_peer: AmiPeer, redis_layer: Any, tmp_path: Path
) -> None:
    """The Asterisk 22 attended-transfer capture through the provider: MakeConsultCall is
    the Atxfer Asterisk answered with this consultation; TransferCall hangs up the
    operator's channel (Asterisk completes), CancelTransfer the colleague's (Asterisk takes
    the operator back to the caller), each sent as CtiModel sends them, never the caller's."""
    _answer_everything(ami_peer)
    world = await sync_to_async(_make_world)(ami_peer.port)
    connected, rest = _split_before(ATTENDED_22, b"Event: DTMFEnd\r\n")  # Atxfer's feature code
    cut = rest.index(b"Event: HangupRequest\r\n")  # 101 hangs up: the transfer completes
    consulting, completing = rest[:cut], rest[cut:]
    async with (
        tms_daphne() as server,
        running_worker(ami_peer, world, redis_layer, tmp_path),  # type: ignore[arg-type]
        provider(server) as alice,
        provider(server) as bob,
    ):
        await alice.handshake("101", ALICE_KEY)
        await bob.handshake("102", BOB_KEY)
        await ami_peer.replay(connected)
        answered = (await alice.wait_event(lambda e: e.type == 7)).content
        caller = alice.calls[answered["id"]]
        assert (caller["direction"], caller["callerId"]) == (IN, "+15551230001")
        await _refused_without_a_consultation(alice, ami_peer, caller)

        # MakeConsultCall: Atxfer on the operator's channel, as the capture's CTI sent it.
        atxfer = await _does(
            alice, ami_peer, "Atxfer", "MakeConsultCall", {"targetAddress": "102"}, call=caller
        )
        assert (atxfer.get("Channel"), atxfer.get("Context"), atxfer.get("Exten")) == (
            "PJSIP/101-00000021",
            "from-internal",
            "102",
        )

        # What Asterisk did with it: the caller held, a second call on 101 rings 102, answered.
        mark = len(alice.events)
        await ami_peer.replay(consulting)
        talking = await alice.wait_event(
            lambda e: e.type == 7 and e.content["id"] != caller["id"], after=mark
        )
        consultation = alice.calls[talking.content["id"]]
        seen = [(e.type, e.content["id"]) for e in alice.events[mark:] if e.type in {5, 6, 7, 8}]
        assert (5, consultation["id"]) in seen
        assert seen.index((5, consultation["id"])) < seen.index((7, consultation["id"]))
        assert (8, caller["id"]) in seen and (6, caller["id"]) not in seen
        assert set(alice.calls) == {caller["id"], consultation["id"]}
        assert (consultation["direction"], consultation["calledId"]) == (OUT, "102")
        # CtiModel shows Transfer and Cancel for it (COMPLETE_TRANSFER, §5.3).
        assert consultation["callFeaturesSet"] & (DROP | COMPLETE) == DROP | COMPLETE
        assert alice.calls[caller["id"]]["state"] == 3  # the caller waits, held
        await bob.wait_event(lambda e: e.type == 7)  # 102 has the consultation too

        # CancelTransfer (no executor; the current call and the consultation): the colleague's
        # channel hangs up, never the caller's nor the operator's.
        cancel = await _does(
            alice, ami_peer, "Hangup", "CancelTransfer",
            {"currentCall": serialize_call(caller), "consultCall": serialize_call(consultation)},
        )  # fmt: skip
        assert cancel.get("Channel") == "PJSIP/102-00000022"
        # TransferCall (the primary call, the consultation as parameter): the operator's channel.
        done = await _does(
            alice, ami_peer, "Hangup", "TransferCall",
            {"consultationCall": serialize_call(consultation)}, call=caller,
        )  # fmt: skip
        assert done.get("Channel") == "PJSIP/101-00000021"

        # Asterisk completes as the capture shows (101's channel gone): both calls end on 101.
        mark = len(alice.events)
        await ami_peer.replay(completing)
        ended = {}
        for call_id in (caller["id"], consultation["id"]):
            finished = await alice.wait_event(
                lambda e, call_id=call_id: e.type == 6 and e.content["id"] == call_id, after=mark
            )
            ended[call_id] = finished.content
        assert alice.calls == {}
        assert ended[caller["id"]].get("redirectionId") == "102"  # the caller went to 102
    assert alice.violations == [] and bob.violations == []


async def _does(
    client: TmsClient,
    peer: AmiPeer,
    action: str,
    name: str,
    parameters: dict[str, Any] | None = None,
    *,
    call: dict[str, Any] | None = None,
) -> Any:
    """Send ``name``; the next ``action`` the PBX receives."""
    count = peer.action_names().count(action)
    await client.command(name, parameters, call=call)
    return await peer.wait_for_action(action, count + 1)


async def test_reconnect_with_the_old_ids_gets_the_live_call_back(
    ami_peer: AmiPeer, redis_layer: Any, tmp_path: Path
) -> None:
    world = await sync_to_async(_make_world)(ami_peer.port)
    live, _ = _split_before(HOLD_22, b"Event: Hold\r\n")
    async with tms_daphne() as server, running_worker(ami_peer, world, redis_layer, tmp_path):  # type: ignore[arg-type]
        async with provider(server) as first:
            await first.handshake("101", ALICE_KEY)
            await ami_peer.replay(live)
            call = (await first.wait_event(lambda e: e.type == 7)).content
            old_library, old_connection = first.library_uid, first.connection_uid
        async with provider(server) as again:
            # The provider never clears its ids: the new LoadLibrary carries them.
            again.library_uid, again.connection_uid = old_library, old_connection
            await again.handshake("101", ALICE_KEY)
            assert again.library_uid == old_library
            assert again.connection_uid not in {"", old_connection}
            snapshot = next(e for e in again.events if e.type == 10).content
            assert [c["id"] for c in snapshot["ActiveCalls"]] == [call["id"]]
            assert snapshot["CurrentCall"]["id"] == call["id"]
            assert snapshot["CurrentCall"]["callFeaturesSet"] & DROP
            assert again.violations == []


@pytest.mark.parametrize(
    ("origin", "extension", "key", "enabled"),
    [
        (ORIGIN, "101", None, True),  # no key
        (ORIGIN, "101", BOB_KEY, True),  # bob's key for alice's line
        (ORIGIN, "101", ALICE_KEY + "x", True),  # wrong key
        ("https://evil.example", "101", ALICE_KEY, True),  # not an allowed origin
        (None, "101", ALICE_KEY, True),  # no origin (not a browser)
        (ORIGIN, "101", ALICE_KEY, False),  # TMS off for the connector (the default)
    ],
)
async def test_a_line_is_opened_only_with_its_key_from_an_allowed_origin(
    origin: str | None, extension: str, key: str | None, enabled: bool
) -> None:
    await sync_to_async(_make_world)(5038, enabled=enabled)
    async with tms_daphne() as server, provider(server, origin) as client:
        await client.handshake(extension, key)
        error = next(e for e in client.events if e.type == 3)
        assert (error.content["errorType"], error.content["internalErrorCode"]) == (6, "forbidden")
        await client.wait_closed()
        assert 2 not in client.types()
        assert client.violations == []


async def test_handshake_errors_and_the_inline_key() -> None:
    await sync_to_async(_make_world)(5038)
    async with tms_daphne() as server, provider(server) as client:
        await client.command("QueryActiveCallSnapshot")  # before LoadLibrary
        await client.command("LoadLibrary", {"AssemblyName": "Terrasoft.Messaging.Other, X"})
        await client.wait_event(lambda e: e.type == 3 and e.content["errorType"] == 1)
        await client.socket.send("not json")
        await client.socket.send(json.dumps({"command": "LoadLibrary", "libraryUId": "x"}))
        await client.wait_event(lambda e: e.type == 3 and e.content["errorType"] == 3)
        assert [e.content["errorType"] for e in client.events] == [1, 1, 0, 3]
        # ExtensionName "101;<key>": the key where a settings page keeps only its own fields.
        await client.handshake(f"101;{ALICE_KEY}", None)
        assert client.types()[-3:] == [1, 2, 10]
        assert client.violations == []


async def test_every_call_event_reaches_the_provider_in_order_and_once(redis_layer: Any) -> None:
    """Events no capture produces (busy, changed info) as the worker publishes them: one
    ``call.events`` batch on the line's group, mapped in order; what the snapshot already
    had (by the line's ``seq``) is not repeated."""
    world = await sync_to_async(_make_world)(5038)
    base: dict[str, Any] = {
        "connector": str(world.connector.pk), "line": "101", "time": 1.0, "call_id": "c-9",
        "direction": Direction.OUTGOING, "caller_number": "101", "caller_name": None,
        "callee_number": "5550000", "callee_name": None, "queue": None,
    }  # fmt: skip
    ringing: dict[str, Any] = {"state": CallState.RINGING, "features": Feature.CAN_DROP}
    batch = [
        RingStarted(seq=1, **base, **ringing).to_wire(),
        AbonentBusy(seq=2, **base, state=CallState.BUSY, features=Feature.CAN_DROP).to_wire(),
        CallInfoChanged(seq=3, **base, **ringing).to_wire(),
        RingFinished(
            seq=4,
            **base,
            state=CallState.FINISHED,
            features=Feature.CAN_DIAL,
            disposition=Disposition.BUSY,
            hangup_cause=17,
            hangup_cause_text="User busy",
        ).to_wire(),
        LineStateChanged(connector=base["connector"], line="101", seq=4, time=1.0).to_wire(),
    ]
    group = line_group(world.connector.pk, "101")
    async with tms_daphne() as server, provider(server) as alice:
        await alice.handshake("101", ALICE_KEY)
        await redis_layer.group_send(group, {"type": "call.events", "events": batch})
        await alice.wait_event(lambda e: e.type == 11)
        # The same batch again (a replayed publish): only the line state passes.
        mark = len(alice.events)
        await redis_layer.group_send(group, {"type": "call.events", "events": batch})
        await alice.wait_event(lambda e: e.type == 11, after=mark)
    assert alice.types() == [1, 2, 10, 5, 13, 17, 6, 11, 11]
    busy = alice.events[4].content
    assert (busy["state"], busy["direction"], busy["calledId"]) == (6, OUT, "5550000")
    assert alice.events[6].content["id"] == "c-9" and alice.calls == {}
    assert alice.violations == []


async def test_an_admins_change_closes_an_open_connection_at_its_next_command() -> None:
    world = await sync_to_async(_make_world)(5038)
    async with tms_daphne() as server, provider(server) as client:
        await client.handshake("101", ALICE_KEY)
        await Extension.objects.filter(number="101").aupdate(tms_key="another-key-0123456789")
        await client.command("QueryLineState")
        refused = await client.wait_event(lambda e: e.type == 3)
        assert (refused.content["errorType"], refused.content["internalErrorCode"]) == (
            6,
            "forbidden",
        )
        await client.wait_closed()
        assert 11 not in client.types()
    assert world.connector.tms_enabled


async def test_pbx_link_changes_and_the_rate_limit_reach_the_provider(redis_layer: Any) -> None:
    world = await sync_to_async(_make_world)(5038)
    status = status_group(world.connector.pk)
    async with tms_daphne() as server, provider(server) as alice:
        await alice.handshake("101", ALICE_KEY)
        down = {"connected": False, "since": None, "last_error": "Connection refused"}
        message = {"type": "connector.status", "connector": world.connector.pk}
        await redis_layer.group_send(status, {**message, "status": down})
        lost = await alice.wait_event(lambda e: e.type == 11)
        assert lost.content == {"callFeaturesSet": 0}  # no button works while the PBX is away
        mark = len(alice.events)
        up = {"connected": True, "since": None, "last_error": None}
        await redis_layer.group_send(status, {**message, "status": up})
        back = await alice.wait_event(lambda e: e.type == 11, after=mark)
        assert back.content == {"callFeaturesSet": DIAL}
        assert [e.type for e in alice.events[mark:]] == [10, 11]  # the truth again first

        # Our API's token bucket (CTI_COMMAND_BURST 20): the burst is answered, then refused.
        mark = len(alice.events)
        for _ in range(80):
            await alice.command("QueryMsgUserState")
        await alice.wait_event(
            lambda e: e.type == 3 and e.content["internalErrorCode"] == "rate-limited", after=mark
        )
    answered = [e for e in alice.events[mark:] if e.type == 12]
    assert 1 <= len(answered) < 80
    assert alice.violations == []


# -- admission: the same limits as our panel's socket (telephony/web/admission.py) ----------


def _ringing(connector_id: int, seq: int, caller: str = "+15551230001") -> dict[str, Any]:
    return RingStarted(
        seq=seq, connector=str(connector_id), line="101", time=1.0, call_id=f"r-{seq}",
        direction=Direction.INCOMING, caller_number=caller, caller_name=None,
        callee_number="101", callee_name=None, queue=None, state=CallState.RINGING,
        features=Feature.CAN_DROP,
    ).to_wire()  # fmt: skip


async def test_over_the_cap_the_oldest_connection_is_disconnected_without_a_reconnect(
    redis_layer: Any,
) -> None:
    """alice's third TMS connection with a cap of 2: her first gets DISCONNECTED with
    ``ignoreTryReconnection`` (CtiModel stays down instead of coming back and replacing the
    next one), leaves the line's group, and stays open; the other two keep their events."""
    world = await sync_to_async(_make_world)(5038)
    cid = world.connector.pk
    async with (
        tms_daphne(CTI_MAX_SOCKETS_PER_USER="2") as server,
        provider(server) as first,
        provider(server) as second,
        provider(server) as third,
    ):
        await first.handshake("101", ALICE_KEY)
        await second.handshake("101", ALICE_KEY)
        assert 14 not in first.types()
        await third.handshake("101", ALICE_KEY)
        gone = await first.wait_event(lambda e: e.type == 14)
        assert gone.content == "Replaced"
        assert gone.raw["privateData"] == {"ignoreTryReconnection": True}
        group = line_group(cid, "101")
        await redis_layer.group_send(group, {"type": "call.events", "events": [_ringing(cid, 1)]})
        for client in (second, third):
            assert (await client.wait_event(lambda e: e.type == 5)).content["id"] == "r-1"
        # A last event after the first one: what first would get comes before it, if at all.
        await redis_layer.group_send(group, {"type": "call.events", "events": [_ringing(cid, 2)]})
        await third.wait_event(lambda e: e.type == 5 and e.content["id"] == "r-2")
        assert 5 not in first.types() and 14 not in second.types() + third.types()
        assert not first.closed  # a close would make CtiModel reconnect
        # Its commands are refused now, as after CloseConnection.
        await first.command("QueryLineState")
        refused = await first.wait_event(lambda e: e.type == 3)
        assert refused.content["internalErrorCode"] == "invalid-state"
    for client in (first, second, third):
        assert client.violations == []


async def test_a_flood_of_openings_is_shed_and_the_shed_come_back() -> None:
    """Forty providers open alice's line at once on a server with one opening slot and one
    waiting place: those over it get ERROR ``try-later`` (type 0: no second reconnect
    timer) and close code 4503, never CONNECTION_CREATED; the rest open; the shed ones
    then come back with their old ids, as CtiModel's timer would."""
    await sync_to_async(_make_world)(5038)
    settings = {
        "CTI_HELLO_CONCURRENCY": "1",
        "CTI_MAX_WAITING_HELLOS": "1",
        "CTI_MAX_SOCKETS_PER_USER": "0",
    }
    async with tms_daphne(**settings) as server, contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(provider(server)) for _ in range(40)]
        await asyncio.gather(*(c.handshake("101", ALICE_KEY, wait=False) for c in clients))
        opened = [c for c in clients if c.types()[-1] == 2]
        shed = [c for c in clients if c.types()[-1] == 3]
        assert len(opened) + len(shed) == 40
        assert opened and shed
        for client in shed:
            error = client.events[-1].content
            assert (error["errorType"], error["internalErrorCode"]) == (0, "try-later")
            assert error["source"] == "OpenConnection"
            await client.wait_closed()
            assert client.socket.close_code == 4503
        for client in opened:
            assert not client.closed
        for old in shed[:3]:
            async with provider(server) as again:
                again.library_uid = old.library_uid
                await again.handshake("101", ALICE_KEY)
                assert again.types() == [1, 2, 10]
                assert again.violations == []
    for client in clients:
        assert client.violations == []


async def test_a_provider_that_stops_reading_is_dropped_and_others_miss_nothing(
    redis_layer: Any,
) -> None:
    """A provider whose browser stopped reading: closed (4408) once 256 KiB wait for it,
    while a reading provider on the same line gets every event in order."""
    world = await sync_to_async(_make_world)(5038)
    cid = world.connector.pk
    group = line_group(cid, "101")
    async with tms_daphne(CTI_MAX_SEND_BUFFER_BYTES=str(256 * 1024)) as server:
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
        # max_queue=1: the client library stops reading TCP once one message waits.
        async with (
            ws_connect(server.ws_url("/"), sock=raw, max_queue=1, origin=Origin(ORIGIN)) as ws,
            provider(server) as reader,
        ):
            slow = TmsClient(ws)
            slow.reader = asyncio.create_task(slow._read())
            await slow.handshake("101", ALICE_KEY)
            await reader.handshake("101", ALICE_KEY)
            slow.reader.cancel()  # the tab froze
            seq = 0
            deadline = time.monotonic() + 60
            while "does not read" not in server.log():
                assert time.monotonic() < deadline, server.log()
                batch = [_ringing(cid, seq + n, caller="5" * 4000) for n in range(1, 51)]
                seq += len(batch)
                await redis_layer.group_send(group, {"type": "call.events", "events": batch})
                await asyncio.sleep(0.02)
            assert "with 4408" in server.log()
            await reader.wait_for_count(lambda e: e.type == 5, seq, timeout=60)
            rung = [e.content["id"] for e in reader.events if e.type == 5]
            assert rung == [f"r-{n}" for n in range(1, seq + 1)]
            # The slow one's connection ends (its close frame may sit behind unread bytes).
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(30):
                    while True:
                        await ws.recv()
        assert reader.violations == []
