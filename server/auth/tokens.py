"""JWTs: what they carry, how a request's token is checked, and how failures are answered.

An access token (15 minutes) and a refresh token (30 days) both carry ``sub`` (the member id,
a string as PyJWT requires) and ``fam`` (the sign-in session). Checking a token costs one
indexed query, which loads the session and its member together: a revoked session, a deleted
member or a logged-out device is refused at once, not when the token expires.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token, get_jwt
from sqlalchemy.orm import joinedload

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


def _load_session(payload: dict[str, Any]) -> AuthSession | None:
    cached: AuthSession | None = g.get("auth_session")
    if cached is not None and cached.id == payload.get("fam"):
        return cached
    fam = payload.get("fam")
    if not isinstance(fam, str):
        return None
    session = db.session.execute(
        sa.select(AuthSession).options(joinedload(AuthSession.member)).where(AuthSession.id == fam)
    ).scalar_one_or_none()
    g.auth_session = session
    return session


def live_session_member(session_id: Any, member_id: Any) -> Member | None:
    """The member of a session that is still live (read afresh, never from ``g``): for
    long-lived connections that authenticated once, to check they still may."""
    if not isinstance(session_id, str) or not isinstance(member_id, int):
        return None
    return db.session.execute(
        sa.select(Member)
        .join(AuthSession, AuthSession.member_id == Member.id)
        .where(
            AuthSession.id == session_id,
            AuthSession.member_id == member_id,
            AuthSession.revoked_at.is_(None),
            Member.deleted_at.is_(None),
        )
    ).scalar_one_or_none()


def _is_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
    session = _load_session(payload)
    return (
        session is None
        or session.revoked_at is not None
        or str(session.member_id) != payload.get("sub")
        or session.member.deleted_at is not None
    )


def _current_member(_header: dict[str, Any], payload: dict[str, Any]) -> Member | None:
    session = _load_session(payload)
    if session is None:
        return None
    member = session.member
    g.member_locale = member.locale
    g.member_time_zone = member.time_zone
    return member


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
    jwt.token_in_blocklist_loader(_is_revoked)
    jwt.user_lookup_loader(_current_member)
    jwt.unauthorized_loader(_missing)
    jwt.invalid_token_loader(_invalid)
    jwt.expired_token_loader(_expired)
    jwt.revoked_token_loader(_revoked)
    jwt.user_lookup_error_loader(_no_member)
    jwt.needs_fresh_token_loader(_not_fresh)
    jwt.token_verification_failed_loader(_claims_failed)


def member_for_token(encoded: object) -> Member:
    """The member an access token (not a refresh token) speaks for, checked as a request's
    would be (signature, expiry, revoked session); for Socket.IO's connect ``auth``.

    Raises ``DomainError`` with ``authentication_required``, ``token_expired``,
    ``token_revoked`` or ``invalid_token``.
    """
    from flask_jwt_extended import decode_token
    from flask_jwt_extended.exceptions import JWTExtendedException, RevokedTokenError
    from jwt import ExpiredSignatureError, PyJWTError

    from server.errors import DomainError

    if not isinstance(encoded, str) or not encoded:
        raise DomainError("authentication_required", 401)
    try:
        payload = decode_token(encoded)
    except ExpiredSignatureError:
        raise DomainError("token_expired", 401) from None
    except RevokedTokenError:
        raise DomainError("token_revoked", 401) from None
    except (PyJWTError, JWTExtendedException, ValueError):
        raise DomainError("invalid_token", 401) from None
    if payload.get("type") != "access":
        raise DomainError("invalid_token", 401)
    # decode_token checks the signature and expiry, not the blocklist: a signed-out session's
    # token would still get in
    if _is_revoked({}, payload):
        raise DomainError("token_revoked", 401)
    member = _current_member({}, payload)
    if member is None:
        raise DomainError("invalid_token", 401)
    return member
