"""Where variants are kept: one small interface, two providers.

- ``LocalStorage`` (the default): files under ``MEDIA_ROOT`` (``instance/media``), written
  atomically (a temporary file renamed into place), served by ``server.media.files``.
- ``S3Storage``, when ``MEDIA_S3_BUCKET`` is set: any S3-compatible object storage (AWS S3,
  MinIO, Alibaba OSS, Tencent COS) through boto3, with ``MEDIA_S3_ENDPOINT_URL``,
  ``MEDIA_S3_REGION``, ``MEDIA_S3_ACCESS_KEY_ID``/``MEDIA_S3_SECRET_ACCESS_KEY`` (else boto3's
  own credential chain), ``MEDIA_S3_PREFIX`` and ``MEDIA_S3_ADDRESSING_STYLE`` (OSS and COS
  want ``virtual``, MinIO usually ``path``). Objects are written with their content type and
  ``Cache-Control: public, max-age=31536000, immutable``; ``MEDIA_S3_ACL`` (``public-read``)
  is sent only when set. boto3 1.36+ adds CRC checksums to every request by default, which
  several S3-compatible services refuse: checksums are sent only where an operation requires
  them.

Reading is not part of the interface: clients read through URLs (``server.media.names``).
``presigned_url`` is how ``server.media.files`` sends a client to a private bucket.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

IMMUTABLE = "public, max-age=31536000, immutable"
_SETTINGS = (
    "MEDIA_ROOT",
    "MEDIA_S3_BUCKET",
    "MEDIA_S3_ENDPOINT_URL",
    "MEDIA_S3_REGION",
    "MEDIA_S3_ACCESS_KEY_ID",
    "MEDIA_S3_SECRET_ACCESS_KEY",
    "MEDIA_S3_PREFIX",
    "MEDIA_S3_ADDRESSING_STYLE",
    "MEDIA_S3_ACL",
)


class Unavailable(Exception):
    """The storage did not take a file (S3 unreachable or refusing, a full disk): an outage,
    answered 503 with ``Retry-After`` like a database that does not answer."""


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (the same key always holds the same bytes); raises
        ``Unavailable`` when the storage does not take it."""

    def delete(self, keys: Iterable[str]) -> None:
        """Remove these keys; a key that is not there is no error."""


class LocalStorage:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        if target.exists():  # content-addressed: already the same bytes
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        except OSError as exc:
            raise Unavailable(str(exc)) from exc
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)  # readers see the whole file or none
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise Unavailable(str(exc)) from exc
            raise

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)


class S3Storage:
    def __init__(self, config: dict[str, Any]) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = str(config["MEDIA_S3_BUCKET"])
        self.prefix = str(config.get("MEDIA_S3_PREFIX") or "")
        self.acl = config.get("MEDIA_S3_ACL") or None
        self.client = boto3.client(
            "s3",
            endpoint_url=config.get("MEDIA_S3_ENDPOINT_URL") or None,
            region_name=config.get("MEDIA_S3_REGION") or None,
            aws_access_key_id=config.get("MEDIA_S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": config.get("MEDIA_S3_ADDRESSING_STYLE") or "auto"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=20,
            ),
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {"ACL": self.acl} if self.acl else {}
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                Body=data,
                ContentType=content_type,
                CacheControl=IMMUTABLE,
                **extra,
            )
        except (BotoCoreError, ClientError) as exc:
            raise Unavailable(str(exc)) from exc

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:  # one by one: DeleteObjects needs a checksum some services refuse
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def presigned_url(self, key: str, seconds: int) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.prefix + key},
                ExpiresIn=seconds,
            )
        )


def current(app: Flask | None = None) -> Storage:
    """The storage the app's settings describe (made once per set of settings: a boto3
    client costs tens of milliseconds to make, and is safe to share between threads)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    signature = tuple(config.get(name) for name in _SETTINGS)
    made = app.extensions.get("media_storage")
    if made is not None and made[0] == signature:
        return made[1]  # type: ignore[no-any-return]
    storage: Storage
    if config.get("MEDIA_S3_BUCKET"):
        storage = S3Storage(dict(config))
    else:
        storage = LocalStorage(config["MEDIA_ROOT"])
    app.extensions["media_storage"] = (signature, storage)
    return storage
