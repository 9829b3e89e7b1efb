"""An announcement promised to 300 members reaches each of them exactly once, whatever happens
to the worker or the queue meanwhile: a worker SIGKILLed in the middle of the fan-out, one
stopped with SIGTERM (a deploy), and a Redis restart that forgets the queued job.

Real processes: ``flask worker`` over a Redis of the test's own (``tests/faults.py``), and the
database the suite runs on (an SQLite file, or a schema of its own on PostgreSQL). To stop the
worker in the middle of the fan-out for sure, the test holds a lock the next step needs
(a write lock on SQLite, the work's row on PostgreSQL) before it signals the worker."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.common.fanout_cli import MEMBERS
from tests.conftest import ROOT, _database_url
from tests.faults import RedisServer

BIN = Path(sys.executable).parent
LEASE = 2


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("owed-faults")
    url, drop = _database_url(tmp)
    redis = RedisServer(tmp).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "TEST_"))}
    env.update(
        FLASK_APP="wsgi",
        JIAYUAN_ENV="development",
        DATABASE_URL=url,
        REDIS_URL=redis.url,
        JOBS_BACKEND="redis",
        RATELIMIT_STORAGE_URI="memory://",
        SECRET_KEY="k" * 40,
        JWT_SECRET_KEY="j" * 40,
        OWED_LEASE_SECONDS=str(LEASE),
        FANOUT_CHUNK="5",  # 60 steps: a worker is caught in the middle
        JOBS_SHUTDOWN_SECONDS="20",
        LOG_LEVEL="INFO",
    )
    setup = _cli(env, "setup")
    assert setup.returncode == 0, setup.stderr
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        yield {"env": env, "redis": redis, "engine": engine, "url": url, "tmp": tmp}
    finally:
        engine.dispose()
        redis.stop()
        drop()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.common.fanout_cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _announce(world: dict[str, Any], n: int) -> int:
    done = _cli(world["env"], "announce", str(n))
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@contextlib.contextmanager
def _worker(world: dict[str, Any], name: str) -> Iterator[subprocess.Popen[bytes]]:
    log = (world["tmp"] / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        [str(BIN / "flask"), "worker", "--workers", "1"],
        cwd=ROOT, env=world["env"], stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        log.close()


def _told(world: dict[str, Any], announcement_id: int) -> list[tuple[int, int]]:
    with world["engine"].connect() as conn:
        rows = conn.execute(
            sa.text("SELECT recipient_id, count FROM notifications WHERE subject = :s"),
            {"s": f"announcement:{announcement_id}"},
        )
        return [(r, c) for r, c in rows]


def _work(world: dict[str, Any], announcement_id: int) -> Any:
    with world["engine"].connect() as conn:
        for row in conn.execute(sa.text("SELECT * FROM owed_work ORDER BY id")).mappings():
            args = row["args"] if isinstance(row["args"], dict) else json.loads(row["args"])
            if args["announcement_id"] == announcement_id:
                return row
    raise AssertionError(f"no owed work for announcement {announcement_id}")


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@contextlib.contextmanager
def _next_step_blocked(world: dict[str, Any], work_id: int) -> Iterator[None]:
    """Hold what the worker's next step needs: a write lock on SQLite, the row on PostgreSQL.

    SQLite's busy handler sleeps between tries and a worker stepping in a loop takes the lock
    back within a millisecond, so the lock is asked for in a tight loop instead (PostgreSQL
    queues row locks fairly)."""
    url = world["url"]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
        deadline = time.monotonic() + 30
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError:
                assert time.monotonic() < deadline, "never got the write lock"
                time.sleep(0.0002)
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
    else:
        with world["engine"].connect() as conn:
            conn.execute(sa.text("SELECT id FROM owed_work WHERE id = :i FOR UPDATE"),
                         {"i": work_id})  # fmt: skip
            yield
            conn.rollback()


def _exactly_once(world: dict[str, Any], announcement_id: int) -> None:
    def done() -> bool:
        return _work(world, announcement_id)["done_at"] is not None

    _wait(done, 60, "the fan-out to be done")
    told = _told(world, announcement_id)
    assert len(told) == MEMBERS and len({r for r, _c in told}) == MEMBERS
    assert {c for _r, c in told} == {1}


def _in_the_middle(world: dict[str, Any], announcement_id: int) -> int:
    def started() -> bool:
        return len(_told(world, announcement_id)) > 0

    _wait(started, 30, "the fan-out to start")
    return int(_work(world, announcement_id)["id"])


@contextlib.contextmanager
def _caught_in_the_middle(
    world: dict[str, Any], name: str, first: int
) -> Iterator[tuple[int, subprocess.Popen[bytes], int]]:
    """A worker fanning out an announcement, held between two steps (its next step waits for a
    lock the test holds): (announcement id, the worker, members told so far). On a loaded
    machine the worker may finish all 60 steps before the test gets the lock; then it tries
    again with a new announcement (at most five times)."""
    for attempt in range(5):
        announcement_id = _announce(world, first + attempt)
        with _worker(world, f"{name}-{attempt}") as worker:
            work_id = _in_the_middle(world, announcement_id)
            with _next_step_blocked(world, work_id):
                told = len(_told(world, announcement_id))
                if told < MEMBERS:
                    yield announcement_id, worker, told  # the caller signals the worker
            if told < MEMBERS:
                worker.wait(25)  # the lock is free: a stopped worker ends its step and exits
                return
    raise AssertionError("the worker finished each fan-out before it could be stopped")


def test_a_worker_killed_in_the_middle_of_the_fan_out(world):
    with _caught_in_the_middle(world, "killed", 10) as (announcement_id, worker, told):
        worker.send_signal(signal.SIGKILL)
    assert 0 < told < MEMBERS  # it died in the middle
    assert _work(world, announcement_id)["done_at"] is None
    with _worker(world, "after-kill"):  # resumes once the dead worker's lease has lapsed
        _exactly_once(world, announcement_id)


def test_a_worker_stopped_with_sigterm_hands_its_work_back(world):
    with _caught_in_the_middle(world, "stopped", 20) as (announcement_id, worker, _told_then):
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.3)  # the consumer sees the signal (it looks every 0.1 s)
    assert worker.returncode == 0  # it stopped by itself, gracefully
    work = _work(world, announcement_id)
    told = len(_told(world, announcement_id))
    assert 0 < told < MEMBERS and work["done_at"] is None
    assert work["lease_owner"] is None  # handed back, not left to lapse
    with _worker(world, "after-stop"):
        _exactly_once(world, announcement_id)


def test_a_redis_restart_that_forgets_the_job(world):
    announcement_id = _announce(world, 3)  # no worker: the job waits in Redis
    world["redis"].restart()  # without persistence: the queue is empty again
    assert _told(world, announcement_id) == []
    with _worker(world, "after-redis-restart"):  # a starting worker sweeps what is owed
        _exactly_once(world, announcement_id)
