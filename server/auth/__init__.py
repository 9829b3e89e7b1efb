"""Accounts: sign-up, sign-in, JWT sessions with rotating refresh tokens, passwords.

Other features never read tokens: they use ``@blp.auth()`` (``server.api``) and
``server.api.current_member()``, which is the signed-in ``Member``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.auth import tokens
    from server.auth.routes import blp
    from server.extensions import jwt

    tokens.configure(jwt)
    api.register_blueprint(blp)
