"""The job queue, with a real consumer over a real SQLite store: delays and retries work."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask, current_app

from server.common.jobs import JobQueue


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_delayed_job_runs_later_in_an_app_context_and_retries(tmp_path, backend, request):
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    app = Flask("jobs-test")
    app.config.update(
        JOBS_BACKEND=backend, JOBS_SQLITE_PATH=str(tmp_path / "jobs.db"), REDIS_URL=redis_url
    )
    queue = JobQueue()
    queue.init_app(app)
    queue.huey.flush()
    runs: list[tuple[str, float, str]] = []
    done = threading.Event()

    @queue.task(retries=1, retry_delay=1)
    def flaky(word: str) -> None:
        runs.append((word, time.monotonic(), current_app.name))
        if len(runs) == 1:
            raise RuntimeError("first attempt fails")
        done.set()

    start = time.monotonic()
    flaky.schedule(("你好",), delay=1)
    queue.start_worker(workers=1)
    try:
        assert done.wait(timeout=15), runs
    finally:
        queue.stop_worker()
    assert [w for w, _t, _a in runs] == ["你好", "你好"]
    assert runs[0][1] - start >= 1.0  # waited for its delay
    assert runs[1][1] - runs[0][1] >= 1.0  # and for the retry delay
    assert runs[0][2] == "jobs-test"  # ran inside the app's context


def test_immediate_mode_runs_at_once(app):
    from server.extensions import jobs

    assert jobs.huey.immediate  # the test app's queue
    seen = []

    @jobs.task()
    def record(value: int) -> int:
        seen.append(value)
        return value * 2

    assert record(21)() == 42 and seen == [21]
