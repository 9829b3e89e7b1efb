"""Chat fan-out: N connected clients in one channel, one message every ``--interval`` seconds,
delivery latency (p50/p99), deliveries per second and server memory per connection — for the
Jiayuan server and, in the same run, a bare Flask-SocketIO server doing the same broadcast.

Run from the project root::

    .venv/bin/python bench/chat_fanout.py [--clients 1000] [--seconds 20] [--interval 0.1]
                                          [--client-procs 3] [--burst 100]

Both servers run the production command (``gunicorn -k gevent -w 1 --worker-connections
10000``) on a migrated SQLite file. The clients are lean: asyncio + aiohttp websockets
speaking Engine.IO 4 / Socket.IO 5 directly (python-socketio's client costs more CPU per
delivery than the server, so it would measure itself), spread over ``--client-procs``
processes. The sender stamps each message with its send time; each client records
``receive - send`` for every message it sees. Then a burst: ``--burst`` messages back to
back (each sent when the previous one is acknowledged); burst deliveries/s = deliveries of
the burst / (last delivery - first send).
Memory per connection is the server's RSS with all clients connected minus its RSS before,
divided by the number of clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chat.live import LiveServer, environment, migrate  # noqa: E402

STAMP = re.compile(r"([tb])=([0-9.]+)")  # t= a steady message, b= one of the burst


def rss_kib(pid: int) -> int:
    total = 0
    for child in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{child}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(p) for p in fh.read().split()]
    except OSError:
        pass
    return out


# --- setup ------------------------------------------------------------------------------------


def seed(clients: int) -> dict[str, Any]:
    """Members with tokens, one alliance, one channel everyone follows (in the server's DB)."""
    import sqlalchemy as sa

    from server import create_app
    from server.alliances.models import Alliance, AllianceMember
    from server.auth.service import sign_in
    from server.chat.models import Conversation, ConversationMember
    from server.extensions import db
    from server.members.models import Member
    from tests.factories import insert_members

    app = create_app()
    with app.app_context():
        ids = insert_members(clients + 1, prefix="fanout")
        alliance = Alliance(name="压测联盟", name_key="压测联盟", member_count=len(ids))
        db.session.add(alliance)
        db.session.flush()
        db.session.execute(
            sa.insert(AllianceMember),
            [{"alliance_id": alliance.id, "member_id": m, "role": "member"} for m in ids],
        )
        channel = Conversation(kind="channel", alliance_id=alliance.id, name="大厅")
        db.session.add(channel)
        db.session.flush()
        db.session.execute(
            sa.insert(ConversationMember),
            [{"conversation_id": channel.id, "member_id": m} for m in ids],
        )
        db.session.commit()
        tokens = [sign_in(db.session.get(Member, m), "fanout").access_token for m in ids]
        return {"channel": channel.id, "tokens": tokens}


CEILING = """
from flask import Flask
from flask_socketio import SocketIO, join_room, emit

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent")

@app.get("/healthz")
def healthz():
    return "ok"

@socketio.on("connect", namespace="/chat")
def connect(auth=None):
    join_room("room")

@socketio.on("send", namespace="/chat")
def send(data):
    if data["body"] == "pause":
        return {}
    message = {"id": 1, "html": "<p>" + data["body"] + "</p>\\n"}
    emit("message", message, to="room", namespace="/chat")
    return {"message": message}
"""


CEILING_GC = """
import gc

gc.freeze()
gc.set_threshold(50_000, 20, 10)
"""


# --- the lean client --------------------------------------------------------------------------


async def _connect(session: Any, url: str, token: str) -> Any:
    ws = await session.ws_connect(
        url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", heartbeat=None
    )
    opened = await ws.receive_str()  # 0{"sid":…,"pingInterval":…}
    assert opened.startswith("0"), opened
    await ws.send_str("40/chat," + json.dumps({"token": token}))
    while True:
        reply = await ws.receive_str()
        if reply.startswith("40/chat"):
            return ws
        if reply.startswith("44/chat"):
            raise RuntimeError("refused: " + reply)


async def _listen(ws: Any, latencies: list[float], burst: list[float], stop: float) -> None:
    while time.time() < stop:
        try:
            msg = await asyncio.wait_for(ws.receive_str(), timeout=max(0.1, stop - time.time()))
        except TimeoutError:
            break
        except Exception as exc:  # noqa: BLE001 - a closed socket ends this listener
            print(f"listener ended: {exc!r}", file=sys.stderr)
            break
        if msg == "2":
            await ws.send_str("3")
        elif msg.startswith('42/chat,["message"'):
            found = STAMP.search(msg)
            if found:
                now = time.time()
                if found.group(1) == "t":
                    latencies.append(now - float(found.group(2)))
                else:
                    burst.append(now)


def client_process(url: str, tokens: list[str], start: float, stop: float, out: Any) -> None:
    import aiohttp

    async def main() -> None:
        latencies: list[float] = []
        burst: list[float] = []
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            sockets = []
            for token in tokens:
                sockets.append(await _connect(session, url, token))
            out.put(("connected", len(sockets)))
            await asyncio.gather(*(_listen(ws, latencies, burst, stop) for ws in sockets))
            for ws in sockets:
                await ws.close()
        out.put(("latencies", (latencies, burst)))

    asyncio.run(main())


async def _sender(
    url: str, token: str, channel: int, args: argparse.Namespace
) -> tuple[int, float, int]:
    """Steady messages every ``interval`` for ``seconds``; then, after a pause, ``burst``
    messages back to back (each sent on its ack). Returns (steady sent, burst start, burst
    sent)."""
    import aiohttp

    async def send(ws: Any, ack_id: int, body: str, wait_ack: bool, until: float) -> None:
        await ws.send_str(
            f"42/chat,{ack_id}" + json.dumps(["send", {"conversation_id": channel, "body": body}])
        )
        while time.time() < until:
            try:
                msg = await asyncio.wait_for(ws.receive_str(), timeout=until - time.time())
            except TimeoutError:
                break
            if msg == "2":
                await ws.send_str("3")
            elif wait_ack and msg.startswith(f"43/chat,{ack_id}["):
                return

    sent = 0
    async with aiohttp.ClientSession() as session:
        ws = await _connect(session, url, token)
        end = time.time() + args.seconds
        while time.time() < end:
            await send(ws, sent, f"t={time.time():.6f}", False, time.time() + args.interval)
            sent += 1
        await send(ws, sent, "pause", True, time.time() + 3)  # let the steady part drain
        burst_start = time.time()
        for i in range(args.burst):
            await send(ws, sent + 1 + i, f"b={time.time():.6f}", True, time.time() + 10)
        await ws.close()
    return sent, burst_start, args.burst


def run(label: str, url: str, pid: int, tokens: list[str], channel: int,
        args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    before = rss_kib(pid)
    queue: Any = multiprocessing.Queue()
    start = time.time()
    stop = start + 90 + args.seconds  # connecting takes a while; listeners stop after sending
    chunks = [tokens[i :: args.client_procs] for i in range(args.client_procs)]
    procs = [
        multiprocessing.Process(target=client_process, args=(url, chunk, start, stop, queue))
        for chunk in chunks
    ]
    for p in procs:
        p.start()
    connected = 0
    while connected < len(tokens):
        kind, value = queue.get(timeout=120)
        if kind == "connected":
            connected += value
    connect_seconds = time.time() - start
    time.sleep(1)
    with_clients = rss_kib(pid)
    sender_token = tokens[-1] if label == "jiayuan" else "x"
    sent, burst_start, burst_sent = asyncio.run(_sender(url, sender_token, channel, args))
    # let the listeners drain and stop
    latencies: list[float] = []
    burst: list[float] = []
    for _ in procs:
        while True:
            kind, value = queue.get(timeout=stop - time.time() + 60)
            if kind == "latencies":
                latencies += value[0]
                burst += value[1]
                break
    for p in procs:
        p.join(timeout=10)
    latencies.sort()
    expected = sent * len(tokens)
    return {
        "server": label,
        "clients": len(tokens),
        "messages_sent": sent,
        "deliveries": len(latencies),
        "delivered_ratio": round(len(latencies) / expected, 4) if expected else 0,
        "deliveries_per_s": round(len(latencies) / args.seconds),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "burst_messages": burst_sent,
        "burst_delivered_ratio": round(len(burst) / (burst_sent * len(tokens)), 4)
        if burst_sent
        else 0,
        "burst_deliveries_per_s": round(len(burst) / (max(burst) - burst_start)) if burst else 0,
        "connect_seconds": round(connect_seconds, 1),
        "rss_before_mb": round(before / 1024, 1),
        "rss_connected_mb": round(with_clients / 1024, 1),
        "kb_per_connection": round((with_clients - before) / len(tokens), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--client-procs", type=int, default=3)
    parser.add_argument("--burst", type=int, default=100, help="messages sent back to back")
    parser.add_argument(
        "--ceiling-gc", action="store_true", help="give the bare server wsgi.py's GC settings"
    )
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="jiayuan-fanout-") as tmp_name:
        tmp = Path(tmp_name)
        env = environment(tmp / "fanout.db")
        env["RATELIMIT_ENABLED"] = "0"  # one sender at 10 msg/s is past the per-member limit
        migrate(env)
        seeded = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--seed-only", str(args.clients)],
                cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=600,
            ).stdout.strip().splitlines()[-1]
        )  # fmt: skip
        tokens = seeded["tokens"]
        with LiveServer(env, tmp / "app.log") as app:
            results.append(run("jiayuan", app.url, app.proc.pid, tokens[:-1], seeded["channel"],
                               args))  # fmt: skip
        ceiling_dir = tmp / "ceiling"
        ceiling_dir.mkdir()
        (ceiling_dir / "ceiling_chat.py").write_text(
            CEILING + (CEILING_GC if args.ceiling_gc else "")
        )
        with LiveServer(dict(env), tmp / "ceiling.log", "ceiling_chat:app", ceiling_dir) as bare:
            results.append(run("bare Flask-SocketIO", bare.url, bare.proc.pid, tokens[:-1],
                               seeded["channel"], args))  # fmt: skip
    print(json.dumps(results, indent=2, ensure_ascii=False))
    j, c = results
    if j["p99_ms"] and c["p99_ms"]:
        print(f"p99 ratio jiayuan / bare: {j['p99_ms'] / c['p99_ms']:.2f}  (aim ≤ 1.5)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seed-only":
        print(json.dumps(seed(int(sys.argv[2]))))
        raise SystemExit(0)
    raise SystemExit(main())
