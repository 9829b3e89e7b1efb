"""A worker killed in the middle of a batch loses nothing: on restart every device gets the
message, and no device gets it more than once more than needed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, _database_url
from tests.notifications.crash_worker import DEVICES

BATCH = 500


@pytest.fixture
def crash_env(fake_fcm_server, tmp_path):
    url, drop = _database_url(tmp_path)
    fake_fcm_server.reset()
    key = fake_fcm_server.service_account(tmp_path / "sa.json")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "k" * 40,
        "JWT_SECRET_KEY": "j" * 40,
        "PUSH_PROVIDER": "fcm",
        "FCM_CREDENTIALS": str(key),
        "FCM_ENDPOINT": fake_fcm_server.base_url,
        "FCM_CONCURRENCY": "8",
        "PUSH_BATCH_SIZE": str(BATCH),
        "PUSH_LEASE_SECONDS": "1",
    }
    yield env
    drop()


def _command(phase: str) -> list[str]:
    return [sys.executable, "-m", "tests.notifications.crash_worker", phase]


def _run(env: dict[str, str], phase: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(phase), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_worker_killed_mid_batch_loses_nothing(crash_env, fake_fcm_server):
    setup = _run(crash_env, "setup")
    assert setup.returncode == 0, setup.stderr

    held = BATCH + 100  # FCM stops answering in the middle of the second batch
    fake_fcm_server.hold_after = held
    worker = subprocess.Popen(
        _command("deliver"),
        cwd=ROOT,
        env=crash_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while fake_fcm_server.calls["send"] <= held:  # the worker is waiting on a held send
        assert worker.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    got_before = len(fake_fcm_server.received)
    assert got_before == held  # it died in the middle of the second batch
    fake_fcm_server.release()

    # a new worker takes over once the dead one's lease (PUSH_LEASE_SECONDS=1) has run out
    while len(fake_fcm_server.tokens()) < DEVICES:
        assert time.monotonic() < deadline, len(fake_fcm_server.tokens())
        restarted = _run(crash_env, "deliver")
        assert restarted.returncode == 0, restarted.stderr

    per_token = fake_fcm_server.tokens()
    assert len(per_token) == DEVICES  # every device got it
    assert max(per_token.values()) <= 2  # at most once more than needed
    duplicates = sum(1 for n in per_token.values() if n == 2)
    assert 0 < duplicates <= BATCH  # only the batch in flight was sent twice
