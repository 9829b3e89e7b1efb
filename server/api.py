"""The one place where flask-smorest is customised.

- ``Api`` renders every error in our shape (``server.errors``) and documents that shape.
- ``Blueprint.auth()`` guards a view with a JWT (and optionally a global role) and documents
  the bearer security requirement and the 401/403 answers in the OpenAPI contract.
- ``ErrorResponses``, an apispec plugin, gives every operation its error responses: each
  status with the error schema, an example per ``code`` and ``x-error-codes``, from the table
  in ``server.api_errors`` (operation-specific codes) and from what the operation is (generic
  ones: signed in, body, arguments, pages, rate limits, writes).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask import current_app
from flask_jwt_extended import get_current_user
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import IntegerConverter

from server import api_errors
from server.common import jsonio
from server.common.fields import MAX_ID, Integer
from server.errors import DomainError, Forbidden, register_error_handlers

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]

AUTHENTICATE = "jiayuan.authenticate"  # in ``app.extensions``: how ``@blp.auth()`` checks a token


def use_authentication(app: Any, check: Callable[..., Any]) -> None:
    """Set how ``@blp.auth()`` checks a request's token: ``check(refresh=…)`` raises when the
    token or its session is not good (``server.auth`` registers its own; this module sits below
    it and never imports it)."""
    app.extensions[AUTHENTICATE] = check


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
        self.error_responses = ErrorResponses(self)
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), self.error_responses]
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(
            IdConverter, lambda _c: {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        )
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
        self.ma_plugin.converter.add_attribute_function(nullable_ref)

    def _openapi_json(self) -> Any:
        # every operation is in the spec by now: a table naming one that is not is a typo
        api_errors.check_table(self.error_responses.operation_ids)
        return super()._openapi_json()


def nullable_ref(
    _converter: Any, _field: Any, ret: dict[str, Any], **_kwargs: Any
) -> dict[str, Any]:
    """A nullable nested schema as ``{"allOf": [{"$ref": …}], "nullable": true}``.

    apispec writes it for OpenAPI 3.0 as ``anyOf: [{"type": "object", "nullable": true},
    {"$ref": …}]``, whose first branch takes any object: generators (openapi-python-client,
    Kotlin, Swift, Dart) then type the field as an untyped map instead of the schema."""
    branches = ret.get("anyOf")
    if not branches or {"type": "object", "nullable": True} not in branches:
        return {}
    refs = [b for b in branches if b != {"type": "object", "nullable": True}]
    if not all(set(b) == {"$ref"} for b in refs):
        return {}
    del ret["anyOf"]
    return {"allOf": refs, "nullable": True}


_METHODS = ("get", "post", "put", "patch", "delete")


class ErrorResponses(BasePlugin):
    """apispec plugin: an operation's error responses, added as the operation enters the spec.

    Its ``operation_helper`` runs after flask-smorest's and marshmallow's (query schemas are
    already parameters), reads what the operation is from its document (security, body,
    parameters) and its Flask view (rate limits, the token it takes), and puts one response per
    error status (``server.api_errors.response``) in place of the generic ones flask-smorest
    and ``Blueprint.auth`` documented (``UNAUTHORIZED``, ``UNPROCESSABLE_ENTITY``, …).
    """

    def __init__(self, api: Api) -> None:
        self.api = api
        self.operation_ids: set[str] = set()

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        self.spec = spec

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if method not in _METHODS:
                continue
            operation_id = operation.get("operationId")
            if not operation_id:
                raise ValueError(f"{method.upper()} {path} has no operationId")
            shape = self._shape(method, operation, rule)
            errors = api_errors.operation_errors(operation_id, shape)
            operation["responses"] = _with_errors(operation.get("responses", {}), errors)
            self.operation_ids.add(operation_id)
            for status, codes in errors.items():
                for code in codes:
                    name = api_errors.example_name(code, status)
                    if name not in self.spec.components.examples:
                        self.spec.components.example(name, api_errors.example(code, status))

    def _shape(self, method: str, operation: dict[str, Any], rule: Any) -> api_errors.Shape:
        query = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
        view = self.api._app.view_functions.get(rule.endpoint) if rule is not None else None
        return api_errors.Shape(
            method=method,
            signed_in=bool(operation.get("security")),
            json_body="requestBody" in operation,
            arguments="requestBody" in operation or bool(query),
            paginated="cursor" in query,
            rate_limited=view is not None and _rate_limited(self.api._app, view, rule, method),
            refresh_token=view is not None and _takes_refresh_token(view, method),
        )


def _with_errors(responses: dict[Any, Any], errors: dict[int, tuple[str, ...]]) -> dict[str, Any]:
    """Success responses first, then one per error status (replacing what was documented for
    it), then ``default``."""
    kept = {str(k): v for k, v in responses.items() if str(k) != "default"}
    ordered = {k: v for k, v in kept.items() if k.isdigit() and int(k) < 400}
    for status in sorted({int(k) for k in kept if k.isdigit() and int(k) >= 400} | set(errors)):
        if status in errors:
            ordered[str(status)] = api_errors.response(status, errors[status])
        else:
            ordered[str(status)] = kept[str(status)]  # documented, codes unknown: tests refuse it
    if "default" in {str(k) for k in responses}:
        ordered["default"] = next(v for k, v in responses.items() if str(k) == "default")
    return ordered


def _rate_limited(app: Any, view: Callable[..., Any], rule: Any, method: str) -> bool:
    """Whether a Flask-Limiter limit (on the view, its blueprint, or every route) applies to
    ``method``. Reads the limiter's registry of decorated limits (flask-limiter 4 keeps them in
    ``limit_manager``; the public ``decorated_limits`` would evaluate limits that need a
    request)."""
    from flask_limiter.util import get_qualified_name

    for limiter in app.extensions.get("limiter", ()):
        manager = limiter.limit_manager
        if manager._default_limits or manager._application_limits:
            return True
        limits = [
            *manager._decorated_limits.get(get_qualified_name(view), ()),
            *manager._blueprint_limits.get(rule.endpoint.rpartition(".")[0], ()),
        ]
        if any(not limit.methods or method in limit.methods for limit in limits):
            return True
    return False


def _takes_refresh_token(view: Callable[..., Any], method: str) -> bool:
    function = getattr(getattr(view, "view_class", None), method, view)
    return getattr(function, "_bearer_token", None) == "refresh"


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
        """Require a valid token (a refresh token when ``refresh``) of a live session
        (the check ``use_authentication`` set), and one of ``roles``.

        Put it above ``@blp.arguments`` so that an anonymous caller gets 401, not 422.
        """

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                current_app.extensions[AUTHENTICATE](refresh=refresh)
                if roles is not None and current_member().role not in roles:
                    raise Forbidden()
                return func(*args, **kwargs)

            wrapper._bearer_token = "refresh" if refresh else "access"  # type: ignore[attr-defined]
            wrapper = self.doc(security=BEARER)(wrapper)
            wrapper = self.alt_response(401, response="UNAUTHORIZED")(wrapper)
            if roles is not None:
                wrapper = self.alt_response(403, response="FORBIDDEN")(wrapper)
            return wrapper

        return decorator
