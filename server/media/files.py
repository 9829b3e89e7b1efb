"""``GET /media/<key>``: the files, for clients that read them from this server.

Outside ``/api/v1`` and the OpenAPI document: no sign-in (an ``<img>`` or an image loader
sends no token; the URL is the capability, see ``names``), no JSON. Only keys of the shape
``names`` makes are looked at; anything else is 404.

- Local disk: the file, ``Cache-Control: public, max-age=31536000, immutable`` (a name never
  holds other bytes), its ``ETag``, ``X-Content-Type-Options: nosniff``.
- S3 without ``MEDIA_PUBLIC_URL``: ``302`` to a presigned URL valid ``MEDIA_S3_URL_TTL``
  seconds, itself cacheable for half that, so the URL in an answer never expires.

With ``MEDIA_PUBLIC_URL`` set (a CDN, a public bucket, nginx serving ``MEDIA_ROOT``: the
fastest), answers point there and this route only serves what was linked before.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, redirect, send_file
from werkzeug.wrappers import Response

from server.media import names, storage
from server.media.processing import CONTENT_TYPE
from server.media.storage import IMMUTABLE, LocalStorage, S3Storage


def serve(key: str) -> Response:
    if not names.KEY_PATTERN.fullmatch(key):
        abort(404)
    store = storage.current()
    if isinstance(store, S3Storage):
        seconds = int(current_app.config["MEDIA_S3_URL_TTL"])
        response = redirect(store.presigned_url(key, seconds), code=302)
        response.headers["Cache-Control"] = f"public, max-age={seconds // 2}"
        return response
    assert isinstance(store, LocalStorage)
    path = store.path(key)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=CONTENT_TYPE, conditional=True, etag=True, max_age=None)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def install(app: Flask) -> None:
    app.add_url_rule(names.ROUTE + "<path:key>", "media_file", serve, methods=["GET"])
