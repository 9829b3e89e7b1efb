"""The media tests' fixtures: where the files go, and a client for the upload endpoint.

``store`` runs a test once on local disk (a temporary ``MEDIA_ROOT``) and once on S3: a local
S3 server (moto's server mode, ``ThreadedMotoServer``, started once for the run on a free
port) that the app reaches over HTTP through boto3, as it would reach AWS S3, MinIO, OSS or
COS, with a bucket of the test's own. Files are read back the way clients read them: through
the URLs the answers carry.
"""

from __future__ import annotations

import io
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.caller import Caller

S3_SETTINGS = {
    "MEDIA_S3_REGION": "us-east-1",
    "MEDIA_S3_ACCESS_KEY_ID": "test-access-key",
    "MEDIA_S3_SECRET_ACCESS_KEY": "test-secret-key",
    "MEDIA_S3_ADDRESSING_STYLE": "path",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3 speaking the real wire protocol (moto's server mode), for the whole run."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


class Store:
    """The storage a test runs on, read from outside the app."""

    def __init__(self, kind: str, app: Flask, client: FlaskClient, root: Path) -> None:
        self.kind = kind
        self.app = app
        self.client = client
        self.root = root
        self.bucket: str | None = None
        self.s3: Any = None

    def keys(self) -> list[str]:
        """Every stored file's key."""
        if self.s3 is not None:
            listed = self.s3.list_objects_v2(Bucket=self.bucket)
            return sorted(item["Key"] for item in listed.get("Contents", []))
        if not self.root.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())

    def object_headers(self, key: str) -> dict[str, Any]:
        """What S3 keeps with an object (content type, cache control)."""
        return dict(self.s3.head_object(Bucket=self.bucket, Key=key))

    def fetch(self, url: str) -> tuple[bytes, dict[str, str]]:
        """A variant's bytes and headers, read as a client reads its URL: from this server
        (local disk: the file; S3: a redirect to a presigned URL, followed) or elsewhere."""
        parts = urlsplit(url)
        if parts.netloc == "localhost":
            response = self.client.get(parts.path)
            data = response.get_data()
            response.close()  # a file's answer holds it open until closed
            if response.status_code == 302:
                return _http_get(response.headers["Location"])
            assert response.status_code == 200, (url, response.status_code)
            return data, dict(response.headers)
        return _http_get(url)


def _http_get(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read(), dict(answer.headers)


@pytest.fixture(autouse=True)
def _media_root(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No media test writes into ``instance/``."""
    root = tmp_path / "media"
    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(root))
    return root


@pytest.fixture(params=["local", "s3"])
def store(
    request: pytest.FixtureRequest,
    app: Flask,
    client: FlaskClient,
    _media_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Store:
    """Each test with ``store`` runs on local disk and on the S3 server."""
    store = Store(request.param, app, client, _media_root)
    if request.param == "s3":
        import boto3

        endpoint = request.getfixturevalue("s3_endpoint")
        store.bucket = f"media-{uuid.uuid4().hex[:12]}"
        store.s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=S3_SETTINGS["MEDIA_S3_REGION"],
            aws_access_key_id=S3_SETTINGS["MEDIA_S3_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_SETTINGS["MEDIA_S3_SECRET_ACCESS_KEY"],
        )
        store.s3.create_bucket(Bucket=store.bucket)
        settings = {**S3_SETTINGS, "MEDIA_S3_BUCKET": store.bucket}
        settings["MEDIA_S3_ENDPOINT_URL"] = endpoint
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
    return store


class Uploader(Caller):
    """``upload(member, data, filename=…, content_type=…, status=201)`` → the answer."""

    def upload(
        self,
        member: Any,
        data: bytes,
        status: int = 201,
        *,
        filename: str = "IMG_0001.JPG",
        content_type: str = "image/jpeg",
        headers: dict[str, str] | None = None,
    ) -> Any:
        form = {"file": (io.BytesIO(data), filename, content_type)}
        return self.call(
            member,
            "POST",
            "/api/v1/media",
            status,
            headers=headers,
            data=form,
            content_type="multipart/form-data",
        )


@pytest.fixture
def media(client: FlaskClient, auth_headers: Any) -> Uploader:
    return Uploader(client, auth_headers)
