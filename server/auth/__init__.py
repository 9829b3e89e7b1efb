"""Accounts: sign-up, sign-in, JWT sessions with rotating refresh tokens, passwords.

Other features never read tokens: they use ``@blp.auth()`` (``server.api``) and
``server.api.current_member()``, which is the signed-in ``Member``.

Modules, lowest first (each imports only modules above it):
- ``models``: sign-in sessions (refresh-token families) and password-reset tokens
- ``passwords``: Argon2id hashing
- ``claims``: a token's signature and claims, verified once per token and process
- ``tokens``: what a JWT carries and how a request's token is checked (its live session, read
  with the member on every request)
- ``schemas``: request and response bodies (OAuth 2.0 names)
- ``service``: sign-up, sign-in, refresh with rotation, sign-out, passwords
- ``limits``: rate-limit keys of sign-in and sign-up
- ``routes``: ``/api/v1/auth``
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.api import use_authentication
    from server.auth import service, tokens
    from server.auth.routes import blp
    from server.common import privacy
    from server.extensions import jwt

    tokens.configure(jwt)
    use_authentication(app, tokens.authenticate)
    api.register_blueprint(blp)
    privacy.register(
        "sign_in",
        exporter=service.export_personal_data,
        eraser=service.erase_personal_data,
        order=900,
    )
