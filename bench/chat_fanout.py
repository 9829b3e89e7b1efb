"""Chat fan-out: N connected clients in one channel, one message every ``--interval`` seconds,
delivery latency (p50/p99), deliveries per second and server memory per connection — for the
Jiayuan server and, in the same run, a bare Flask-SocketIO server doing the same broadcast.

Run from the project root::

    .venv/bin/python bench/chat_fanout.py [--clients 1000] [--seconds 20] [--interval 0.1]
                                          [--client-procs 3]

Both servers run the production command (``gunicorn -k gevent -w 1 --worker-connections
10000``) on a migrated SQLite file. The clients are lean: asyncio + aiohttp websockets
speaking Engine.IO 4 / Socket.IO 5 directly (python-socketio's client costs more CPU per
delivery than the server, so it would measure itself), spread over ``--client-procs``
processes. The sender stamps each message with its send time; each client records
``receive - send`` for every message it sees.
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

STAMP = re.compile(r"t=([0-9.]+)")


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
    message = {"id": 1, "html": "<p>" + data["body"] + "</p>\\n"}
    emit("message", message, to="room", namespace="/chat")
    return {"message": message}
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


async def _listen(ws: Any, latencies: list[float], stop: float) -> None:
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
                latencies.append(time.time() - float(found.group(1)))


def client_process(url: str, tokens: list[str], start: float, stop: float, out: Any) -> None:
    import aiohttp

    async def main() -> None:
        latencies: list[float] = []
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            sockets = []
            for token in tokens:
                sockets.append(await _connect(session, url, token))
            out.put(("connected", len(sockets)))
            await asyncio.gather(*(_listen(ws, latencies, stop) for ws in sockets))
            for ws in sockets:
                await ws.close()
        out.put(("latencies", latencies))

    asyncio.run(main())


async def _sender(url: str, token: str, channel: int, seconds: float, interval: float) -> int:
    import aiohttp

    sent = 0
    async with aiohttp.ClientSession() as session:
        ws = await _connect(session, url, token)
        end = time.time() + seconds
        ack_id = 0
        while time.time() < end:
            body = f"t={time.time():.6f}"
            await ws.send_str(
                f"42/chat,{ack_id}"
                + json.dumps(["send", {"conversation_id": channel, "body": body}])
            )
            ack_id += 1
            sent += 1
            next_at = time.time() + interval
            while time.time() < next_at:
                try:
                    msg = await asyncio.wait_for(ws.receive_str(), timeout=next_at - time.time())
                except TimeoutError:
                    break
                if msg == "2":
                    await ws.send_str("3")
        await ws.close()
    return sent


def run(label: str, url: str, pid: int, tokens: list[str], channel: int,
        args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    before = rss_kib(pid)
    queue: Any = multiprocessing.Queue()
    start = time.time()
    stop = start + 60 + args.seconds  # connecting takes a while; listeners stop after sending
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
    sent = asyncio.run(_sender(url, tokens[-1] if label == "jiayuan" else "x", channel,
                               args.seconds, args.interval))  # fmt: skip
    # let the listeners drain and stop
    latencies: list[float] = []
    for _ in procs:
        while True:
            kind, value = queue.get(timeout=stop - time.time() + 60)
            if kind == "latencies":
                latencies += value
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
        (ceiling_dir / "ceiling_chat.py").write_text(CEILING)
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
