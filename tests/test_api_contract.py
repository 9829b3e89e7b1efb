"""The API contract holds for every operation: documented, and bad input always a clear 4xx.

These tests walk the OpenAPI document, so every endpoint a later feature adds is covered.
"""

from __future__ import annotations

import re

import pytest

from server.errors import MESSAGES
from tests.openapi import (
    assert_error_shape,
    concrete_url,
    operations,
    send_to_every_body,
    takes_json,
)


def test_every_operation_is_documented(spec):
    ops = list(operations(spec))
    assert len(ops) >= 15
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), f"{where} has no summary"
        assert "default" in op["responses"], f"{where} does not document its errors"
        success = [c for c in op["responses"] if c.startswith("2")]
        assert len(success) == 1, f"{where} has {success} success responses"
        public = {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/meta"}
        if path not in public and "reset" not in path:
            assert op.get("security") == [{"bearerAuth": []}], f"{where} is not guarded"
            assert "401" in op["responses"], where
    schemas = spec["components"]["schemas"]
    assert set(schemas["Error"]["required"]) == {"code", "status", "message"}


def test_every_operation_has_a_stable_readable_id_and_a_tag(spec):
    """Client generators (Kotlin, Swift, Dart, openapi-python-client) name methods after
    ``operationId`` and packages after the title: both must be ASCII, readable and unique."""
    assert spec["info"]["title"].isascii(), spec["info"]["title"]
    ids = []
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        assert re.fullmatch(r"[a-z][A-Za-z]{2,60}", op.get("operationId", "")), where
        assert op.get("tags") and len(op["tags"]) == 1, where
        ids.append(op["operationId"])
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    # the names a mobile team already uses stay: renaming one breaks every generated client
    assert {"signUp", "signIn", "getMe", "listForumThreads", "createForumThread",
            "sendChatMessage", "registerDevice"} <= set(ids)  # fmt: skip


def test_every_collection_has_the_one_list_shape(spec):
    """No answer is a bare array: a collection is ``{items, next_cursor}`` (a short, bounded
    one says ``next_cursor: null``), so a client pages every list with the same code. Chat
    history alone pages around an anchor message (``messages``, ``found_oldest``…)."""
    schemas = spec["components"]["schemas"]

    def resolve(schema):
        ref = schema.get("$ref")
        return schemas[ref.rsplit("/", 1)[1]] if ref else schema

    lists = 0
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        for status, response in op["responses"].items():
            content = response.get("content", {}).get("application/json")
            if not status.startswith("2") or content is None:
                continue
            schema = resolve(content["schema"])
            assert schema.get("type") != "array", f"{where} answers a bare array"
            if "items" in schema.get("properties", {}):
                lists += 1
                assert {"items", "next_cursor"} <= set(schema["required"]), where
    assert lists >= 20


def test_every_field_has_a_type_and_every_input_a_bound(spec):
    """A generated client types every field; a client author knows every input's limit."""
    schemas = spec["components"]["schemas"]

    def resolve(schema):
        return schemas[schema["$ref"].split("/")[-1]] if "$ref" in schema else schema

    typed = ("type", "$ref", "allOf", "oneOf", "anyOf")
    for name, schema in schemas.items():
        for field, prop in (schema.get("properties") or {}).items():
            assert any(k in prop for k in typed), f"{name}.{field} has no type"
            if prop.get("type") == "array":
                assert any(k in prop["items"] for k in typed), f"{name}.{field}[] has no type"

    unbounded = []

    def check(schema, where, seen):
        for field, prop in (resolve(schema).get("properties") or {}).items():
            inner = resolve(prop)
            if prop.get("readOnly") or inner.get("readOnly"):
                continue
            kind = inner.get("type")
            if kind == "string" and not (
                {"maxLength", "enum", "pattern"} & set(inner)
                or inner.get("format") in ("date-time", "date")
            ):
                unbounded.append(f"{where}.{field}")
            if kind == "array":
                if "maxItems" not in inner:
                    unbounded.append(f"{where}.{field}[]")
                check({"properties": {"item": inner["items"]}}, f"{where}.{field}", seen)
            if kind == "integer" and "maximum" not in inner:
                unbounded.append(f"{where}.{field}")
            ref = prop.get("$ref")
            if ref and ref not in seen:
                check(prop, f"{where}.{field}", seen | {ref})

    for path, method, op in operations(spec):
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "schema" in body:
            check(body["schema"], f"{method.upper()} {path}", set())
    assert unbounded == []


def test_meta_tells_a_new_client_what_it_needs_before_sign_up(app, client):
    """No sign-in, cacheable, and the values the server enforces: the policy version it sends
    lets the sign-up through (no 422 to learn it from)."""
    r = client.get("/api/v1/meta")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=300"
    meta = r.get_json()
    assert meta["locales"] == ["zh-Hans", "zh-Hant", "en"]
    assert meta["limits"]["forum_post_min_chars"] == app.config["FORUM_MIN_POST_CHARS"]
    assert meta["limits"]["max_body_bytes"] == app.config["MAX_CONTENT_LENGTH"]
    assert set(meta["min_app_version"]) == {"android", "ios", "web"}
    assert meta["push"] == {"enabled": False, "provider": "log"}
    signed_up = client.post("/api/v1/auth/register", json={
        "email": "meta@example.com", "password": "a long enough password",
        "display_name": "元数据", "privacy_policy_version": meta["privacy_policy"]["version"],
    })  # fmt: skip
    assert signed_up.status_code == 201, signed_up.get_json()
    assert (
        client.get("/api/v1/meta", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    )


def test_openapi_and_docs_are_served(client):
    """The docs page works offline and where a CDN is blocked: its assets come from the app."""
    assert client.get("/api/v1/openapi.json").get_json()["openapi"].startswith("3.")
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.data.lower()
    page = docs.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert len(assets) == 3 and all(a.startswith("/api/v1/docs/assets/") for a in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.data) > 1000, asset
        served.close()
    assert client.get("/api/v1/docs/assets/../../../etc/passwd").status_code == 404


def test_malformed_json_is_400_everywhere(client, spec, admin_headers):
    malformed = {"data": b'{"email": "a@b.c",', "content_type": "application/json"}
    for path, r in send_to_every_body(client, spec, admin_headers, **malformed):
        body = assert_error_shape(r, 400)
        assert body["code"] == "invalid_json", path


@pytest.mark.parametrize("payload", [[1, 2], "text", 42, True])
def test_a_body_that_is_not_an_object_is_422(client, spec, admin_headers, payload):
    for path, r in send_to_every_body(client, spec, admin_headers, json=payload):
        body = assert_error_shape(r, 422)
        assert body["code"] == "validation_error", path


def test_unknown_fields_are_refused(client, spec, admin_headers):
    for path, r in send_to_every_body(client, spec, admin_headers, json={"is_admin": True}):
        body = assert_error_shape(r, 422)
        assert body["errors"]["is_admin"] == ["未知欄位。"], path


def test_wrong_types_are_refused_field_by_field(client, spec, admin_headers):
    schemas = spec["components"]["schemas"]
    for path, method, op in operations(spec):
        if not takes_json(op):
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        properties = schemas[ref.rsplit("/", 1)[1]]["properties"]
        wrong = {name: {"not": "a scalar"} for name in properties}
        wrong.update({n: "text" for n, p in properties.items() if p.get("type") == "array"})
        r = client.open(
            concrete_url(path, admin_headers.member_id),
            method=method.upper(),
            headers=admin_headers.headers,
            json=wrong,
        )
        body = assert_error_shape(r, 422)
        assert set(body["errors"]) == set(properties), path


def test_oversized_bodies_are_413(client, spec, admin_headers):
    huge = b'{"bio": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    oversized = {"data": huge, "content_type": "application/json"}
    for path, r in send_to_every_body(client, spec, admin_headers, **oversized):
        body = assert_error_shape(r, 413)
        assert body["code"] == "payload_too_large", path


def test_long_strings_are_refused_before_any_work(client):
    r = client.post(
        "/api/v1/auth/login",
        json={"email": "a@b.c", "password": "x" * 10_000},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 422
    assert r.get_json()["errors"]["password"] == ["Length must be between 1 and 128."]


def test_405_keeps_its_allow_header(client):
    r = client.delete("/api/v1/auth/login", headers={"Accept-Language": "en"})
    body = assert_error_shape(r, 405, "en")
    assert body["code"] == "method_not_allowed"
    assert set(r.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_unknown_paths_are_404_in_the_error_shape(client):
    body = assert_error_shape(
        client.get("/api/v1/nowhere", headers={"Accept-Language": "en"}), 404, "en"
    )
    assert body["code"] == "not_found"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN", "请先登录。"),
        ("zh-SG", "请先登录。"),
        ("zh", "请先登录。"),
        ("zh-Hans-CN", "请先登录。"),
        ("zh-TW", "請先登入。"),
        ("zh-HK,en;q=0.5", "請先登入。"),
        ("zh-Hant", "請先登入。"),
        ("en-GB", "Sign-in is required."),
        ("fr-FR, en;q=0.8", "Sign-in is required."),
        ("fr-FR", "请先登录。"),
        ("", "请先登录。"),
    ],
)
def test_messages_follow_accept_language(client, header, expected):
    r = client.get("/api/v1/me", headers={"Accept-Language": header} if header else {})
    assert r.get_json()["message"] == expected


def test_unexpected_errors_are_500_in_the_error_shape(app, client, monkeypatch, caplog):
    """A bug in a view (here: /healthz's view replaced by one that fails) goes through the
    whole request: the error shape, the request id, a logged traceback — and no details."""

    def broken_view() -> None:
        raise RuntimeError("boom: a secret detail")

    monkeypatch.setitem(app.view_functions, "healthz", broken_view)
    response = client.get("/healthz", headers={"Accept-Language": "en", "X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "bug-1"
    assert "secret" not in response.get_data(as_text=True)
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
    assert response.get_json() == {
        "code": "internal_error",
        "status": 500,
        "message": "Something went wrong on our side; please try again later.",
    }


def test_nul_characters_are_refused_alike_on_every_database(client, make_member, auth_headers):
    headers = {**auth_headers(make_member()), "Accept-Language": "en"}
    login = client.post("/api/v1/auth/login", json={"email": "a\u0000@b.c", "password": "x"})
    assert login.status_code == 422 and login.get_json()["code"] == "validation_error"
    device = client.post(
        "/api/v1/devices", headers=headers, json={"token": "abcdefgh\u0000", "platform": "ios"}
    )
    assert device.status_code == 422
    query = client.get("/api/v1/members?q=%00", headers=headers)
    assert query.status_code == 422
    path = client.delete("/api/v1/devices/abc%00def", headers=headers)
    assert path.status_code == 404


def _raised_404_codes() -> set[str]:
    """Every code the server's source raises with a 404: ``NotFound("x")`` and
    ``DomainError("x", 404)``."""
    import ast
    from pathlib import Path

    codes: set[str] = set()
    for path in Path(__file__).parent.parent.joinpath("server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(
                node.func, ast.Name | ast.Attribute
            ):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if name == "NotFound" and args:
                codes.add(args[0])
            elif name == "NotFound" and not node.args and path.name != "errors.py":
                codes.add("not_found")
            elif name == "DomainError" and len(args) >= 2 and args[1] == 404:
                codes.add(args[0])
    return codes


def test_one_not_found_rule():
    """A 404 for something the request names is ``<thing>_not_found`` (``forum_post_not_found``,
    ``member_not_found``), a code of its own with its own message; bare ``not_found`` is only
    for a URL that matches no route."""
    codes = _raised_404_codes()
    assert len(codes) > 10  # the scan found the features' codes
    for code in codes:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*_not_found", code), code
        assert code in MESSAGES, code
