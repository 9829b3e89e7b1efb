"""``Idempotency-Key``: a write that a phone retries after a lost answer happens once.

A signed-in client may send ``Idempotency-Key: <1–255 visible ASCII characters>`` with any
POST, PUT, PATCH or DELETE under ``/api/``. The key is the caller's (two members never collide)
and is kept for ``IDEMPOTENCY_TTL_HOURS``:

- the first request inserts the key **in its own transaction**, so the key commits together
  with the write the service commits (or is rolled back with it, when the request fails and a
  retry should run again); after the view, the answer is stored with the key;
- a retry with the same key and the same request gets the stored answer again, with
  ``Idempotent-Replayed: true``, and writes nothing;
- the same key with another request (method, path or body) is ``422 idempotency_key_reused``;
  a retry while the first is still running is ``409 idempotency_key_in_progress`` with
  ``Retry-After: 1``.

Storing the answer is the one thing done after the commit; if it fails, the client still gets
the answer, and a retry gets 409 until the key expires (the write is not repeated).
As Stripe and pretix do it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from huey import crontab
from sqlalchemy.orm import Mapped, mapped_column

from server.common.time import UTCDateTime, utcnow
from server.common.tx import changed, insert_ignore
from server.errors import Conflict, DomainError, register_messages
from server.extensions import Model, db, jobs

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_STORED_BODY = 64 * 1024  # a larger answer is not kept: a retry gets 409
_VALID = re.compile(r"[\x21-\x7e]{1,255}")
_KEPT_HEADERS = ("Content-Type", "Location", "ETag")

register_messages(
    {
        "invalid_idempotency_key": {
            "zh-Hans": "Idempotency-Key 必须是 1 至 255 个可见 ASCII 字符。",
            "zh-Hant": "Idempotency-Key 必須是 1 至 255 個可見 ASCII 字元。",
            "en": "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        },
        "idempotency_key_reused": {
            "zh-Hans": "此 Idempotency-Key 已用于另一个请求。",
            "zh-Hant": "此 Idempotency-Key 已用於另一個請求。",
            "en": "This Idempotency-Key was used for a different request.",
        },
        "idempotency_key_in_progress": {
            "zh-Hans": "使用此 Idempotency-Key 的请求尚未完成，请稍后重试。",
            "zh-Hant": "使用此 Idempotency-Key 的請求尚未完成，請稍後重試。",
            "en": "A request with this Idempotency-Key has not finished; retry shortly.",
        },
    }
)


class IdempotencyKey(Model):
    """A key a member sent with a write, and the answer it got (None: not stored yet)."""

    __tablename__ = "idempotency_keys"

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int | None] = mapped_column()
    headers: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def _caller() -> int | None:
    """The signed-in member whose live access token came with the request, else None (the
    view then answers 401 as it would have)."""
    from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request

    try:
        verify_jwt_in_request(optional=True)
        identity = get_jwt_identity()
    except Exception:  # no, expired, revoked or refresh token: the view says which
        return None
    return int(identity) if identity else None


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(found: IdempotencyKey, fingerprint: str) -> Response:
    if found.fingerprint != fingerprint:
        raise DomainError("idempotency_key_reused", 422)
    if found.status is None:
        raise Conflict("idempotency_key_in_progress", headers={"Retry-After": "1"})
    response = Response(found.body or b"", status=found.status)
    for name, value in (found.headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def _before() -> Response | None:
    if request.method not in METHODS or not request.path.startswith("/api/"):
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _VALID.fullmatch(key):
        raise DomainError("invalid_idempotency_key", 400)
    member_id = _caller()
    if member_id is None:
        return None
    fingerprint = _fingerprint()
    found = db.session.get(IdempotencyKey, (member_id, key))
    if found is None:
        # In the request's transaction: it commits with the write, or rolls back with it. A
        # concurrent first try holds the key until it commits (PostgreSQL waits on it here).
        values = {
            "member_id": member_id,
            "key": key,
            "fingerprint": fingerprint,
            "created_at": utcnow(),
        }
        if insert_ignore(IdempotencyKey, values):
            g.idempotency_key = (member_id, key)
            return None
        found = db.session.get(IdempotencyKey, (member_id, key), populate_existing=True)
        if found is None:  # pragma: no cover - taken and expired within a moment
            raise Conflict("idempotency_key_in_progress", headers={"Retry-After": "1"})
    answer = _replay(found, fingerprint)
    db.session.rollback()
    return answer


def _after(response: Response) -> Response:
    taken = g.pop("idempotency_key", None)
    if taken is None:
        return response
    member_id, key = taken
    try:
        if response.status_code >= 400:
            # The service failed and rolled back its write, and the key with it; a retry runs
            # again. (An error after a commit keeps the key: its answer is stored below.)
            db.session.rollback()
        body = response.get_data() if not response.direct_passthrough else None
        if body is None or len(body) > MAX_STORED_BODY:
            db.session.commit()  # the key (if still pending) without an answer: 409 on retry
            return response
        answer = {
            "status": response.status_code,
            "headers": {h: response.headers[h] for h in _KEPT_HEADERS if h in response.headers},
            "body": body,
        }
        stored = changed(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.member_id == member_id, IdempotencyKey.key == key)
            .values(**answer)
            .execution_options(synchronize_session=False)
        )
        if not stored and response.status_code < 400:
            # the service rolled back and started again: the key went with the first attempt
            insert_ignore(
                IdempotencyKey,
                {
                    "member_id": member_id,
                    "key": key,
                    "fingerprint": _fingerprint(),
                    "created_at": utcnow(),
                    **answer,
                },
            )
        db.session.commit()
    except Exception:  # nothing after the commit may turn a success into an error
        log.exception("could not store the answer to an idempotent request")
        db.session.rollback()
    return response


@jobs.periodic_task(crontab(minute="17"))
def forget_old_keys() -> int:
    """Hourly: keys past ``IDEMPOTENCY_TTL_HOURS`` are forgotten."""
    hours = current_app.config["IDEMPOTENCY_TTL_HOURS"]
    cutoff = utcnow() - timedelta(hours=hours)
    gone = changed(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    db.session.commit()
    return int(gone or 0)


def _export(member_id: int) -> list[dict[str, Any]]:
    """The keys kept (the answers stored with them are the member's own content, exported by
    its feature)."""
    rows = db.session.execute(
        sa.select(IdempotencyKey.key, IdempotencyKey.status, IdempotencyKey.created_at)
        .where(IdempotencyKey.member_id == member_id)
        .order_by(IdempotencyKey.created_at)
    )
    return [{"key": k, "status": s, "created_at": c} for k, s, c in rows]


def _erase(member_id: int) -> None:
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.member_id == member_id))


def init_app(app: Flask) -> None:
    from server.common import privacy

    app.before_request(_before)
    app.after_request(_after)
    privacy.register("idempotency", exporter=_export, eraser=_erase, order=950)
