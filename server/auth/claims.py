"""A token's verified claims: one parse and one signature check per token and process.

flask-jwt-extended parses a token three times per check (its claims unverified, its header,
then verified) and PyJWT checks the base64 alphabet one character at a time: 0.3–0.6 ms a
request. ``verified()`` parses and verifies once (PyJWT's ``decode_complete``, with the options
flask-jwt-extended would pass: key, algorithms, audience, issuer, leeway, ``sub``), adds the
claims flask-jwt-extended adds (``type``, ``fresh``, ``jti``), and keeps the result per app,
keyed by the token's exact text (at most ``MAX_TOKENS``; all are dropped when it is full).

What a verification proved about a token's bytes cannot change while the key stays the same,
so a token seen again is only checked for expiry (with the same leeway). Only signature and
claims are kept here, never whether the token's session is live: that is read from the database
on every request (``server.auth.tokens``).
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import jwt as pyjwt
from flask import current_app
from flask_jwt_extended.config import config
from flask_jwt_extended.exceptions import JWTDecodeError

MAX_TOKENS = 4096
_EXTENSION = "jiayuan.verified_tokens"


# what a verification depends on besides the token: a token verified under other settings is
# verified again
_SETTINGS = (
    "JWT_SECRET_KEY",
    "JWT_PUBLIC_KEY",
    "JWT_ALGORITHM",
    "JWT_DECODE_ALGORITHMS",
    "JWT_DECODE_AUDIENCE",
    "JWT_DECODE_ISSUER",
    "JWT_VERIFY_SUB",
    "JWT_IDENTITY_CLAIM",
)


class _Verified(NamedTuple):
    key: tuple[Any, ...]  # the settings it was verified under
    header: dict[str, Any]
    claims: dict[str, Any]


def verified(encoded: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, claims)`` of a token whose signature and claims check out, else the error
    flask-jwt-extended would raise (its handlers answer it): ``ExpiredSignatureError`` with
    ``jwt_header`` and ``jwt_data``, another ``PyJWTError``, or ``JWTDecodeError``. The claims
    are the caller's own copy."""
    app_config = current_app.config
    key = tuple(app_config[name] for name in _SETTINGS)
    cache: dict[str, _Verified] = current_app.extensions.setdefault(_EXTENSION, {})
    hit = cache.get(encoded)
    if hit is not None and hit.key == key:
        exp = hit.claims.get("exp")
        if exp is None or exp > time.time() - app_config["JWT_DECODE_LEEWAY"]:
            return hit.header, dict(hit.claims)
        cache.pop(encoded, None)  # expired: the full check below raises as the library does
    header, claims = _verify(encoded, config.decode_key)
    if len(cache) >= MAX_TOKENS:
        cache.clear()
    cache[encoded] = _Verified(key, header, claims)
    return header, dict(claims)


def _verify(encoded: str, key: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    audience = config.decode_audience
    try:
        decoded = pyjwt.decode_complete(
            encoded,
            key,
            algorithms=config.decode_algorithms,
            audience=audience,
            issuer=config.decode_issuer,
            leeway=config.leeway,
            options={"verify_aud": audience is not None, "verify_sub": config.verify_sub},
        )
    except pyjwt.ExpiredSignatureError as exc:
        # flask-jwt-extended's handler reads the header and claims off the error, as the
        # library sets them: the signature verified, the expiry not
        expired = pyjwt.decode_complete(
            encoded,
            key,
            algorithms=config.decode_algorithms,
            audience=audience,
            issuer=config.decode_issuer,
            options={"verify_aud": audience is not None, "verify_exp": False, "verify_sub": False},
        )
        exc.jwt_header, exc.jwt_data = expired["header"], expired["payload"]  # type: ignore[attr-defined]
        raise
    claims: dict[str, Any] = decoded["payload"]
    if config.identity_claim_key not in claims:
        raise JWTDecodeError(f"Missing claim: {config.identity_claim_key}")
    claims.setdefault("type", "access")
    claims.setdefault("fresh", False)
    claims.setdefault("jti", None)
    return decoded["header"], claims
