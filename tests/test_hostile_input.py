"""Bodies that Python's ``json`` cannot turn into data safely get a 4xx on every operation.

A 50,000-deep ``[`` was a ``RecursionError`` (500) on ``POST /auth/login``; a 5,000-digit
integer a ``ValueError``; a lone surrogate (``"\\udc00"``) a ``UnicodeEncodeError`` at the
database write. Integers took ``1.5`` (truncated to 1), and a text/plain or form body on a JSON
operation was ignored (200, nothing changed). Each is walked over the OpenAPI document, so every
operation a later feature adds is covered too.
"""

from __future__ import annotations

import json

import pytest

from tests.openapi import (
    assert_error_shape,
    body_operations,
    concrete_url,
    operations,
    send_to_every_body,
    takes_json,
)

HOSTILE = {
    "deep_arrays": b"[" * 50_000,
    "deep_objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "deep_but_closed": b"[" * 100 + b"]" * 100,
    "huge_integer": b'{"email": ' + b"9" * 5_000 + b"}",
    "lone_surrogate": b'{"email": "\\udc00", "display_name": "\\ud800x"}',
    "nan": b'{"email": NaN}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_json_is_400_everywhere(client, spec, admin_headers, name):
    body = {"data": HOSTILE[name], "content_type": "application/json"}
    for path, r in send_to_every_body(client, spec, admin_headers, **body):
        assert assert_error_shape(r, 400)["code"] == "invalid_json", (path, name)


def _properties(spec, op):
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]


def _typed(properties, kind):
    return [n for n, p in properties.items() if p.get("type") == kind and not p.get("readOnly")]


def test_lone_surrogates_in_every_text_field_are_400(client, spec, admin_headers):
    for path, method, op in operations(spec):
        if not takes_json(op):
            continue
        strings = _typed(_properties(spec, op), "string")
        if not strings:
            continue
        data = json.dumps({name: "ok\udc00" for name in strings})  # escaped: "ok\\udc00"
        r = client.open(
            concrete_url(path, admin_headers.member_id),
            method=method.upper(),
            headers=admin_headers.headers,
            data=data,
            content_type="application/json",
        )
        assert assert_error_shape(r, 400)["code"] == "invalid_json", path


def test_integer_fields_refuse_fractions_everywhere(client, spec, admin_headers):
    checked = 0
    for path, method, op in operations(spec):
        if not takes_json(op):
            continue
        integers = _typed(_properties(spec, op), "integer")
        if not integers:
            continue
        checked += 1
        r = client.open(
            concrete_url(path, admin_headers.member_id),
            method=method.upper(),
            headers=admin_headers.headers,
            json={name: 1.5 for name in integers},
        )
        body = assert_error_shape(r, 422)
        for name in integers:
            assert body["errors"][name] == ["不是有效的整數。"], (path, name)
    assert checked >= 5


def test_integers_in_query_strings_are_plain_digits(client, make_member, auth_headers):
    headers = {**auth_headers(make_member()), "Accept-Language": "en"}
    for value in ("1.5", " 2", "1_0", "\u0661\u0662", "9" * 5_000, "true"):
        r = client.get("/api/v1/members", headers=headers, query_string={"limit": value})
        body = assert_error_shape(r, 422, "en")
        assert body["errors"]["limit"] == ["Not a valid integer."], value
    assert client.get("/api/v1/members?limit=2", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("display_name=x", "application/x-www-form-urlencoded"),
        ('{"display_name": "改了"}', "text/plain"),
        ('{"display_name": "改了"}', None),
    ],
)
def test_a_body_that_is_not_json_is_415_everywhere(client, spec, admin_headers, data, content_type):
    for path, method in body_operations(spec):
        r = client.open(
            concrete_url(path, admin_headers.member_id),
            method=method.upper(),
            headers=admin_headers.headers,
            data=data.encode(),
            content_type=content_type,
        )
        assert assert_error_shape(r, 415)["code"] == "unsupported_media_type", path


def test_a_form_body_changes_nothing(client, make_member, auth_headers):
    member = make_member(display_name="原名")
    headers = auth_headers(member)
    r = client.patch("/api/v1/me", headers=headers, data={"display_name": "改了"})
    assert r.status_code == 415
    assert client.get("/api/v1/me", headers=headers).get_json()["display_name"] == "原名"


def test_hostile_sign_in_bodies_count_toward_the_login_limit(client, make_member):
    """Refused sign-ins of every kind count like wrong passwords: per account and address
    (10 a minute), and for bodies naming no readable account, under one key for all of them."""
    from tests.conftest import PASSWORD

    member = make_member()
    refused = [
        {"email": member.email, "password": 1.5},
        {"email": member.email, "password": "x" * 500},
        {"email": member.email, "password": ["x"]},
    ]
    for i in range(10):
        r = client.post("/api/v1/auth/login", json=refused[i % len(refused)])
        assert r.status_code == 422, r.get_json()
    r = client.post("/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert r.status_code == 429 and r.get_json()["code"] == "rate_limited"

    unreadable = list(HOSTILE.values())
    for i in range(10):
        r = client.post(
            "/api/v1/auth/login", data=unreadable[i % len(unreadable)], content_type="text/plain"
        )
        assert r.status_code in (400, 415), r.get_json()
    r = client.post("/api/v1/auth/login", data=b"[" * 50_000, content_type="application/json")
    assert r.status_code == 429 and r.get_json()["code"] == "rate_limited"


def test_names_lose_invisible_format_characters(client, make_member, auth_headers):
    """Bidirectional overrides and zero-width characters made names that read as something
    else ("abc\u202egnp.exe" shows as abcexe.png); names keep what writing needs."""
    member = make_member(role="organiser")
    headers = auth_headers(member)

    def rename(name):
        return client.patch("/api/v1/me", headers=headers, json={"display_name": name})

    assert rename("abc\u202egnp.exe").get_json()["display_name"] == "abcgnp.exe"
    assert rename("張\u200b三\u2066豐\u2069\ufeff").get_json()["display_name"] == "張三豐"
    assert rename("👩\u200d💻 小林").get_json()["display_name"] == "👩\u200d💻 小林"  # ZWJ emoji
    assert rename("میخواهم\u200cرفتن").get_json()["display_name"] == "میخواهم\u200cرفتن"
    assert rename("שלום\u200fעולם").get_json()["display_name"] == "שלוםעולם"
    assert rename("小\u3164林\u2800").get_json()["display_name"] == "小林"
    for blank in ("\u200b\u202e\u200f", "\u3164\u3164", "\u2800", "\u115f\u1160"):
        invisible = rename(blank)
        assert invisible.status_code == 422, blank
    invisible = rename("\u200b\u202e\u200f")
    assert invisible.status_code == 422 and "display_name" in invisible.get_json()["errors"]
    handle = client.patch("/api/v1/me", headers=headers, json={"username": "abc\u200bdef"})
    assert handle.status_code == 422

    alliance = client.post(
        "/api/v1/alliances", headers=headers, json={"name": "自由\u202e人联盟\u200b"}
    )
    assert alliance.status_code == 201, alliance.get_json()
    assert alliance.get_json()["name"] == "自由人联盟"
    registered = client.post(
        "/api/v1/auth/register",
        json={
            "email": "bidi@example.com",
            "password": "correct horse battery",
            "display_name": "\u202eadmin",
            "privacy_policy_version": client.application.config["PRIVACY_POLICY_VERSION"],
        },
    )
    assert registered.status_code == 201, registered.get_json()
    token = registered.get_json()["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["display_name"] == "admin"
