"""Operations: health, readiness, metrics, request ids, conditional GET, CORS."""

from __future__ import annotations


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["database"] == "ok"


def test_a_rest_process_stays_ready_with_redis_down(client, app):
    """REST works without Redis (limits count per process, owed work waits for the sweep): an
    outage of Redis must not pull every REST process out of the load balancer."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        ready = client.get("/readyz")
    finally:
        app.config["REDIS_URL"] = None
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "degraded"
    assert ready.get_json()["checks"]["redis"].startswith("error")


def test_a_socketio_process_without_a_bus_needs_only_the_database(client):
    ready = client.get("/readyz/socketio")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_metrics_count_requests(client):
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'jiayuan_http_request_duration_seconds_count{endpoint="healthz",method="GET",status="200"}'
        in text
    )


def _series(client) -> int:
    text = client.get("/metrics").get_data(as_text=True)
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def test_metrics_series_stay_bounded_under_random_methods_and_paths(client):
    import random
    import string

    rng = random.Random(10)

    def word(n: int) -> str:
        return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))

    for method in ("GET", "POST", "OPTIONS"):  # every label value that can appear once
        client.open("/healthz", method=method)
        client.open(f"/{word(8)}", method=method)
    client.open("/healthz", method="ZZSLDMVXQE")
    client.open(f"/{word(8)}", method="ZZSLDMVXQE")
    before = _series(client)
    for _ in range(30):
        client.open(f"/{word(8).lower()}/{word(5)}", method=word(10))
        client.open("/healthz", method=word(10))
        client.open(f"/api/v1/{word(6).lower()}", method="POST")
    assert _series(client) == before
    text = client.get("/metrics").get_data(as_text=True)
    assert 'endpoint="unmatched",method="other"' in text


def test_metrics_token_is_enforced_when_set(client, app):
    app.config["METRICS_TOKEN"] = "s3cret"
    try:
        assert client.get("/metrics").status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    finally:
        app.config["METRICS_TOKEN"] = None


def test_request_id_is_echoed_or_made(client):
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id <script>" + "x" * 80})
    assert len(made.headers["X-Request-ID"]) == 32


def test_conditional_get_answers_304(client, make_member, auth_headers):
    headers = auth_headers(make_member())
    first = client.get("/api/v1/me", headers=headers)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get("/api/v1/me", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    client.patch("/api/v1/me", headers=headers, json={"bio": "改了"})
    changed = client.get("/api/v1/me", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_cors_allows_configured_origins_only(client):
    ok = client.options(
        "/api/v1/auth/login",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = client.options(
        "/api/v1/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_repeated_errors_are_logged_with_back_off():
    """Huey's scheduler fails every second while Redis is down: three minutes of it give a
    handful of lines, each saying how many were left out, instead of 180 tracebacks."""
    import logging

    from server.common.observability import BackoffFilter

    now = [0.0]
    backoff = BackoffFilter(clock=lambda: now[0])

    def record(msg: str, level: int = logging.ERROR, *args: object) -> logging.LogRecord:
        try:
            raise ConnectionError("Connection refused")
        except ConnectionError:
            import sys

            exc_info = sys.exc_info()
        return logging.LogRecord("huey.consumer.Scheduler", level, "f", 1, msg, args, exc_info)

    passed = []
    for second in range(180):
        now[0] = float(second)
        r = record("Error reading schedule.")
        if backoff.filter(r):
            passed.append((second, r.getMessage()))
    assert [s for s, _m in passed] == [0, 1, 3, 7, 15, 31, 63, 127]
    assert passed[1][1] == "Error reading schedule."  # nothing was left out before it
    assert passed[3][1] == "Error reading schedule. [3 more like this were not logged]"
    assert backoff.filter(record("another kind of failure %s", logging.ERROR, "x"))
    assert backoff.filter(record("Error reading schedule.", logging.INFO))  # info: always
    now[0] = 180.0 + BackoffFilter.RESET_AFTER + 1  # quiet long enough: at once again
    assert backoff.filter(record("Error reading schedule."))
