"""Conditional GET and cache headers for JSON reads.

A JSON 200 to a GET carries an ``ETag`` (a hash of the body); a client that sends it back in
``If-None-Match`` gets ``304 Not Modified`` with no body. Hashing a page of 20 items costs
microseconds, far less than sending it again over a phone network. Answers to signed-in callers
are ``Cache-Control: private, no-cache``: a phone may keep them, a shared cache may not.
"""

from __future__ import annotations

from flask import Flask, Response, request, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix


def _conditional(response: Response) -> Response:
    if "Authorization" in request.headers:
        response.headers.setdefault("Cache-Control", "private, no-cache")
        response.vary.add("Authorization")
    response.vary.add("Accept-Language")
    if (
        request.method == "GET"
        and response.status_code == 200
        and response.mimetype == "application/json"
        and not response.direct_passthrough
    ):
        response.add_etag()
        response.make_conditional(request)
    return response


def _docs_asset(filename: str) -> Response:
    """Swagger UI's scripts and styles, from the swagger-ui-bundle package."""
    from swagger_ui_bundle import swagger_ui_path

    return send_from_directory(str(swagger_ui_path), filename, max_age=86400)


def init_app(app: Flask) -> None:
    app.after_request(_conditional)
    app.add_url_rule("/api/v1/docs/assets/<path:filename>", "docs_asset", _docs_asset)


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take the client's address (rate limits,
    logs) from ``X-Forwarded-For``. With none (the default) the header is ignored, so that a
    client cannot choose its own address."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
