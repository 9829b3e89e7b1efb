"""Every error an operation answers is in the OpenAPI document, with its ``code`` (issue #13).

Static: every operation has the generic answers its shape implies, every documented status has
its codes, and every code is registered. Dynamic: ``tests/conftest.py`` records every error
answer of the session's app while the whole suite runs; the last test of the run holds each
recorded (operation, status, code) to the document. Run alone, it checks what it saw, and first
provokes a few errors itself, so that it never passes on nothing.
"""

from __future__ import annotations

import pytest
from flask_smorest.spec.plugins import FlaskPlugin

from server import api_errors
from server.errors import MESSAGES
from tests.openapi import operations


def _documented(spec) -> dict[str, dict[int, set[str]]]:
    """operationId → status → codes, as the document says."""
    return {
        op["operationId"]: {
            int(status): set(response["x-error-codes"])
            for status, response in op["responses"].items()
            if "x-error-codes" in response
        }
        for _path, _method, op in operations(spec)
    }


def test_every_error_status_of_every_operation_names_its_codes(spec):
    examples = spec["components"]["examples"]
    for path, method, op in operations(spec):
        where = f"{op['operationId']} ({method.upper()} {path})"
        assert "default" in op["responses"], where
        for status, response in op["responses"].items():
            if status == "default" or int(status) < 400:
                continue
            assert "x-error-codes" in response, f"{where}: {status} has no codes"
            codes = response["x-error-codes"]
            assert codes and len(codes) == len(set(codes)), (where, status, codes)
            content = response["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, where
            assert set(content["examples"]) == set(codes), (where, status)
            for code in codes:
                assert code in MESSAGES, f"{where}: {code} is not registered"
                ref = content["examples"][code]["$ref"]
                value = examples[ref.rsplit("/", 1)[1]]["value"]
                assert value == {"code": code, "status": int(status),
                                 "message": MESSAGES[code]["en"]}, ref  # fmt: skip
    error = spec["components"]["schemas"]["Error"]
    assert "enum" not in error["properties"]["code"], "a client must parse a code added later"


def test_every_operation_has_the_generic_answers_its_shape_implies(spec):
    signed_in = set(api_errors.SIGNED_IN[401])
    for path, method, op in operations(spec):
        where = f"{op['operationId']} ({method.upper()} {path})"
        codes = {s: set(r.get("x-error-codes", ())) for s, r in op["responses"].items()}
        query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert {"internal_error"} <= codes["500"], where
        assert {"service_unavailable"} <= codes["503"], where
        if op.get("security"):
            assert signed_in <= codes["401"], where
        else:
            assert not signed_in & codes.get("401", set()), where
        if "requestBody" in op:
            assert "invalid_json" in codes["400"], where
            assert "payload_too_large" in codes["413"], where
            assert "unsupported_media_type" in codes["415"], where
        if "requestBody" in op or query:
            assert "validation_error" in codes["422"], where
        else:
            assert "validation_error" not in codes.get("422", set()), where
        if "cursor" in query:
            assert "invalid_cursor" in codes["400"], where
        if method != "get":
            assert "invalid_idempotency_key" in codes["400"], where
            if op["operationId"] != "refreshTokens":  # takes the refresh token: no key is kept
                assert "idempotency_key_reused" in codes["422"], where
                assert "idempotency_key_in_progress" in codes["409"], where


def test_rate_limited_operations_are_found_from_their_limits(spec):
    """Flask-Limiter's limits, read from the views: those with a limit on their method only."""
    documented = _documented(spec)
    limited = {op for op, errors in documented.items() if "rate_limited" in errors.get(429, ())}
    assert {"signUp", "signIn", "refreshTokens", "changePassword", "requestPasswordReset",
            "confirmPasswordReset", "deleteMe", "createForumThread", "createForumPost",
            "updateForumPost", "addForumPostReaction", "flagForumPost", "searchForum",
            "createAlliance", "joinAlliance", "acceptAllianceInvite", "reportChatMessage",
            "createAnnouncement"} <= limited  # fmt: skip
    # the limit of the same route covers POST only, or PATCH only, or PUT only
    assert not {"listForumThreads", "listForumPosts", "getMe", "updateMe", "listAlliances",
                "deleteForumPost", "removeForumPostReaction"} & limited  # fmt: skip


def test_the_table_names_every_operation_and_only_registered_codes(spec):
    """A new operation is reviewed: it needs its entry (``{}`` if it has only generic ones)."""
    ids = {op["operationId"] for _p, _m, op in operations(spec)}
    api_errors.check_table(ids)
    unreviewed = sorted(ids - set(api_errors.OPERATION_ERRORS))
    assert not unreviewed, f"add to server/api_errors.OPERATION_ERRORS: {unreviewed}"
    for operation_id, errors in api_errors.OPERATION_ERRORS.items():
        for status, codes in errors.items():
            assert 400 <= status < 600 and codes, (operation_id, status)
            assert len(codes) == len(set(codes)), (operation_id, status)


def test_a_typo_in_the_table_is_refused(monkeypatch, spec):
    ids = {op["operationId"] for _p, _m, op in operations(spec)}
    monkeypatch.setitem(api_errors.OPERATION_ERRORS, "getForumThreed", {404: ("not_found",)})
    with pytest.raises(ValueError, match="getForumThreed"):
        api_errors.check_table(ids)
    monkeypatch.delitem(api_errors.OPERATION_ERRORS, "getForumThreed")
    monkeypatch.setitem(api_errors.OPERATION_ERRORS, "getMe", {404: ("forum_thread_not_fund",)})
    with pytest.raises(ValueError, match="forum_thread_not_fund"):
        api_errors.check_table(ids)
    shape = api_errors.Shape("get", True, False, False, False, False)
    with pytest.raises(ValueError, match="forum_thread_not_fund"):
        api_errors.operation_errors("getMe", shape)


def _operation_ids_by_rule(spec) -> dict[tuple[str, str], str]:
    return {(method.upper(), path): op["operationId"] for path, method, op in operations(spec)}


def test_every_error_the_app_sent_during_the_run_is_documented(app, spec, client, make_member,
                                                               auth_headers):  # fmt: skip
    """Runs last (``tests/conftest.py`` orders it): it holds every error answer recorded during
    the whole run to the document. Run alone, or with a few files, it checks what those runs
    saw, after provoking a few errors of its own."""
    member = make_member()
    headers = {**auth_headers(member), "Accept-Language": "en"}
    provoked = {
        ("GET", "/api/v1/me", 401, "authentication_required"): client.get("/api/v1/me"),
        ("GET", "/api/v1/forum/threads/<id:thread_id>", 404, "forum_thread_not_found"): (
            client.get("/api/v1/forum/threads/2147483647", headers=headers)
        ),
        ("POST", "/api/v1/auth/login", 400, "invalid_json"): client.post(
            "/api/v1/auth/login", data=b"{", content_type="application/json"
        ),
        ("GET", "/api/v1/members", 400, "invalid_cursor"): client.get(
            "/api/v1/members?cursor=not-a-cursor", headers=headers
        ),
    }
    for (_method, _rule, status, code), response in provoked.items():
        assert (response.status_code, response.get_json()["code"]) == (status, code)

    seen = app.extensions["errors_seen"]
    assert set(provoked) <= seen
    operations = _operation_ids_by_rule(spec)
    documented = _documented(spec)
    undocumented = set()
    for method, rule, status, code in seen:
        operation_id = operations.get((method, FlaskPlugin.flaskpath2openapi(rule)))
        if operation_id is None:
            continue  # not an operation of the API (/healthz, the docs)
        if code not in documented[operation_id].get(status, ()):
            undocumented.add((operation_id, status, code))
    assert not undocumented, "\n".join(f"{o} {s} {c}" for o, s, c in sorted(undocumented))


test_every_error_the_app_sent_during_the_run_is_documented.RUN_LAST = True  # type: ignore[attr-defined]
