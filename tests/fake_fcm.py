"""A local stand-in for Firebase Cloud Messaging that speaks its wire protocol.

- ``POST /token``: Google's OAuth 2.0 token endpoint for service accounts (RFC 7523 JWT
  bearer grant). The assertion must be an RS256 JWT signed by the throwaway key this server
  generated, for the FCM scope; the answer is a bearer token.
- ``POST /v1/projects/{project}/messages:send``: FCM HTTP v1. It wants that bearer token,
  validates the body against the v1 ``Message`` schema (exactly one target, string-only data,
  known fields only), and answers ``{"name": …}`` or FCM's own error payloads.

Tokens choose their fate by prefix: ``unregistered-…`` (404 UNREGISTERED), ``invalid-…``
(400 INVALID_ARGUMENT naming the token), ``quota-…`` (429 QUOTA_EXCEEDED with Retry-After,
once), ``unavailable-…`` (503, once), ``internal-…`` (500, once). ``fail_next`` scripts any
other sequence. Everything received is recorded in ``received``.

Used by the test suite (``fake_fcm`` fixture) and by ``bench/push_fanout.py``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# FCM accepts a token for either scope; firebase-admin asks for cloud-platform (and more).
SCOPES = {
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
}
PROJECT = "jiayuan-test"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
# FCM v1 AndroidNotification (https://firebase.google.com/docs/reference/fcm/rest/v1/
# projects.messages#AndroidNotification), the fields firebase-admin encodes
_ANDROID_NOTIFICATION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **dict.fromkeys(
            "title body icon color sound tag click_action body_loc_key title_loc_key channel_id "
            "ticker event_time image proxy".split(),
            {"type": "string"},
        ),
        "body_loc_args": {"type": "array", "items": {"type": "string"}},
        "title_loc_args": {"type": "array", "items": {"type": "string"}},
        "sticky": {"type": "boolean"},
        "local_only": {"type": "boolean"},
        "notification_priority": {
            "enum": [
                "PRIORITY_UNSPECIFIED",
                "PRIORITY_MIN",
                "PRIORITY_LOW",
                "PRIORITY_DEFAULT",
                "PRIORITY_HIGH",
                "PRIORITY_MAX",
            ]
        },
        "default_sound": {"type": "boolean"},
        "default_vibrate_timings": {"type": "boolean"},
        "default_light_settings": {"type": "boolean"},
        "vibrate_timings": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": ["VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET"]},
        "notification_count": {"type": "integer"},
        "light_settings": {"type": "object"},
        "bypass_proxy_notification": {"type": "boolean"},
    },
}
MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["message"],
    "additionalProperties": False,
    "properties": {
        "validate_only": {"type": "boolean"},
        "message": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "token": {"type": "string", "minLength": 1},
                "topic": {"type": "string"},
                "condition": {"type": "string"},
                "fid": {"type": "string"},
                "data": _STRING_MAP,
                "notification": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "title": {"type": "string"},
                        "body": {"type": "string"},
                        "image": {"type": "string"},
                    },
                },
                "android": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "collapse_key": {"type": "string"},
                        "priority": {"enum": ["high", "normal", "HIGH", "NORMAL"]},
                        "ttl": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?s$"},
                        "restricted_package_name": {"type": "string"},
                        "data": _STRING_MAP,
                        "notification": _ANDROID_NOTIFICATION,
                        "fcm_options": {"type": "object"},
                        "direct_boot_ok": {"type": "boolean"},
                    },
                },
                "apns": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "headers": _STRING_MAP,
                        "payload": {
                            "type": "object",
                            "required": ["aps"],
                            "properties": {
                                "aps": {
                                    "type": "object",
                                    "properties": {
                                        "badge": {"type": "integer", "minimum": 0},
                                        "sound": {"type": "string"},
                                        "content-available": {"enum": [1]},
                                        "alert": {},
                                        # APNs: how much a shown alert may interrupt
                                        "interruption-level": {
                                            "enum": [
                                                "passive",
                                                "active",
                                                "time-sensitive",
                                                "critical",
                                            ]
                                        },
                                    },
                                }
                            },
                        },
                        "fcm_options": {"type": "object"},
                    },
                },
                "webpush": {"type": "object"},
                "fcm_options": {"type": "object"},
            },
            "oneOf": [
                {"required": ["token"]},
                {"required": ["topic"]},
                {"required": ["condition"]},
                {"required": ["fid"]},
            ],
        },
    },
}


def _error(status: int, rpc: str, message: str, fcm_code: str | None, **extra: Any) -> dict:
    details: list[dict[str, Any]] = []
    if fcm_code:
        details.append(
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}
        )
    if extra.get("field"):
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": extra["field"], "description": message}],
            }
        )
    return {"error": {"code": status, "message": message, "status": rpc, "details": details}}


FAILURES: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "unregistered": (
        404,
        _error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"),
        {},
    ),
    "invalid": (
        400,
        _error(
            400,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            "INVALID_ARGUMENT",
            field="message.token",
        ),
        {},
    ),
    "quota": (
        429,
        _error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages.", "QUOTA_EXCEEDED"),
        {"Retry-After": "1"},
    ),
    "unavailable": (
        503,
        _error(503, "UNAVAILABLE", "The service is unavailable.", "UNAVAILABLE"),
        {},
    ),
    "internal": (500, _error(500, "INTERNAL", "Internal error.", "INTERNAL"), {}),
    "apnsauth": (
        401,
        _error(
            401,
            "UNAUTHENTICATED",
            "Auth error from APNS or Web Push Service",
            "THIRD_PARTY_AUTH_ERROR",
        ),
        {},
    ),
}
TRANSIENT = {"quota", "unavailable", "internal"}


@dataclass
class Received:
    token: str
    message: dict[str, Any]
    at: float
    status: int


@dataclass
class FakeFcm:
    project: str = PROJECT
    delay: float = 0.0  # seconds each send takes (to catch a worker mid-batch)
    # sends after this many are held unanswered until ``release()`` (a worker caught mid-batch,
    # for sure); a held send whose client has gone by then is dropped, as a lost request is
    hold_after: int | None = None
    record: bool = True
    received: list[Received] = field(default_factory=list)
    invalid_bodies: list[str] = field(default_factory=list)
    fail_next: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    calls: Counter[str] = field(default_factory=Counter)
    port: int = 0

    def __post_init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self._public_key = key.public_key()
        self._key_id = uuid.uuid4().hex
        self._issued: set[str] = set()
        self._failed_once: set[str] = set()
        self._validator = jsonschema_rs.validator_for(MESSAGE_SCHEMA)
        self._released = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # --- what a test needs -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def client_email(self) -> str:
        return f"firebase-adminsdk@{self.project}.iam.gserviceaccount.com"

    def service_account(self, path: Path) -> Path:
        """Write a service-account key file whose token_uri is this server."""
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": self.project,
                    "private_key_id": self._key_id,
                    "private_key": self._private_pem,
                    "client_email": self.client_email,
                    "client_id": "1234567890",
                    "token_uri": f"{self.base_url}/token",
                }
            )
        )
        return path

    def release(self) -> None:
        """Answer the held sends (those whose client is still there), and hold no more."""
        self.hold_after = None
        self._released.set()

    def reset(self) -> None:
        self.hold_after = None
        self._released.clear()
        self.received.clear()
        self.invalid_bodies.clear()
        self.fail_next.clear()
        self.calls.clear()
        self._failed_once.clear()
        self.delay = 0.0

    def tokens(self) -> Counter[str]:
        """How many messages each token was sent successfully."""
        return Counter(r.token for r in self.received if r.status == 200)

    # --- the protocol --------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        self.calls["token"] += 1
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(
                str(form.get("assertion", "")),
                self._public_key,
                algorithms=["RS256"],
                # google-auth signs for Google's token endpoint, whatever token_uri it posts to
                audience=GOOGLE_TOKEN_AUDIENCE,
                issuer=self.client_email,
            )
        except jwt.PyJWTError as exc:
            return web.json_response(
                {"error": "invalid_grant", "error_description": str(exc)}, status=400
            )
        if not SCOPES & set(str(claims.get("scope", "")).split()):
            return web.json_response({"error": "invalid_scope"}, status=400)
        token = "ya29.fake-" + uuid.uuid4().hex
        self._issued.add(token)
        return web.json_response(
            {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        )

    async def _send(self, request: web.Request) -> web.Response:
        self.calls["send"] += 1
        if request.match_info["project"] != self.project:
            return web.json_response(_error(404, "NOT_FOUND", "No such project.", None), status=404)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self._issued:
            return web.json_response(
                _error(401, "UNAUTHENTICATED", "Request had invalid credentials.", None), status=401
            )
        raw = await request.read()
        try:
            body = json.loads(raw)
            self._validator.validate(body)
        except (ValueError, jsonschema_rs.ValidationError) as exc:
            self.invalid_bodies.append(str(exc)[:300])
            return web.json_response(
                _error(400, "INVALID_ARGUMENT", f"Invalid JSON payload: {exc}"[:300], None),
                status=400,
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold_after is not None and self.calls["send"] > self.hold_after:
            while not self._released.is_set():
                await asyncio.sleep(0.01)
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # nobody is listening any more
        message = body["message"]
        token = message.get("token", "")
        fate = self.fail_next[token].pop(0) if self.fail_next.get(token) else None
        if fate is None:
            prefix = token.split("-", 1)[0]
            if prefix in FAILURES and (prefix not in TRANSIENT or token not in self._failed_once):
                fate = prefix
                self._failed_once.add(token)
        status = FAILURES[fate][0] if fate else 200
        self.calls[f"status_{status}"] += 1
        if self.record:
            self.received.append(Received(token, message, time.monotonic(), status))
        if fate:
            status, payload, headers = FAILURES[fate]
            return web.json_response(payload, status=status, headers=headers)
        name = f"projects/{self.project}/messages/{uuid.uuid4().hex[:16]}"
        return web.json_response({"name": name})

    async def _stats(self, _request: web.Request) -> web.Response:
        """Counters, for a benchmark that runs this server in another process."""
        return web.json_response(dict(self.calls))

    # --- running it ------------------------------------------------------------------------

    def start(self) -> FakeFcm:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application(client_max_size=64 * 1024)
            app.router.add_post("/token", self._token)
            app.router.add_post("/v1/projects/{project}/messages:send", self._send)
            app.router.add_get("/_stats", self._stats)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-fcm", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


if __name__ == "__main__":  # a server of its own, for bench/push_fanout.py
    import sys

    fake = FakeFcm(record=False).start()
    fake.service_account(Path(sys.argv[1]))
    print(json.dumps({"port": fake.port}), flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
    fake.stop()
