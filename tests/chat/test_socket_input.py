"""Hostile Socket.IO packets get an error ack on every event, never a dead thread; only the
namespaces we serve accept connections; a socket closed for a revoked session is told why.

Packets are fed raw to the server, as a client's bytes would arrive, so python-socketio's own
decoding is part of what is tested (its ``json.loads`` was a ``RecursionError`` at depth 1,000,
and let lone surrogates through to the database write).
"""

from __future__ import annotations

import json

import pytest

from server.chat.sockets import ChatNamespace
from server.extensions import socketio
from tests.chat.helpers import open_socket

EVENTS = sorted(
    name[3:]
    for name in vars(ChatNamespace)
    if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
)

DEEP = "[" * 50_000
HOSTILE = {
    "deep_arrays": DEEP,
    "deep_objects": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "deep_but_closed": "[" * 100 + "]" * 100,
    "lone_surrogate": '{"conversation_id": 1, "body": "\\udc00", "status": "\\ud800"}',
    "huge_integer": '{"conversation_id": ' + "9" * 5_000 + "}",
    "nul": '{"conversation_id": 1, "body": "a\\u0000b"}',
    "nan": '{"conversation_id": NaN}',
}


def _raw(sock, text: str) -> list:
    """Feed ``42/chat,<id><text>`` to the server as the socket's bytes; the ack's arguments."""
    sock.acks = None
    socketio.server._handle_eio_message(sock.eio_sid, "2/chat,7" + text)
    return sock.acks["args"] if sock.acks else None


def test_the_event_list_is_complete():
    assert {"send", "typing", "read", "join", "presence"} <= set(EVENTS)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_payloads_get_an_error_ack_on_every_event(app, auth_headers, world, name):
    sock = open_socket(app, auth_headers, world.member)
    listener = open_socket(app, auth_headers, world.owner)
    try:
        for event in EVENTS:
            ack = _raw(sock, f'["{event}",{HOSTILE[name]}]')
            if event == "typing":
                assert ack == [], name  # dropped: nothing but the empty ack it asked for
                continue
            assert ack == [
                {
                    "error": {
                        "code": "invalid_json",
                        "status": 400,
                        "message": "请求体不是有效的 JSON。",
                    }
                }
            ], (event, name)
        assert listener.get_received("/chat") == []  # nothing reached the other member
        # the socket still works
        ack = sock.emit("send", {"conversation_id": world.channel, "body": "还在"},
                        namespace="/chat", callback=True)  # fmt: skip
        assert ack["message"]["html"] == "<p>还在</p>\n"
    finally:
        sock.disconnect(namespace="/chat")
        listener.disconnect(namespace="/chat")


@pytest.mark.parametrize(
    "text",
    [
        '{"event": "send"}',  # not an array
        "[]",
        "[42]",  # a name that is not a string
        '["connect", {}]',  # lifecycle events cannot be sent
        '["send", {"conversation_id": 1}, {"extra": true}]',  # more than one argument
        '["sen\\u0000d", {}]',
        "[" + '"send",' * 3,  # not JSON
    ],
)
def test_malformed_event_packets_get_an_error_ack(app, auth_headers, world, text):
    sock = open_socket(app, auth_headers, world.member)
    try:
        ack = _raw(sock, text)
        assert ack[0]["error"]["code"] == "invalid_json", text
        assert sock.is_connected("/chat")
    finally:
        sock.disconnect(namespace="/chat")


def test_an_event_without_a_payload_is_a_validation_error(app, auth_headers, world):
    sock = open_socket(app, auth_headers, world.member)
    try:
        assert _raw(sock, '["send"]')[0]["error"]["code"] == "validation_error"
        assert _raw(sock, '["read"]')[0]["error"]["code"] == "validation_error"
    finally:
        sock.disconnect(namespace="/chat")


@pytest.mark.parametrize("namespace", ["/", "/admin", "/chat2"])
def test_only_served_namespaces_accept_connections(app, auth_headers, make_member, namespace):
    token = auth_headers(make_member())["Authorization"].split()[1]
    for auth in (None, {"token": "nonsense"}, {"token": token}):
        client = socketio.test_client(app, namespace=namespace, auth=auth)
        assert not client.is_connected(namespace), (namespace, auth)


def test_a_socket_of_a_revoked_session_is_told_why(app, client, auth_headers, make_member):
    member = make_member()
    phone, laptop = auth_headers(member), auth_headers(member)
    on_phone = open_socket(app, lambda m: phone, member)
    on_laptop = open_socket(app, lambda m: laptop, member)
    try:
        assert client.post("/api/v1/auth/logout", headers=phone).status_code == 204
        assert not on_phone.is_connected("/chat")
        told = [e for e in on_phone.queue if e["name"] == "session_revoked"]
        assert [e["args"][0]["code"] for e in told] == ["token_revoked"]
        assert told[0]["args"][0]["status"] == 401
        # the laptop's socket was not told to sign in again (it reconnects with its token)
        assert [e for e in on_laptop.queue if e["name"] == "session_revoked"] == []
    finally:
        for sock in (on_phone, on_laptop):
            if sock.is_connected("/chat"):
                sock.disconnect(namespace="/chat")


def test_a_socket_finding_its_session_revoked_is_told_why(app, auth_headers, world):
    import sqlalchemy as sa

    from server.auth.models import AuthSession
    from server.common.time import utcnow
    from server.extensions import db

    sock = open_socket(app, auth_headers, world.member)
    with app.app_context():
        db.session.execute(
            sa.update(AuthSession)
            .where(AuthSession.member_id == world.member.id)
            .values(revoked_at=utcnow(), revoked_reason="logout")
        )
        db.session.commit()
    ack = sock.emit("read", {"conversation_id": world.channel, "message_id": 1},
                    namespace="/chat", callback=True)  # fmt: skip
    assert ack["error"]["code"] == "token_revoked"
    assert not sock.is_connected("/chat")
    assert [e["args"][0]["code"] for e in sock.queue if e["name"] == "session_revoked"] == [
        "token_revoked"
    ]


def test_strict_packets_still_carry_ordinary_json():
    from socketio import packet

    from server.common.socketwire import INVALID, StrictPacket

    pkt = StrictPacket(encoded_packet='2/chat,12["send",{"body":"你好 😀","n":[1,2.5,null]}]')
    assert pkt.id == 12 and pkt.namespace == "/chat"
    assert pkt.data == ["send", {"body": "你好 😀", "n": [1, 2.5, None]}]
    assert StrictPacket(encoded_packet='2/chat,3["send",' + DEEP + "]").data == ["send", INVALID]
    out = StrictPacket(packet.EVENT, data=["message", {"t": "文字"}], namespace="/chat").encode()
    assert json.loads(out[len("2/chat,") :]) == ["message", {"t": "文字"}]


def test_a_failing_connect_refuses_and_a_failing_event_is_an_error_ack(app):
    """Whatever a connect handler returns but False accepts the socket: a connect that fails
    unexpectedly must refuse, never let an unauthenticated socket in."""
    from flask import request
    from flask_socketio import ConnectionRefusedError

    from server.chat.sockets import on_error

    with app.test_request_context(headers={"Accept-Language": "en"}):
        request.event = {"message": "connect", "args": ()}
        with pytest.raises(ConnectionRefusedError) as refused:
            on_error(RuntimeError("a bug"))
        assert refused.value.error_args["data"]["code"] == "internal_error"
        request.event = {"message": "send", "args": ()}
        assert on_error(RuntimeError("boom")) == {
            "error": {
                "code": "internal_error",
                "status": 500,
                "message": "Something went wrong on our side; please try again later.",
            }
        }


@pytest.mark.parametrize("name", ["deep_arrays", "lone_surrogate", "huge_integer"])
def test_a_connect_packet_with_hostile_auth_is_refused_with_a_reason(app, name):
    """The connect packet's ``auth`` goes through the same reader: refused in the error shape,
    as a connect without a token, not a logged exception and a client left waiting."""
    sock = socketio.test_client(app, namespace="/chat", auth={"token": "x"})
    assert not sock.is_connected("/chat")
    sent = []
    original = socketio.server._send_packet

    def record(eio_sid, pkt):
        sent.append(pkt)
        return original(eio_sid, pkt)

    socketio.server._send_packet = record
    try:
        socketio.server._handle_eio_message(sock.eio_sid, "0/chat," + HOSTILE[name])
    finally:
        socketio.server._send_packet = original
    assert not sock.is_connected("/chat")
    assert [(p.packet_type, p.data["data"]["code"]) for p in sent] == [
        (4, "authentication_required")  # CONNECT_ERROR with the error shape
    ]


def test_a_socket_validation_error_names_its_fields_as_rest_does(app, auth_headers, world):
    sock = open_socket(app, auth_headers, world.member)
    try:
        ack = sock.emit(
            "send", {"conversation_id": world.channel, "body": ""}, namespace="/chat", callback=True
        )
        assert ack["error"]["code"] == "validation_error"
        assert list(ack["error"]["errors"]) == ["body"]
    finally:
        sock.disconnect(namespace="/chat")
