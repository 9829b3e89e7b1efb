"""Operations: request ids, structured logs, Prometheus metrics, liveness and readiness.

Every request gets an id (the caller's ``X-Request-ID`` when it is sane, else a new one); it is
echoed in the response and stamped on every log line written while the request runs. Logs are
JSON lines in production (``LOG_FORMAT=json``). ``/metrics`` serves Prometheus text, aggregated
across gunicorn workers when ``PROMETHEUS_MULTIPROC_DIR`` is set.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any, cast

import orjson
import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)

from server.extensions import db

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

REQUEST_SECONDS = Histogram(
    "jiayuan_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

access_log = logging.getLogger("jiayuan.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class BackoffFilter(logging.Filter):
    """Repeated warnings and errors are logged with back-off: the first of a kind at once, the
    next ones after 1, 2, 4 … up to ``MAX_INTERVAL`` seconds, each saying how many like it were
    left out meanwhile. A kind is the logger, the message's template and the exception's type;
    one quiet for ``RESET_AFTER`` seconds starts again. An outage (Redis down: Huey's scheduler
    fails every second) gives a dozen lines an hour, not 3,600 tracebacks."""

    MAX_INTERVAL = 300.0
    RESET_AFTER = 600.0
    MAX_KINDS = 1000

    def __init__(self, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.clock = clock
        # kind -> [next allowed, interval, left out, last seen]
        self.kinds: dict[tuple[str, str, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, str(record.msg), exc)
        now = self.clock()
        state = self.kinds.get(kind)
        if state is None or now - state[3] > self.RESET_AFTER:
            if len(self.kinds) >= self.MAX_KINDS:
                self.kinds.clear()
            self.kinds[kind] = [now + 1.0, 1.0, 0, now]
            return True
        state[3] = now
        if now < state[0]:
            state[2] += 1
            return False
        left_out = int(state[2])
        state[1] = min(state[1] * 2, self.MAX_INTERVAL)
        state[0], state[2] = now + state[1], 0
        if left_out:
            note = f" [{left_out} more like this were not logged]"
            record.msg = str(record.msg) + (note.replace("%", "%%") if record.args else note)
        return True


def configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_jiayuan", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._jiayuan = True  # type: ignore[attr-defined]
    handler.addFilter(_RequestIdFilter())
    handler.addFilter(BackoffFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# (method, endpoint, status) -> its histogram's observe: labels() takes a lock and builds its
# key on every call; the label values are bounded, and so is this
_observers: dict[tuple[str, str | None, int], Callable[[float], None]] = {}


def _start_request() -> None:
    # environ and g read once each: every read through Flask's proxies costs a context look-up
    given = cast(Any, request).environ.get("HTTP_X_REQUEST_ID", "")
    state = cast(Any, g)._get_current_object()
    state.request_id = given if given and _REQUEST_ID.match(given) else secrets.token_hex(16)
    state.started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    state = cast(Any, g)._get_current_object()
    response.headers["X-Request-ID"] = getattr(state, "request_id", "-")
    started = getattr(state, "started", None)
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    current = cast(Any, request)._get_current_object()
    # every label has a bounded set of values, whatever clients send: made-up methods are
    # "other", paths that match no route "unmatched"
    method = current.method if current.method in _METHODS else "other"
    rule = current.url_rule
    key = (method, rule.endpoint if rule is not None else None, response.status_code)
    observe = _observers.get(key)
    if observe is None:
        observe = REQUEST_SECONDS.labels(method, key[1] or "unmatched", str(key[2])).observe
        _observers[key] = observe
    observe(elapsed)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "%s %s %s %.1fms",
            current.method,
            current.path,
            response.status_code,
            elapsed * 1000,
            extra={
                "fields": {
                    "method": current.method,
                    "path": current.path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 2),
                }
            },
        )
    return response


def healthz() -> tuple[dict[str, str], int]:
    """Liveness: the process answers."""
    return {"status": "ok"}, 200


def _database_check() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any driver error means not ready
        return f"error: {type(exc).__name__}"
    finally:
        db.session.rollback()


def _redis_check() -> str | None:
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        return None
    import redis

    try:
        redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _ready(checks: dict[str, str | None], needed: set[str]) -> tuple[dict[str, Any], int]:
    shown = {name: value for name, value in checks.items() if value is not None}
    ok = all(shown.get(name, "ok") == "ok" for name in needed)
    status = (
        "unavailable"
        if not ok
        else "ok"
        if all(v == "ok" for v in shown.values())
        else ("degraded")
    )
    return {"status": status, "checks": shown}, 200 if ok else 503


def readyz() -> tuple[dict[str, Any], int]:
    """Readiness of a REST process (and the job worker's): the database answers. Redis is
    reported but not needed: without it limits count per process and owed work waits for the
    sweep, so a Redis outage must not pull every REST process out of the load balancer."""
    return _ready({"database": _database_check(), "redis": _redis_check()}, {"database"})


def readyz_socketio() -> tuple[dict[str, Any], int]:
    """Readiness of a Socket.IO process: the database answers and, with several processes
    (REDIS_URL), this process hears the others' events (``server/common/socketbus.py``)."""
    from server.common import socketbus
    from server.extensions import socketio

    server = socketio.server
    if server is not None and not server.manager_initialized:
        # the bus starts listening with the first connection; a probe starts it too, or a
        # process that is not ready would never get the connection that makes it ready
        server.manager_initialized = True
        server.manager.initialize()
    listening = socketbus.listening(server)
    bus = None if listening is None else "ok" if listening else "error: not listening"
    return _ready({"database": _database_check(), "event_bus": bus}, {"database", "event_bus"})


def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("forbidden\n", status=403, mimetype="text/plain")
    elif not current_app.config.get("METRICS_OPEN"):
        return Response("not found\n", status=404, mimetype="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    configure_logging(app)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.add_url_rule("/readyz/socketio", "readyz_socketio", readyz_socketio)
    app.add_url_rule("/metrics", "metrics", metrics)
