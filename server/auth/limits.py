"""Rate-limit keys and shared limits of the sign-in feature (Flask-Limiter).

Other features import ``guarded_password_check`` for their own password-confirmed actions
(``DELETE /me``): wrong passwords are counted per member across all of them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, request
from flask_limiter.util import get_remote_address

from server.auth.service import normalise_email
from server.auth.tokens import authenticate
from server.common import jsonio
from server.extensions import limiter


def _account() -> str | None:
    """The account named in the body, hashed (keys stay small).

    The body is parsed by the reader webargs uses for the view, so a body the key cannot
    read is a body the view cannot read either (no NaN, depth or duplicate-key tricks).
    """
    try:
        data = jsonio.loads(request.get_data(cache=True))
    except ValueError:
        return None
    email = data.get("email") if isinstance(data, dict) else None
    if not isinstance(email, str) or not email.strip():
        return None
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]


def account_key() -> str:
    return "acct:" + (_account() or "none")


def account_ip_key() -> str:
    return f"acct-ip:{_account() or 'none'}:{get_remote_address()}"


def failed_sign_in(response: Response) -> bool:
    """Every refused sign-in counts: a wrong password (401) and a body that is not a sign-in
    (400, 413, 415, 422: hostile bodies must not be a free way to probe)."""
    return 400 <= response.status_code < 500 and response.status_code != 429


def _wrong_password(response: Response) -> bool:
    return response.status_code == 403


def member_key() -> str:
    """Rate-limit key for the signed-in member (verifies the token; anonymous: the address)."""
    claims = authenticate(optional=True)
    identity = claims.get("sub") if claims else None
    return f"member:{identity}" if identity else "ip:" + get_remote_address()


def guarded_password_check(methods: list[str]) -> Any:
    """Guessing the password of a signed-in session: 10 wrong answers an hour per member,
    shared by every endpoint that asks for the password again."""
    return limiter.shared_limit(
        "10/hour",
        scope="password-guess",
        key_func=member_key,
        methods=methods,
        deduct_when=_wrong_password,
    )
