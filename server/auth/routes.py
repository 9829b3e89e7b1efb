"""``/api/v1/auth``: sign-up, sign-in, refresh, sign-out, passwords."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt
from flask_limiter.util import get_remote_address

from server.api import Blueprint, current_member
from server.auth import service
from server.auth.limits import (
    account_ip_key,
    account_key,
    failed_sign_in,
    guarded_password_check,
)
from server.auth.schemas import (
    LoginSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestSchema,
    RegisterSchema,
    TokenSchema,
)
from server.auth.tokens import current_session_id
from server.extensions import limiter

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and passwords")


def _config_limit(name: str) -> Any:
    return lambda: current_app.config[name]


def _user_agent() -> str:
    """The client's description of itself, kept for the member's session list: printable
    characters only (PostgreSQL refuses NUL), 200 at most."""
    agent = request.headers.get("User-Agent", "")[:200]
    return "".join(ch for ch in agent if ch.isprintable())


@blp.route("/register")
class Register(MethodView):
    decorators = [
        limiter.limit(lambda: current_app.config["REGISTER_LIMIT"], key_func=get_remote_address)
    ]

    @blp.doc(operationId="signUp")
    @blp.arguments(RegisterSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any]) -> Any:
        """Create an account (with the accepted privacy-policy version) and sign in"""
        _member, tokens = service.sign_up(data, _user_agent())
        return tokens


@blp.route("/login")
class Login(MethodView):
    # Only failures count. One client guessing one account is stopped after 10 a minute;
    # the account as a whole after 100 an hour (so that a crowd of addresses cannot guess on,
    # while one attacker cannot lock its owner out); one address after 50 a minute.
    decorators = [
        limiter.limit(
            _config_limit("LOGIN_FAILURE_LIMIT_ACCOUNT_IP"),
            key_func=account_ip_key,
            deduct_when=failed_sign_in,
            scope="login-acct-ip",
        ),
        limiter.limit(
            _config_limit("LOGIN_FAILURE_LIMIT_ACCOUNT"),
            key_func=account_key,
            deduct_when=failed_sign_in,
            scope="login-acct",
        ),
        limiter.limit(
            _config_limit("LOGIN_FAILURE_LIMIT_IP"),
            key_func=get_remote_address,
            deduct_when=failed_sign_in,
            scope="login-ip",
        ),
    ]

    @blp.doc(operationId="signIn")
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any]) -> Any:
        """Sign in with e-mail and password"""
        return service.sign_in_with_password(data["email"], data["password"], _user_agent())


@blp.route("/refresh")
class Refresh(MethodView):
    decorators = [
        limiter.limit(lambda: current_app.config["REFRESH_LIMIT"], key_func=get_remote_address)
    ]

    @blp.doc(operationId="refreshTokens")
    @blp.auth(refresh=True)
    @blp.response(200, TokenSchema)
    def post(self) -> Any:
        """Exchange the refresh token (as the bearer token) for a new pair; the old one is spent"""
        return service.refresh_tokens(get_jwt())


@blp.route("/logout")
class Logout(MethodView):
    @blp.doc(operationId="signOut")
    @blp.auth()
    @blp.response(204)
    def post(self) -> None:
        """Sign out this device: its access and refresh tokens stop working"""
        service.sign_out(current_session_id())


@blp.route("/password")
class Password(MethodView):
    decorators = [guarded_password_check(["POST"])]

    @blp.doc(operationId="changePassword")
    @blp.auth()
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    def post(self, data: dict[str, Any]) -> None:
        """Change the password; other devices are signed out"""
        service.change_password(
            current_member(), current_session_id(), data["current_password"], data["new_password"]
        )


@blp.route("/password-reset")
class PasswordReset(MethodView):
    decorators = [
        limiter.limit("10/hour", key_func=get_remote_address, scope="reset-ip"),
        limiter.limit("3/hour", key_func=account_key, scope="reset-acct"),
    ]

    @blp.doc(operationId="requestPasswordReset")
    @blp.arguments(PasswordResetRequestSchema)
    @blp.response(202)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any]) -> None:
        """Mail a reset link; answers the same whether or not the address is registered"""
        service.request_password_reset(data["email"])


@blp.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    decorators = [limiter.limit("20/hour", key_func=get_remote_address)]

    @blp.doc(operationId="confirmPasswordReset")
    @blp.arguments(PasswordResetConfirmSchema)
    @blp.response(204)
    @blp.alt_response(400, response="BAD_REQUEST")
    def post(self, data: dict[str, Any]) -> None:
        """Set a new password with the mailed token; every device is signed out"""
        service.reset_password(data["token"], data["new_password"])
