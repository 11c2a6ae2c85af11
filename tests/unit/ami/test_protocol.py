"""Named edge cases of AMI framing (wazo-amid's list, plus what real Asterisks sent us)."""

from __future__ import annotations

from telephony.ami import AmiParser, Event, Greeting, MalformedPacket, Response

GREETING = b"Asterisk Call Manager/11.0.0\r\n"


def feed_all(parser: AmiParser, *chunks: bytes) -> list[object]:
    packets: list[object] = []
    for chunk in chunks:
        packets.extend(parser.feed(chunk))
    return packets


def test_greeting_is_one_line_without_blank_line_after_it() -> None:
    packets = AmiParser().feed(GREETING + b"Event: FullyBooted\r\nUptime: 1\r\n\r\n")
    assert packets[0] == Greeting("Asterisk Call Manager/11.0.0")
    assert isinstance(packets[0], Greeting) and packets[0].version == "11.0.0"
    assert isinstance(packets[1], Event) and packets[1].name == "FullyBooted"


def test_greeting_split_across_reads_waits_for_its_line_end() -> None:
    parser = AmiParser()
    assert parser.feed(b"Asterisk Call Man") == []
    assert parser.feed(b"ager/1.3\r\n") == [Greeting("Asterisk Call Manager/1.3")]


def test_stream_without_greeting_parses_from_the_first_packet() -> None:
    packets = AmiParser().feed(b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n")
    assert isinstance(packets[0], Event) and packets[0]["Uniqueid"] == "1.1"


def test_incomplete_packet_waits_for_the_next_read() -> None:
    parser = AmiParser(expect_greeting=False)
    assert parser.feed(b"Event: Newchannel\r\nChannel: PJSIP/101-0000") == []
    packets = parser.feed(b"0001\r\n\r\n")
    assert isinstance(packets[0], Event) and packets[0]["Channel"] == "PJSIP/101-00000001"


def test_two_packets_in_one_read_come_out_in_order() -> None:
    packets = AmiParser(expect_greeting=False).feed(
        b"Event: A\r\nX: 1\r\n\r\nResponse: Success\r\nActionID: 7\r\n\r\n"
    )
    assert [type(p) for p in packets] == [Event, Response]
    assert isinstance(packets[1], Response) and packets[1].action_id == "7"


def test_split_utf8_byte_waits_for_next_read() -> None:
    name = "Иван Петров".encode()
    data = b"Event: NewCallerid\r\nCallerIDName: " + name + b"\r\n\r\n"
    cut = data.index(name) + 3  # inside the second Cyrillic letter
    parser = AmiParser(expect_greeting=False)
    assert parser.feed(data[:cut]) == []
    (packet,) = parser.feed(data[cut:])
    assert isinstance(packet, Event) and packet["CallerIDName"] == "Иван Петров"


def test_non_utf8_bytes_use_the_connectors_fallback_encoding() -> None:
    data = b"Event: Newchannel\r\nCallerIDName: " + "Мария".encode("cp1251") + b"\r\n\r\n"
    (packet,) = AmiParser(expect_greeting=False, fallback_encoding="cp1251").feed(data)
    assert isinstance(packet, Event) and packet["CallerIDName"] == "Мария"


def test_non_utf8_bytes_without_fallback_are_replaced_not_raised() -> None:
    data = b"Event: Newchannel\r\nCallerIDName: \xcc\xe0\r\nUniqueid: 5\r\n\r\n"
    (packet,) = AmiParser(expect_greeting=False).feed(data)
    assert isinstance(packet, Event) and packet["Uniqueid"] == "5"
    assert "\ufffd" in packet["CallerIDName"]


def test_bare_lf_stream_is_accepted() -> None:
    packets = AmiParser(expect_greeting=False).feed(b"Event: A\nX: 1\n\nEvent: B\n\n")
    assert [p.name for p in packets if isinstance(p, Event)] == ["A", "B"]


def test_park_message_with_lf_before_crlf_terminator_is_one_packet() -> None:
    # Asterisk 22 answers Park with "Message: Park successful\n\r\n\r\n".
    packets = AmiParser(expect_greeting=False).feed(
        b"Response: Success\r\nActionID: p1\r\nMessage: Park successful\n\r\n\r\n"
        b"Event: ParkedCall\r\nParkingSpace: 701\r\n\r\n"
    )
    assert [type(p) for p in packets] == [Response, Event]
    assert isinstance(packets[0], Response) and packets[0].message == "Park successful"


def test_asterisk_11_follows_output_keeps_lf_lines_as_body() -> None:
    data = (
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: cti-3\r\n"
        b"Name/username    Host\nSIP/101          127.0.0.1\n\n2 sip peers\n--END COMMAND--\r\n\r\n"
        b"Event: X\r\n\r\n"
    )
    packets = AmiParser(expect_greeting=False).feed(data)
    assert len(packets) == 2
    response = packets[0]
    assert isinstance(response, Response) and response.status == "Follows"
    assert response.action_id == "cti-3"
    assert response.output == [
        "Name/username    Host",
        "SIP/101          127.0.0.1",
        "",
        "2 sip peers",
    ]


def test_follows_body_split_across_reads_waits_for_end_command() -> None:
    data = b"Response: Follows\r\nActionID: 9\r\nline one\n\nline two\n--END COMMAND--\r\n\r\n"
    parser = AmiParser(expect_greeting=False)
    cut = data.index(b"\n\nline two") + 2
    assert parser.feed(data[:cut]) == []
    (packet,) = parser.feed(data[cut:])
    assert isinstance(packet, Response) and packet.output == ["line one", "", "line two"]


def test_asterisk_14_output_headers_are_a_list() -> None:
    (packet,) = AmiParser(expect_greeting=False).feed(
        b"Response: Success\r\nMessage: Command output follows\r\nOutput: a\r\nOutput: b\r\n\r\n"
    )
    assert isinstance(packet, Response) and packet.output == ["a", "b"]


def test_keys_are_looked_up_case_insensitively() -> None:
    (packet,) = AmiParser(expect_greeting=False).feed(
        b"Event: Dial\r\nSubEvent: Begin\r\nUniqueID: a.1\r\nDestUniqueID: a.2\r\n\r\n"
    )
    assert isinstance(packet, Event)
    assert packet.get("Uniqueid") == packet["UNIQUEID"] == "a.1"
    assert "destuniqueid" in packet
    assert packet.get("Linkedid") is None


def test_repeated_keys_are_kept_in_order() -> None:
    (packet,) = AmiParser(expect_greeting=False).feed(
        b"Event: CoreShowChannel\r\nChanVariable: A=1\r\nChanVariable: B=x=y\r\n\r\n"
    )
    assert isinstance(packet, Event)
    assert packet.getall("ChanVariable") == ["A=1", "B=x=y"]
    assert packet.variables() == {"A": "1", "B": "x=y"}
    assert packet["ChanVariable"] == "A=1"


def test_old_style_chanvariable_with_channel_name_folds_into_chanvariable() -> None:
    (packet,) = AmiParser(expect_greeting=False).feed(
        b"Event: Newexten\r\nChanVariable(SIP/101-0001): FROM_DID=555\r\n\r\n"
    )
    assert isinstance(packet, Event) and packet.variables() == {"FROM_DID": "555"}


def test_empty_values_and_missing_space_after_colon() -> None:
    (packet,) = AmiParser(expect_greeting=False).feed(
        b"Event: RTCPSent\r\nAccountCode: \r\nReportBlock:\r\nTo:127.0.0.1:5000\r\n\r\n"
    )
    assert isinstance(packet, Event)
    assert packet["AccountCode"] == ""
    assert packet["ReportBlock"] == ""
    assert packet["To"] == "127.0.0.1:5000"


def test_value_keeps_everything_after_the_first_colon() -> None:
    (packet,) = AmiParser(expect_greeting=False).feed(
        b"Event: X\r\nEventTV: 2026-11-30T11:32:55.638+0000\r\n\r\n"
    )
    assert isinstance(packet, Event) and packet["EventTV"] == "2026-11-30T11:32:55.638+0000"


def test_unknown_first_header_is_malformed_and_the_stream_goes_on() -> None:
    packets = AmiParser(expect_greeting=False).feed(
        b"Foo: bar\r\nBaz: 1\r\n\r\nEvent: Hangup\r\n\r\n"
    )
    assert isinstance(packets[0], MalformedPacket)
    assert packets[0].raw.startswith(b"Foo: bar")
    assert "Event, Response or Action" in packets[0].reason
    assert isinstance(packets[1], Event) and packets[1].name == "Hangup"


def test_oversized_packet_is_reported_and_parser_resynchronises() -> None:
    parser = AmiParser(expect_greeting=False, max_packet=1024)
    packets = parser.feed(b"Event: Huge\r\nData: " + b"x" * 2000)
    assert len(packets) == 1 and isinstance(packets[0], MalformedPacket)
    assert "1024" in packets[0].reason and packets[0].raw.startswith(b"Event: Huge")
    packets = parser.feed(b"x" * 500 + b"\r\n\r\nEvent: Next\r\n\r\n")
    assert [p.name for p in packets if isinstance(p, Event)] == ["Next"]
    assert parser.buffered == 0


def test_eof_mid_packet_returns_the_partial_bytes_as_malformed() -> None:
    parser = AmiParser(expect_greeting=False)
    assert parser.feed(b"Event: Hangup\r\nUniqueid: 1") == []
    (packet,) = parser.feed(b"")
    assert isinstance(packet, MalformedPacket)
    assert packet.raw == b"Event: Hangup\r\nUniqueid: 1"
    assert parser.feed(b"") == []


def test_blank_lines_between_packets_are_ignored() -> None:
    packets = AmiParser(expect_greeting=False).feed(
        b"\r\n\r\nEvent: A\r\n\r\n\r\n\r\nEvent: B\r\n\r\n"
    )
    assert [p.name for p in packets if isinstance(p, Event)] == ["A", "B"]
    assert len(packets) == 2


def test_event_list_markers_are_exposed() -> None:
    packets = AmiParser(expect_greeting=False).feed(
        b"Response: Success\r\nActionID: l1\r\nEventList: start\r\n\r\n"
        b"Event: CoreShowChannelsComplete\r\nActionID: l1\r\n"
        b"EventList: Complete\r\nListItems: 0\r\n\r\n"
    )
    response, complete = packets
    assert isinstance(response, Response) and response.starts_event_list
    assert isinstance(complete, Event) and complete.is_list_complete
