"""One announcement to 100,000 devices through a local fake FCM server.

    .venv/bin/python bench/push_fanout.py [--devices 100000] [--db sqlite|postgres]
                                          [--concurrency 64] [--sdk 5000]

Prints, for the same fake server (tests/fake_fcm.py, in its own process, so that it does not
share a GIL with the sender):

- **jiayuan**: ``notify()`` writing 100,000 inbox entries and deliveries, then
  ``deliver_due()`` claiming, re-checking, rendering and sending them through
  ``push/fcm.py`` and recording each result — devices/s, HTTP calls, peak memory;
- **ceiling**: a raw aiohttp client posting the same request bodies with the same
  connection limit — requests/s; and the ratio of the two;
- **sdk** (``--sdk N``): firebase-admin's own ``send_each`` over N messages, for reference.

All traffic stays on 127.0.0.1; every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class FakeServer:
    """tests/fake_fcm.py in a process of its own."""

    def __init__(self, workdir: Path) -> None:
        self.key = workdir / "service-account.json"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_fcm", str(self.key)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = json.loads(self.proc.stdout.readline())["port"]
        self.base = f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.base}/_stats", timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _database(kind: str, workdir: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", lambda: None
    import sqlalchemy as sa

    base = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return f"{base}?options=-csearch_path%3D{schema}", drop


def run_jiayuan(args: argparse.Namespace, fake: FakeServer, url: str) -> dict[str, Any]:
    from flask_migrate import upgrade

    from server import create_app
    from server.common.tx import commit
    from server.extensions import db
    from server.notifications import delivery, service
    from tests.factories import insert_devices, insert_members

    app = create_app(
        {
            "JIAYUAN_ENV": "test",
            "DATABASE_URL": url,
            "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
            "SECRET_KEY": "b" * 40,
            "JWT_SECRET_KEY": "c" * 40,
            "JOBS_BACKEND": "memory",
            "LOG_LEVEL": "WARNING",
            "PUSH_PROVIDER": "fcm",
            "FCM_CREDENTIALS": str(fake.key),
            "FCM_ENDPOINT": fake.base,
            "FCM_CONCURRENCY": args.concurrency,
            "PUSH_BATCH_SIZE": args.batch,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        ids = insert_members(args.devices, prefix="fan")
        insert_devices(ids, prefix="fcm-token")
        db.session.commit()
        before = fake.stats()

        started = time.perf_counter()
        service.notify(
            ids,
            "announcement",
            "announcement:1",
            {
                "title": "周六线下聚会",
                "body": "本周六下午两点，杭州，欢迎带朋友来。",
                "announcement_id": "1",
            },
        )
        commit()
        written = time.perf_counter() - started

        started = time.perf_counter()
        stats = delivery.deliver_due()
        sent_in = time.perf_counter() - started
        after = fake.stats()
    calls = after.get("send", 0) - before.get("send", 0)
    return {
        "devices": args.devices,
        "notify_s": written,
        "deliver_s": sent_in,
        "devices_per_s": args.devices / sent_in,
        "end_to_end_per_s": args.devices / (written + sent_in),
        "http_calls": calls,
        "sent": stats.get("sent", 0),
        "peak_rss_mb": _peak_rss_mb(),
    }


async def _raw(bodies: list[bytes], url: str, token: str, concurrency: int) -> int:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ok = 0
    it = iter(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal ok
            for body in it:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok += response.status == 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


def run_ceiling(args: argparse.Namespace, fake: FakeServer) -> dict[str, Any]:
    from push import Push
    from push.fcm import FcmProvider

    provider = FcmProvider(
        credentials_path=str(fake.key), endpoint=fake.base, concurrency=args.concurrency
    )
    pushes = [
        Push(f"fcm-token-{i:08d}", "周六线下聚会", "本周六下午两点，杭州，欢迎带朋友来。",
             {"kind": "announcement", "notification_id": str(i), "announcement_id": "1"},
             "c0ffee", 1)
        for i in range(args.devices)
    ]  # fmt: skip
    bodies = provider.bodies(pushes)  # the same bytes; building them is not timed here
    token = provider._access_token()
    started = time.perf_counter()
    ok = asyncio.run(_raw(bodies, provider.url, token, args.concurrency))
    elapsed = time.perf_counter() - started
    return {"requests": len(bodies), "ok": ok, "seconds": elapsed, "per_s": len(bodies) / elapsed}


def run_sdk(args: argparse.Namespace, fake: FakeServer) -> dict[str, Any]:
    import firebase_admin
    from firebase_admin import credentials, messaging

    app = firebase_admin.initialize_app(
        credentials.Certificate(str(fake.key)), name=f"bench-{uuid.uuid4().hex[:6]}"
    )
    service = messaging._get_messaging_service(app)
    # No public setting for the endpoint: this is the one line firebase-admin needs patched.
    service._fcm_url = f"{fake.base}/v1/projects/{app.project_id}/messages:send"
    messages = [
        messaging.Message(
            topic="placeholder",
            notification=messaging.Notification(title="周六线下聚会", body="本周六下午两点"),
            data={"kind": "announcement"},
        )
        for _ in range(args.sdk)
    ]
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # its pool of 10 is part of the story
    started = time.perf_counter()
    sent = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(0, len(messages), 500):
            response = messaging.send_each(messages[i : i + 500], app=app)
            sent += response.success_count
    elapsed = time.perf_counter() - started
    firebase_admin.delete_app(app)
    return {"messages": args.sdk, "ok": sent, "seconds": elapsed, "per_s": args.sdk / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--sdk", type=int, default=5000, help="messages for the SDK run (0: skip)")
    args = parser.parse_args()

    print(f"machine: {_machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeServer(Path(tmp))
        url, drop = _database(args.db, Path(tmp))
        try:
            ours = run_jiayuan(args, fake, url)
            ceiling = run_ceiling(args, fake)
            sdk = run_sdk(args, fake) if args.sdk else None
        finally:
            drop()
            fake.stop()

    print(f"\n{args.devices:,} devices, {args.db}, {args.concurrency} connections, "
          f"batches of {args.batch}")  # fmt: skip
    print(f"jiayuan  notify() wrote inbox + deliveries in {ours['notify_s']:.2f} s")
    print(
        f"jiayuan  deliver_due(): {ours['deliver_s']:.2f} s, {ours['devices_per_s']:,.0f} devices/s"
        f" ({ours['end_to_end_per_s']:,.0f}/s including notify), {ours['http_calls']:,} HTTP calls,"
        f" {ours['sent']:,} sent, peak RSS {ours['peak_rss_mb']:.0f} MB"
    )
    print(
        f"ceiling  raw aiohttp, same bodies: {ceiling['seconds']:.2f} s, {ceiling['per_s']:,.0f}/s"
    )
    print(f"ratio    {ours['devices_per_s'] / ceiling['per_s']:.0%} of the ceiling (delivery)")
    if sdk:
        print(
            f"sdk      firebase-admin send_each, {sdk['messages']:,} messages: "
            f"{sdk['seconds']:.2f} s, {sdk['per_s']:,.0f}/s"
        )


if __name__ == "__main__":
    main()
