"""JWTs: what they carry, how a request's token is checked, and how failures are answered.

An access token (15 minutes) and a refresh token (30 days) both carry ``sub`` (the member id,
a string as PyJWT requires) and ``fam`` (the sign-in session).

Checking a request's token (``authenticate``, behind ``@blp.auth()``):

1. its signature and claims are verified once (``server.auth.claims``: one parse; a token this
   process has verified before is only checked for expiry);
2. one indexed query loads the member *through the session*: it answers only while the session
   exists, is not revoked and belongs to ``sub``, and the member is not erased. That member is
   what ``current_member()`` returns, so the check costs no query of its own.

Nothing about a session or a member is kept from one request to the next, in any process: a
signed-out, replaced (a reused refresh token, the session cap, a new password) or erased session
is refused by every process at its next request, with or without Redis, and the view never
acts for an erased member. (``tests/auth/test_revocation.py`` holds two server processes to it.)
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token, get_jwt
from flask_jwt_extended.exceptions import NoAuthorizationError, RevokedTokenError
from flask_jwt_extended.internal_utils import verify_token_type

from server.auth.claims import verified
from server.auth.models import AuthSession
from server.errors import error_response
from server.extensions import db
from server.members.models import Member


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"


def issue_tokens(session: AuthSession) -> TokenPair:
    """New tokens for ``session``; its current refresh jti becomes the new token's."""
    cfg = current_app.config
    identity = str(session.member_id)
    session.refresh_jti = str(uuid.uuid4())
    access_ttl = timedelta(seconds=cfg["JWT_ACCESS_TOKEN_EXPIRES"])
    refresh_ttl = timedelta(seconds=cfg["JWT_REFRESH_TOKEN_EXPIRES"])
    access = create_access_token(
        identity, additional_claims={"fam": session.id}, expires_delta=access_ttl
    )
    refresh = create_refresh_token(
        identity,
        additional_claims={"fam": session.id, "jti": session.refresh_jti},
        expires_delta=refresh_ttl,
    )
    return TokenPair(
        access, refresh, int(access_ttl.total_seconds()), int(refresh_ttl.total_seconds())
    )


def current_session_id() -> str:
    return str(get_jwt()["fam"])


def authenticate(*, refresh: bool = False, optional: bool = False) -> dict[str, Any] | None:
    """Check the request's bearer token (a refresh token when ``refresh``) and its session, as
    ``flask_jwt_extended.verify_jwt_in_request`` does, with the same errors (its handlers answer
    them: ``authentication_required``, ``invalid_token``, ``token_expired``,
    ``token_revoked``), and leave the claims and the member where ``get_jwt()`` and
    ``current_member()`` find them. Its claims; None when ``optional`` and there is no token.

    Done at most once a request: a second call (``@blp.auth()`` after a rate-limit key or the
    Idempotency-Key hook checked the same token) checks only the token's type.
    """
    environ = request.environ
    if environ["REQUEST_METHOD"] == "OPTIONS":  # flask-jwt-extended's exempt method
        return None
    seen = g._get_current_object()  # one context look-up, not one per attribute
    done: dict[str, Any] | None = getattr(seen, "_jwt_extended_jwt", None)
    if done:
        verify_token_type(done, refresh)
        return done
    try:
        encoded = _bearer(environ)
    except NoAuthorizationError:
        if not optional:
            raise
        seen._jwt_extended_jwt, seen._jwt_extended_jwt_header = {}, {}
        seen._jwt_extended_jwt_user, seen._jwt_extended_jwt_location = {"loaded_user": None}, None
        return None
    header, claims = verified(encoded)
    verify_token_type(claims, refresh)
    member = _live_member(claims)
    if member is None:
        raise RevokedTokenError(header, claims)
    seen._jwt_extended_jwt_user = {"loaded_user": member}
    seen._jwt_extended_jwt_header = header
    seen._jwt_extended_jwt = claims
    seen._jwt_extended_jwt_location = "headers"
    return claims


def _bearer(environ: dict[str, Any]) -> str:
    """The token of ``Authorization: Bearer <token>``; any other shape of the header is read
    (or refused) by flask-jwt-extended itself."""
    raw: str = environ.get("HTTP_AUTHORIZATION", "")
    if raw.startswith("Bearer ") and raw.count(" ") == 1 and "," not in raw and len(raw) > 7:
        config = current_app.config
        if config["JWT_HEADER_NAME"] == "Authorization" and config["JWT_HEADER_TYPE"] == "Bearer":
            return raw[7:]
    from flask_jwt_extended.view_decorators import _decode_jwt_from_headers

    return _decode_jwt_from_headers()[0]


@functools.cache
def _live_session_member() -> sa.Select[Member]:
    """The member of session ``:fam`` while it is live: the session exists and is not revoked,
    the member is not erased. Built once: building it per request cost more than running it."""
    return (
        sa.select(Member)
        .join(AuthSession, AuthSession.member_id == Member.id)
        .where(
            AuthSession.id == sa.bindparam("fam"),
            AuthSession.revoked_at.is_(None),
            Member.deleted_at.is_(None),
        )
    )


def _live_member(claims: dict[str, Any]) -> Member | None:
    """The member of the token's session while that session is live and is ``sub``'s (one
    query, its answer kept for the rest of the request only), else None."""
    fam, sub = claims.get("fam"), claims.get("sub")
    kept = g._get_current_object()
    seen: tuple[Any, Any, Member | None] | None = getattr(kept, "_live_member", None)
    if seen is not None and seen[0] == fam and seen[1] == sub:
        return seen[2]
    member = None
    if isinstance(fam, str):
        member = db.session.execute(_live_session_member(), {"fam": fam}).scalar_one_or_none()
        if member is not None and str(member.id) != sub:
            member = None
    if member is not None:
        kept.member_locale = member.locale
        kept.member_time_zone = member.time_zone
    kept._live_member = (fam, sub, member)
    return member


def live_session_member(session_id: Any, member_id: Any) -> Member | None:
    """The member of a session that is still live (read afresh, never from ``g``): for
    long-lived connections that authenticated once, to check they still may."""
    if not isinstance(session_id, str) or not isinstance(member_id, int):
        return None
    member = db.session.execute(_live_session_member(), {"fam": session_id}).scalar_one_or_none()
    return member if member is not None and member.id == member_id else None


def _is_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
    # flask-jwt-extended's own checks (``verify_jwt_in_request`` in other features' hooks):
    # the same query, once a request
    return _live_member(payload) is None


def _current_member(_header: dict[str, Any], payload: dict[str, Any]) -> Member | None:
    return _live_member(payload)


def _missing(_reason: str) -> Any:
    return error_response("authentication_required", 401, headers={"WWW-Authenticate": "Bearer"})


def _invalid(_reason: str) -> Any:
    return error_response("invalid_token", 401, headers={"WWW-Authenticate": "Bearer"})


def _expired(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
    return error_response("token_expired", 401, headers={"WWW-Authenticate": "Bearer"})


def _revoked(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
    return error_response("token_revoked", 401, headers={"WWW-Authenticate": "Bearer"})


def _no_member(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
    return error_response("token_revoked", 401, headers={"WWW-Authenticate": "Bearer"})


def _not_fresh(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
    return error_response("invalid_token", 401)


def _claims_failed(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
    return error_response("invalid_token", 401)


def configure(jwt: JWTManager) -> None:
    """Install the checks and error answers on the shared JWTManager."""
    from flask_jwt_extended.default_callbacks import default_decode_key_callback

    if jwt._decode_key_callback is not default_decode_key_callback:
        # server.auth.claims verifies with the configured key, never a loader's
        raise RuntimeError("a decode_key_loader is not supported: tokens are verified by claims")
    jwt.token_in_blocklist_loader(_is_revoked)
    jwt.user_lookup_loader(_current_member)
    jwt.unauthorized_loader(_missing)
    jwt.invalid_token_loader(_invalid)
    jwt.expired_token_loader(_expired)
    jwt.revoked_token_loader(_revoked)
    jwt.user_lookup_error_loader(_no_member)
    jwt.needs_fresh_token_loader(_not_fresh)
    jwt.token_verification_failed_loader(_claims_failed)


def member_for_token(encoded: object) -> tuple[Member, str]:
    """The member an access token (not a refresh token) speaks for, and its session id,
    checked as a request's would be (signature, expiry, a live session); for Socket.IO's
    connect ``auth``.

    Raises ``DomainError`` with ``authentication_required``, ``token_expired``,
    ``token_revoked`` or ``invalid_token``.
    """
    from flask_jwt_extended.exceptions import JWTExtendedException
    from jwt import ExpiredSignatureError, PyJWTError

    from server.errors import DomainError

    if not isinstance(encoded, str) or not encoded:
        raise DomainError("authentication_required", 401)
    try:
        _header, claims = verified(encoded)
    except ExpiredSignatureError:
        raise DomainError("token_expired", 401) from None
    except (PyJWTError, JWTExtendedException, ValueError):
        raise DomainError("invalid_token", 401) from None
    if claims.get("type") != "access":
        raise DomainError("invalid_token", 401)
    member = _live_member(claims)
    if member is None:
        raise DomainError("token_revoked", 401)
    return member, claims["fam"]
