"""Servers of the tests' own, to stop, kill and restart: a ``redis-server`` and a PostgreSQL
cluster (``initdb`` in a temporary directory), each on a free port. Never the machine's shared
ones, which the rest of the suite (and other runs) are using."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _missing(what: str) -> None:
    """CI has every server these tests need: there a missing one fails the run."""
    if os.environ.get("CI") or os.environ.get("REQUIRE_POSTGRES"):
        pytest.fail(what)
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_redis_url() -> str:
    """A Redis that does not answer, the way an outage looks to a client of it: a free port on
    this machine that no server listens on."""
    return f"redis://127.0.0.1:{free_port()}/0?socket_connect_timeout=0.5"


@contextlib.contextmanager
def limiter_storage_down() -> Iterator[None]:
    """The limiter's storage becomes what production configures with ``REDIS_URL``
    (``fallback+redis://…``), pointed at a Redis that does not answer."""
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from server.extensions import limiter

    saved = limiter._storage, limiter._limiter
    limiter._storage = storage_from_string("fallback+" + dead_redis_url())
    limiter._limiter = FixedWindowRateLimiter(limiter._storage)
    try:
        yield
    finally:
        limiter._storage, limiter._limiter = saved


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class RedisServer:
    """``redis-server`` without persistence (a restart forgets everything, as the default
    configuration of many hosts does)."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            _missing("redis-server is not installed")
        self.directory, self.port = directory, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not _answers(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


class PostgresCluster:
    """A PostgreSQL cluster of the test's own: ``initdb`` in a temporary directory of its own
    (pytest's are private to their user), served on a free port, run as the ``postgres`` user
    when the tests run as root (PostgreSQL refuses root). ``remove()`` stops it and deletes it."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        if self.bin is None:
            _missing("PostgreSQL's initdb is not installed")
        self.directory = Path(tempfile.mkdtemp(prefix="jiayuan-pg-"))
        self.port = free_port()
        self.data = self.directory / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.directory, self.user)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}")

    def start(self) -> PostgresCluster:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-t", "30",
                  "-l", str(self.directory / "log"), "start")  # fmt: skip
        return self

    def stop(self) -> None:
        """A fast shutdown: clients are disconnected, as in a restart or failover."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in ([Path(found).resolve().parent] if found else []) + candidates:
        if (directory / "initdb").exists() and (directory / "postgres").exists():
            return directory
    return None
