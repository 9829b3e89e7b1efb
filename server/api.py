"""The one place where flask-smorest is customised.

- ``Api`` renders every error in our shape (``server.errors``) and documents that shape.
- ``Blueprint.auth()`` guards a view with a JWT (and optionally a global role) and documents
  the bearer security requirement and the 401/403 answers in the OpenAPI contract.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import Any

import flask_smorest
import marshmallow as ma
from flask_jwt_extended import current_user, get_current_user, verify_jwt_in_request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import IntegerConverter

from server.common import jsonio
from server.common.fields import Integer
from server.errors import DomainError, Forbidden, register_error_handlers

BEARER = [{"bearerAuth": []}]


def current_member() -> Any:
    """The signed-in ``Member`` itself (not the ``current_user`` proxy, whose every attribute
    read goes through two context lookups: measurable when a schema reads twenty of them)."""
    return get_current_user()


class ErrorSchema(ma.Schema):
    """The error shape (documentation only: errors are rendered by ``server.errors``)."""

    code = ma.fields.String(
        required=True, metadata={"description": "Stable snake_case code to switch on"}
    )
    status = Integer(required=True, metadata={"description": "HTTP status"})
    message = ma.fields.String(
        required=True, metadata={"description": "Human message in the caller's language"}
    )
    errors = ma.fields.Dict(metadata={"description": "Field name → messages (validation only)"})


MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<id:thread_id>``: a positive id that fits the database's integer column.

    Anything else does not match the route (404), so no query ever sees an out-of-range id.
    """

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)

    def init_app(self, app: Any, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        app.url_map.converters["id"] = IdConverter
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(
            IdConverter, lambda _c: {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        )
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )


class Parser(FlaskParser):
    """webargs, reading JSON bodies with the one strict reader (``server.common.jsonio``):
    malformed, too deep, lone surrogates or numbers beyond a double → 400 ``invalid_json``;
    a body that is not JSON on an operation that takes JSON → 415; NUL characters anywhere
    in a body or query string → 422 (PostgreSQL cannot store or even compare them, SQLite
    can, so they are refused alike everywhere)."""

    def _raw_load_json(self, req: Any) -> Any:
        raw = req.get_data(cache=True)
        if not is_json_request(req):
            if raw:
                raise DomainError("unsupported_media_type", 415)
            return core.missing
        if not raw.strip():
            return core.missing
        data = jsonio.loads(raw)
        if jsonio.may_hold_nul(raw) and jsonio.has_nul(data):
            raise DomainError("validation_error", 422, errors={"json": [NUL_MESSAGE]})
        return data

    def load_querystring(self, req: Any, schema: Any) -> Any:
        if any("\x00" in k or "\x00" in v for k, v in req.args.items(multi=True)):
            raise DomainError("validation_error", 422, errors={"query": [NUL_MESSAGE]})
        return super().load_querystring(req, schema)


NUL_MESSAGE = "Contains characters that are not allowed."


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def auth(
        self, *, refresh: bool = False, roles: Collection[str] | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Require a valid token (a refresh token when ``refresh``), and one of ``roles``.

        Put it above ``@blp.arguments`` so that an anonymous caller gets 401, not 422.
        """

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                verify_jwt_in_request(refresh=refresh)
                if roles is not None and current_user.role not in roles:
                    raise Forbidden()
                return func(*args, **kwargs)

            wrapper = self.doc(security=BEARER)(wrapper)
            wrapper = self.alt_response(401, response="UNAUTHORIZED")(wrapper)
            if roles is not None:
                wrapper = self.alt_response(403, response="FORBIDDEN")(wrapper)
            return wrapper

        return decorator
