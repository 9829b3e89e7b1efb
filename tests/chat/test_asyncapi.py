"""The AsyncAPI document of ``/chat`` (``server/chat/asyncapi.py``) checked against the code:
the namespace's handlers, every event name the server package emits (read from its source),
and the events and acknowledgements of a real session, each validated against its documented
JSON Schema; the document's own shape; and ``GET /api/v1/asyncapi.json``."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

import server
from server.chat import asyncapi
from server.chat.sockets import ChatNamespace
from server.common.socketbus import ResilientRedisManager
from server.common.socketwire import INVALID_EVENT
from server.extensions import socketio
from tests.chat.helpers import token_of

CHAT = "/chat"
SOURCE = Path(server.__file__).resolve().parent


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return asyncapi.build_document()


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _operations(doc: dict[str, Any], action: str) -> dict[str, dict[str, Any]]:
    """Event name → operation, for the operations with this action (the server's view:
    ``receive`` is a client's event, ``send`` the server's)."""
    out = {}
    for op in doc["operations"].values():
        if op["action"] == action:
            (ref,) = op["messages"]
            name = _resolve(doc, ref["$ref"])["name"]
            assert name not in out, f"{action} {name} documented twice"
            out[name] = op
    return out


def _payload(doc: dict[str, Any], message_ref: dict[str, str]) -> dict[str, Any]:
    return _resolve(doc, message_ref["$ref"])["payload"]


def _errors(doc: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """What is wrong with ``instance`` under ``schema``, whose ``$ref``s point into the
    document's components (JSON Schema draft 7: what AsyncAPI's schemas build on)."""
    root = {"allOf": [schema], "components": doc["components"]}
    validator = jsonschema_rs.Draft7Validator(root)
    return [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(instance)]


def _check(doc: dict[str, Any], schema: dict[str, Any], instance: Any, what: str) -> None:
    errors = _errors(doc, schema, instance)
    assert not errors, (what, instance, errors)


# --- client events: the handlers --------------------------------------------------------------


def test_every_handler_is_a_documented_client_event_and_back(doc):
    handlers = {
        name.removeprefix("on_")
        for name, _ in inspect.getmembers(ChatNamespace, inspect.isfunction)
        if name.startswith("on_")
    }
    assert {"connect", "disconnect", INVALID_EVENT} <= handlers
    # connect and disconnect are the connection; invalid_payload is what the server calls an
    # event it could not read (documented as the invalid_json error ack)
    events = handlers - {"connect", "disconnect", INVALID_EVENT}
    documented = _operations(doc, "receive")
    assert set(documented) - {"connect"} == events
    assert documented["connect"]["reply"]  # the connection: accepted or refused
    assert "invalid_json" in doc["info"]["description"]


# --- server events: the source ---------------------------------------------------------------


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _event_arg(call: ast.Call) -> ast.expr | None:
    args = list(call.args)
    if args and isinstance(args[0], ast.Name) and args[0].id == "self":  # Manager.emit(self, …)
        args = args[1:]
    if args:
        return args[0]
    return next((k.value for k in call.keywords if k.arg == "event"), None)


class _Calls(ast.NodeVisitor):
    """Calls of ``emitters`` with the functions (name, parameters) they are inside."""

    def __init__(self, emitters: set[str]) -> None:
        self.emitters, self.scopes = emitters, []
        self.found: list[tuple[ast.Call, list[tuple[str | None, set[str]]]]] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        a = node.args
        params = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
        self.scopes.append((getattr(node, "name", None), params))
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Call(self, node: ast.Call) -> None:
        if _callee(node) in self.emitters:
            self.found.append((node, list(self.scopes)))
        self.generic_visit(node)


def _owner(scopes: list[tuple[str | None, set[str]]], name: str) -> str | None:
    """The function whose parameter ``name`` is (the innermost that has one so named)."""
    for function, params in reversed(scopes):
        if name in params:
            return function
    return None


def _emitted_events() -> tuple[set[str], list[str]]:
    """Every event name the server package emits: the first argument of ``emit`` calls
    (``socketio.emit``, flask_socketio's ``emit``, a manager's) and of the functions that pass
    their own parameter on as one (``rooms.emit_to_conversation``), read as string literals,
    either branch of a conditional, or a module's string constant; and where a name could not
    be read."""
    trees = [(p, ast.parse(p.read_text(), str(p))) for p in sorted(SOURCE.rglob("*.py"))]
    emitters = {"emit"}
    while True:  # functions that forward their parameter as the event name are emitters too
        wrappers = set()
        for _path, tree in trees:
            calls = _Calls(emitters)
            calls.visit(tree)
            for call, scopes in calls.found:
                arg = _event_arg(call)
                if isinstance(arg, ast.Name) and (owner := _owner(scopes, arg.id)):
                    wrappers.add(owner)
        if wrappers <= emitters:
            break
        emitters |= wrappers
    names: set[str] = set()
    unread: list[str] = []
    for path, tree in trees:
        constants = {
            t.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        calls = _Calls(emitters)
        calls.visit(tree)
        for call, scopes in calls.found:
            arg = _event_arg(call)
            if isinstance(arg, ast.Name) and _owner(scopes, arg.id) in emitters:
                continue  # a wrapper's parameter: its callers are read
            branches = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for branch in branches:
                if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                    names.add(branch.value)
                elif isinstance(branch, ast.Name) and branch.id in constants:
                    names.add(constants[branch.id])
                else:
                    unread.append(f"{path.relative_to(SOURCE.parent)}:{call.lineno}")
    return names, unread


def test_every_event_the_server_emits_is_documented_and_nothing_else(doc):
    emitted, unread = _emitted_events()
    assert not unread, f"event names that are not literals: {unread}"
    # the scan finds what it should: the room events, the member's, the session's, the bus's
    assert {"message", "typing", "presence", "conversation_removed", "resync"} <= emitted
    documented = set(_operations(doc, "send"))
    assert emitted - documented == set(), "emitted but not documented"
    assert documented - emitted == set(), "documented but never emitted"


# --- a real session: every event and ack against its schema ---------------------------------


class Session:
    """Sockets of several members; what they receive, and the acks, are kept to check."""

    def __init__(self, app, doc):
        self.app, self.doc, self.sockets = app, doc, []
        self.events: list[tuple[str, list[Any]]] = []
        self.acks: list[tuple[str, Any]] = []
        self.client_ops = _operations(doc, "receive")

    def connect(self, headers):
        token = headers["Authorization"].split()[1]
        sock = socketio.test_client(self.app, namespace=CHAT, auth={"token": token})
        assert sock.is_connected(CHAT)
        self.sockets.append(sock)
        return sock

    def emit(self, sock, event, payload, *, ack=True):
        """Emit as a client does; the payload itself must be one the document allows."""
        schema = _payload(self.doc, self.client_ops[event]["messages"][0])
        _check(self.doc, schema, payload, f"client {event}")
        if not ack:
            return sock.emit(event, payload, namespace=CHAT)
        answer = sock.emit(event, payload, namespace=CHAT, callback=True)
        self.acks.append((event, answer))
        return answer

    def drain(self):
        for sock in self.sockets:
            if sock.is_connected(CHAT):
                got = sock.get_received(CHAT)
            else:  # closed by the server: what it was told before
                got, sock.queue = [p for p in sock.queue if p["namespace"] == CHAT], []
            for p in got:  # the test client unwraps the one argument of a "message" event
                one = p["name"] in ("message", "json")
                self.events.append((p["name"], [p["args"]] if one else p["args"]))

    def close(self):
        for sock in self.sockets:
            if sock.is_connected(CHAT):
                sock.disconnect(namespace=CHAT)


def test_a_session_s_events_and_acks_are_as_documented(
    app, chat, client, auth_headers, make_member, world, doc
):
    outsider, friend = make_member(), make_member()
    member_headers = auth_headers(world.member)  # the session signed out at the end
    session = Session(app, doc)
    try:
        mine = session.connect(auth_headers(world.owner))
        theirs = session.connect(member_headers)  # the owner hears it online
        stranger = session.connect(auth_headers(outsider))
        body = {"conversation_id": world.channel, "body": "周六外拍", "client_id": "c-1"}
        sent = session.emit(mine, "send", body)["message"]
        assert sent["client_id"] == "c-1"
        message = f"/api/v1/chat/messages/{sent['id']}"
        chat.call(world.owner, "PATCH", message, 200, json={"body": "周日外拍"})
        chat.call(world.member, "PUT", f"{message}/reactions/like", 200)
        chat.call(world.member, "DELETE", f"{message}/reactions/like", 200)
        session.emit(theirs, "typing", {"conversation_id": world.channel}, ack=False)
        read = {"conversation_id": world.channel, "message_id": sent["id"]}
        assert session.emit(theirs, "read", read) == {"last_read_id": sent["id"]}
        assert session.emit(theirs, "presence", {"status": "idle"}) == {"status": "away"}
        assert session.emit(theirs, "join", {"conversation_id": world.channel}) == {"ok": True}
        # refused: not a member; not a valid send (the schema refuses it too)
        refused = session.emit(stranger, "send", {"conversation_id": world.channel, "body": "嗨"})
        assert refused["error"]["code"] == "chat_conversation_not_found"
        bad = stranger.emit(
            "send", {"conversation_id": world.channel}, namespace=CHAT, callback=True
        )
        assert bad["error"]["code"] == "validation_error"
        send_schema = _payload(doc, session.client_ops["send"]["messages"][0])
        assert _errors(doc, send_schema, {"conversation_id": world.channel})
        session.acks.append(("send", bad))
        # one's conversations come and go
        pair = {"member_ids": [world.member.id]}
        direct = chat.call(friend, "POST", "/api/v1/chat/direct", 200, json=pair)
        chat.call(world.member, "POST", f"/api/v1/chat/conversations/{direct['id']}/leave", 204)
        chat.call(world.owner, "DELETE", message, 204)
        # the bus came back after an outage: this process's sockets are told to resync
        ResilientRedisManager.resync_local(socketio.server.manager)
        # signed out: that session's socket is told, then closed
        assert client.post("/api/v1/auth/logout", headers=member_headers).status_code == 204
        assert not theirs.is_connected(CHAT)
        session.drain()
    finally:
        session.close()

    server_ops = _operations(doc, "send")
    for name, args in session.events:
        assert name in server_ops, f"server event {name!r} is not documented"
        assert len(args) == 1, (name, args)  # one argument, as documented
        schema = _payload(doc, server_ops[name]["messages"][0])
        _check(doc, schema, args[0], f"server event {name}")
    assert {name for name, _ in session.events} == set(server_ops), "a documented event unseen"
    acked = set()
    for event, answer in session.acks:
        replies = session.client_ops[event]["reply"]["messages"]
        fits = [r["$ref"] for r in replies if not _errors(doc, _payload(doc, r), answer)]
        assert len(fits) == 1, (event, answer, fits)  # one and only one, as AsyncAPI says
        acked.add(fits[0].rsplit("/", 1)[1])
    assert acked == {f"client.{e}.ack" for e in ("send", "read", "presence", "join")} | {
        "error.ack"
    }


def test_a_connection_is_accepted_or_refused_as_documented(
    app, auth_headers, make_member, doc, monkeypatch
):
    from socketio import packet

    connect = _operations(doc, "receive")["connect"]
    ok_ref, refused_ref = connect["reply"]["messages"]
    auth = {"token": token_of(auth_headers, make_member())}
    _check(doc, _payload(doc, connect["messages"][0]), auth, "connect auth")
    sock = socketio.test_client(app, namespace=CHAT, auth=auth)
    sock.disconnect(namespace=CHAT)
    answers: list[Any] = []
    send = socketio.server._send_packet  # the test client's, set as it was made

    def record(eio_sid, pkt):  # what the server answers a connect packet with
        if pkt.packet_type in (packet.CONNECT, packet.CONNECT_ERROR):
            answers.append((pkt.packet_type, pkt.data))
        return send(eio_sid, pkt)

    monkeypatch.setattr(socketio.server, "_send_packet", record)
    for given in (auth, None, {"token": "not-a-jwt"}):
        sock.connect(namespace=CHAT, auth=given)
        assert sock.is_connected(CHAT) == (given is auth)
        if given is auth:
            sock.disconnect(namespace=CHAT)
    assert [kind for kind, _ in answers] == [packet.CONNECT] + [packet.CONNECT_ERROR] * 2
    _check(doc, _payload(doc, ok_ref), answers[0][1], "connected")
    for _kind, data in answers[1:]:
        _check(doc, _payload(doc, refused_ref), data, "connect_error")


def test_payloads_follow_the_marshmallow_schemas(doc):
    """Derived, not copied: a field added to a schema is in the document."""
    from server.chat.schemas import MessageSendSchema

    schemas = doc["components"]["schemas"]
    for name, schema in asyncapi.DERIVED.items():
        fields = {f.data_key or key for key, f in schema().fields.items()}
        assert set(schemas[name]["properties"]) == fields, name
    assert set(schemas["ChatSend"]["properties"]) == set(MessageSendSchema().fields) | {
        "conversation_id"
    }
    assert set(schemas["ChatSend"]["required"]) == {"body", "conversation_id"}
    assert set(schemas["Error"]["required"]) == {"code", "status", "message"}


# --- the document itself ---------------------------------------------------------------------

_KEY = re.compile(r"^[\w\d.\-_]+$")  # AsyncAPI's pattern for component and operation keys


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_the_document_has_the_shape_of_asyncapi_3(doc):
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    top = {"asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations"}
    assert set(doc) <= top | {"components"}
    for server_ in doc["servers"].values():
        assert server_["host"] and server_["protocol"]
        for variable in re.findall(r"\{(\w+)\}", server_["host"]):
            assert "default" in server_["variables"][variable]
    for ref in _refs(doc):  # every $ref resolves
        _resolve(doc, ref)
    for key, schema in doc["components"]["schemas"].items():
        assert _KEY.match(key), key
        assert jsonschema_rs.meta.is_valid(schema), key  # a JSON Schema
    for key, op in doc["operations"].items():
        assert _KEY.match(key) and op["action"] in ("send", "receive"), key
        channel = _resolve(doc, op["channel"]["$ref"])
        # an operation's messages, and its reply's, are its channel's (by reference)
        prefix = op["channel"]["$ref"] + "/messages/"
        replies = op.get("reply", {}).get("messages", [])
        for ref in op["messages"] + replies:
            assert ref["$ref"].startswith(prefix), (key, ref)
            assert ref["$ref"].removeprefix(prefix) in channel["messages"], (key, ref)
        if op["action"] == "send":
            assert op["x-recipients"] and set(op["x-recipients"]) <= set(asyncapi.RECIPIENTS)
    for key, message in doc["channels"]["chat"]["messages"].items():
        assert _KEY.match(key) and message["payload"]["$ref"], key
        assert message["summary"], key
    assert doc["channels"]["chat"]["address"] == "/chat"


def test_it_is_served_beside_the_openapi_document(app, client):
    got = client.get("/api/v1/asyncapi.json")
    assert got.status_code == 200 and got.mimetype == "application/json"
    assert got.headers["Cache-Control"] == "public, max-age=300"
    assert got.get_json() == asyncapi.build_document(app.config["API_VERSION"])
    openapi = client.get("/api/v1/openapi.json").get_json()
    assert not [p for p in openapi["paths"] if "asyncapi" in p]  # not an OpenAPI operation
