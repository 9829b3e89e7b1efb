"""What a stored file is called, and the URL it is read at.

A file's name is its content's address under a secret: ``digest`` is an HMAC-SHA256 (keyed by
``SECRET_KEY``) of the uploader's id, the processing version and the bytes sent, cut to 128
bits. The same member sending the same bytes gets the same names, so a name never holds two
contents and a file is cached for good (``immutable``); and nobody without the key can compute
a name, or confirm that a given picture was uploaded by computing it (a plain content hash
would let anyone holding a photo test for it). The URL is the capability: whoever has it may
read the file, as with Mastodon's or Discord's attachments, and 128 random-looking bits cannot
be guessed. A picture in a private conversation is as private as its URL.

``key(digest, variant)`` is ``ab/cdef…-display.webp``; ``url(key)`` is ``MEDIA_PUBLIC_URL`` +
key when the files are served from elsewhere (a CDN, a public bucket — its base then includes
``MEDIA_S3_PREFIX`` —, nginx on ``MEDIA_ROOT``),
else this server's ``/media/<key>``, which sends the file (local disk) or a redirect to a
short-lived presigned URL (S3): either way the URL an answer carries stays the same.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app, has_request_context, request

from server.media.processing import EXTENSION

VARIANTS = ("display", "thumb")
# the processing version: a change in what the variants are gives every upload new names
VERSION = b"1"
ROUTE = "/media/"
KEY_PATTERN = re.compile(r"[0-9a-f]{2}/[0-9a-f]{30}-(display|thumb)\.(webp)")


def digest(owner_id: int, data: bytes) -> str:
    """The name shared by the files of ``data`` sent by ``owner_id`` (32 hex digits)."""
    secret = hmac.new(current_app.config["SECRET_KEY"].encode(), b"media-names", "sha256")
    mac = hmac.new(secret.digest(), f"{owner_id}:".encode() + VERSION + b":", hashlib.sha256)
    mac.update(data)
    return mac.hexdigest()[:32]


def key(digest: str, variant: str, extension: str = EXTENSION) -> str:
    """The storage key of one variant: ``ab/cdef…-display.webp``."""
    return f"{digest[:2]}/{digest[2:]}-{variant}.{extension}"


def keys(digest: str, extension: str = EXTENSION) -> list[str]:
    """Every variant's key."""
    return [key(digest, variant, extension) for variant in VARIANTS]


def url(stored_key: str) -> str:
    """Where a client reads a variant (absolute when answering a request)."""
    base: str | None = current_app.config.get("MEDIA_PUBLIC_URL")
    if base:
        return base.rstrip("/") + "/" + stored_key
    if has_request_context():
        return request.host_url.rstrip("/") + ROUTE + stored_key
    return ROUTE + stored_key
