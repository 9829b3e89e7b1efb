"""Firebase Cloud Messaging, HTTP v1 — the one place that knows how FCM is reached.

What firebase-admin is good at, it does here: the service-account credential (whose
``token_uri`` google-auth honours, so a test or relay token server works unchanged), the
message model and its validation (``messaging.Message``, ``AndroidConfig``, ``APNSConfig``…),
and the mapping of FCM's error payloads to its error types (``UnregisteredError``…).

How the bytes travel is ours. Measured on this machine against a local fake FCM, the SDK's
``send_each_for_multicast`` managed about 1,200 messages/s (CPU-bound in its requests-based
sender) and its async variant about 390/s, while one aiohttp session with a bounded pool of
connections posts the same bodies at several thousand per second (``bench/push_fanout.py``).
The SDK also has no setting for its endpoint (``FCM_URL`` is a class constant), which our
``endpoint`` covers, for tests and for deployments behind a relay.

On the wire a device is addressed by ``message.token``, the registration token that the
Android/iOS/Web SDKs hand to the app and that ``POST /devices`` stores. firebase-admin 7.7
deprecates ``Message.token`` in favour of ``fid`` (a Firebase installation ID, another
identifier that FCM v1 also accepts); we keep tokens, because that is what clients register,
and therefore never construct ``Message(token=…)``: the SDK encodes a message for a
placeholder topic, and the target is set on the encoded body.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson
from firebase_admin import _utils as firebase_utils
from firebase_admin import credentials, messaging

from push import Outcome, Push, Result

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://fcm.googleapis.com"
_PLACEHOLDER_TOPIC = "jiayuan-template"


QUIET_CHANNEL_SUFFIX = "_quiet"


def _encode_message(push: Push) -> dict[str, Any]:
    """The FCM v1 ``message`` for ``push`` (without its token), built by firebase-admin.

    Three shapes: an alert (sound, high priority); a quiet update (``alert=False``: the same
    collapse key and tag, so it replaces what the phone shows, at normal priority, without
    sound: APNs priority 5 and interruption level ``passive``; on Android the ``_quiet`` twin
    of the channel, which the app creates with low importance — Android 8+ takes sound from
    the channel, ``notification_priority`` only matters before it); and a data-only message
    (no title: a withdraw, handled by the app in the background).
    """
    silent = push.title is None
    quiet = silent or not push.alert
    aps = messaging.Aps(
        badge=push.badge,
        sound=None if quiet else "default",
        content_available=True if silent else None,
        custom_data={"interruption-level": "passive"} if quiet and not silent else None,
    )
    apns_headers = {"apns-priority": "5" if quiet else "10"}
    if silent:
        apns_headers["apns-push-type"] = "background"
    if push.collapse_key:
        apns_headers["apns-collapse-id"] = push.collapse_key[:64]
    android_notification = None
    if not silent:
        android_notification = messaging.AndroidNotification(
            channel_id=push.android_channel + (QUIET_CHANNEL_SUFFIX if quiet else ""),
            tag=push.collapse_key,
            priority="low" if quiet else None,
        )
    message = messaging.Message(
        topic=_PLACEHOLDER_TOPIC,
        data=dict(push.data),
        notification=None if silent else messaging.Notification(title=push.title, body=push.body),
        android=messaging.AndroidConfig(
            collapse_key=push.collapse_key,
            priority="high" if push.high_priority and not quiet else "normal",
            notification=android_notification,
        ),
        apns=messaging.APNSConfig(headers=apns_headers, payload=messaging.APNSPayload(aps=aps)),
    )
    encoded: dict[str, Any] = messaging._MessagingService.encode_message(message)  # noqa: SLF001
    encoded.pop("topic")
    return encoded


MAX_RETRY_AFTER = 3600.0


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), within [0, an hour];
    None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def classify(status: int, body: bytes | str) -> tuple[Outcome, str]:
    """What a failed send means for its token, read with firebase-admin's error mapping."""
    content = body.decode(errors="replace") if isinstance(body, bytes) else body
    error_dict, message = firebase_utils._parse_platform_error(content, status)  # noqa: SLF001
    fcm_error = messaging._MessagingService._build_fcm_error(error_dict)  # noqa: SLF001
    # The payload's "status" is already the platform code (INVALID_ARGUMENT…).
    code = error_dict.get("status") or firebase_utils._http_status_to_error_code(status)  # noqa: SLF001
    label = f"{fcm_error.__name__ if fcm_error else code}: {message}"[:300]
    if fcm_error is messaging.UnregisteredError:
        return Outcome.DROP_TOKEN, label
    if fcm_error in (messaging.ThirdPartyAuthError, messaging.SenderIdMismatchError):
        # Our APNs/Web Push credentials, or a service account of another Firebase project:
        # a deployment mistake, not a dead token. Keep the device.
        return Outcome.FAILED, label
    if fcm_error is messaging.QuotaExceededError or status in (429, 500, 502, 503, 504):
        return Outcome.RETRY, label
    if code == "INVALID_ARGUMENT" and _names_the_token(error_dict, message):
        return Outcome.DROP_TOKEN, label
    if status == 401:  # our access token expired between fetching and sending
        return Outcome.RETRY, label
    return Outcome.FAILED, label


def _names_the_token(error_dict: dict[str, Any], message: str) -> bool:
    """INVALID_ARGUMENT means a bad token only when FCM says it is the token that is bad;
    a malformed message must not make us forget every device it was sent to."""
    for detail in error_dict.get("details", []):
        for violation in detail.get("fieldViolations", []) or []:
            if violation.get("field") == "message.token":
                return True
    return "registration token" in message.lower()


class FcmProvider:
    name = "fcm"

    def __init__(
        self,
        *,
        credentials_path: str,
        project_id: str | None = None,
        endpoint: str | None = None,
        concurrency: int = 64,
        timeout: float = 10.0,
    ) -> None:
        self._credential = credentials.Certificate(credentials_path)
        self.project_id = project_id or self._credential.project_id
        base = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.url = f"{base}/v1/projects/{self.project_id}/messages:send"
        self.concurrency = concurrency
        self.timeout = timeout
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def _access_token(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._token_expires - 60:
                info = self._credential.get_access_token()
                self._token = info.access_token
                expiry = info.expiry.timestamp() if info.expiry else time.time() + 3000
                self._token_expires = expiry
            return self._token

    def send(self, pushes: Sequence[Push]) -> list[Result]:
        if not pushes:
            return []
        return asyncio.run(self._send_all(pushes, self._access_token()))

    def bodies(self, pushes: Sequence[Push]) -> list[bytes]:
        """The request bodies for ``pushes``; pushes that differ only in token and badge share
        one encoding by the SDK."""
        templates: dict[tuple[Any, ...], dict[str, Any]] = {}
        out = []
        for push in pushes:
            key = (
                push.title,
                push.body,
                tuple(sorted(push.data.items())),
                push.collapse_key,
                push.android_channel,
                push.high_priority,
                push.alert,
            )
            template = templates.get(key)
            if template is None:
                template = templates[key] = _encode_message(
                    Push("-", push.title, push.body, push.data, push.collapse_key, None,
                         push.platform, push.android_channel, push.high_priority, push.alert)
                )  # fmt: skip
            message = dict(template)
            message["token"] = push.token
            if push.badge is not None:
                apns = dict(message["apns"])
                payload = dict(apns["payload"])
                payload["aps"] = {**payload["aps"], "badge": push.badge}
                apns["payload"] = payload
                message["apns"] = apns
            out.append(orjson.dumps({"message": message}))
        return out

    async def _send_all(self, pushes: Sequence[Push], access_token: str) -> list[Result]:
        bodies = self.bodies(pushes)
        results: list[Result | None] = [None] * len(pushes)
        headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json; charset=UTF-8",
            "X-GOOG-API-FORMAT-VERSION": "2",
        }
        next_index = iter(range(len(pushes)))
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def worker() -> None:
                for i in next_index:
                    results[i] = await self._post(session, headers, pushes[i].token, bodies[i])

            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(pushes)))))
        return [r for r in results if r is not None]

    async def _post(
        self, session: aiohttp.ClientSession, headers: dict[str, str], token: str, body: bytes
    ) -> Result:
        try:
            async with session.post(self.url, data=body, headers=headers) as response:
                if response.status == 200:
                    await response.read()
                    return Result(token, Outcome.SENT)
                content = await response.read()
                if response.status == 401:
                    self._token = None  # the retry fetches a fresh access token
                outcome, label = classify(response.status, content)
                return Result(
                    token, outcome, label, _retry_after(response.headers.get("Retry-After"))
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            return Result(token, Outcome.RETRY, f"transport: {type(exc).__name__}")
        except Exception as exc:  # one odd answer must not lose the results of the batch
            log.exception("unexpected error sending a push")
            return Result(token, Outcome.RETRY, f"unexpected: {type(exc).__name__}")
