"""HTTP benchmark of the Jiayuan API against a bare Flask + SQLAlchemy ceiling.

Run from the project root::

    .venv/bin/python bench/api_bench.py [--db sqlite|postgres|both] [--duration 10]
                                        [--connections 32] [--rounds 3]

For each database it builds a fresh database (an SQLite file in a temporary directory, or a
schema ``bench_<random>`` in the PostgreSQL database ``test``), runs the real migrations
(``flask --app wsgi db upgrade``), seeds ~2,000 members with Chinese names, cities, occupation
tags and bios through ``ensure_member`` and a forum of 1,000 threads by them (``seed_forum``),
runs ``ANALYZE``, and signs one member in.

It then serves ``wsgi:app`` and the ceiling (``bench/ceiling_app.py``: the same rows by the same
keyset query, no auth, no schema) side by side, each with gunicorn (2 sync workers, the same
command line) on a free loopback port, checks that both serve the same rows, and runs wrk with
the same settings against ``/api/v1/me``, page 1 of ``/api/v1/members``, a page ~95 % of the
way down the list, the ceiling's page 1 and deep page, page 1 of ``/api/v1/forum/threads`` and
the ceiling's page of threads. Targets are measured in interleaved
rounds and the median round is reported, with the workers' peak RSS, their CPU time per request
and the hypervisor's steal time during each run.

Every process it starts is stopped before it returns; the PostgreSQL schema is dropped. All
traffic stays on 127.0.0.1. Results are printed as a Markdown table and written as JSON to
``bench/results/`` (ignored by git).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
HOST = "127.0.0.1"
PAGE = 20
WORKERS = 2
ACCESS_TOKEN_TTL = 24 * 3600  # long enough for any run
BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 - throwaway benchmark accounts

# Settings the server reads from the environment that must not leak in from the caller's shell.
_SCRUBBED_ENV = (
    "DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "CORS_ORIGINS",
    "PROMETHEUS_MULTIPROC_DIR", "JIAYUAN_ENV", "LOG_FORMAT", "LOG_LEVEL", "SOCKETIO_ASYNC_MODE",
    "METRICS_TOKEN", "JOBS_BACKEND", "JOBS_IN_PROCESS", "FLASK_APP",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Seed data: realistic Chinese members
# --------------------------------------------------------------------------------------------

SURNAMES = [
    *"王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程"
    "魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石贾韦夏邱方侯邹熊孟秦白江薛尹段雷黎史龙陶贺顾毛郝"
    "龚邵万钱严覃武莫孔向汤",
    "欧阳",
    "司马",
    "上官",
]
GIVEN_NAMES = (
    "晓雨 默 佳慧 旭 诗婷 洋 敏 浩然 丽 一帆 子涵 欣怡 梓萱 宇轩 浩宇 思远 雨桐 嘉怡 俊杰 文博 "
    "静怡 明轩 若曦 天佑 可馨 志强 建华 秀英 海燕 婉清 逸飞 书瑶 紫涵 博文 晨阳 梦琪 雅琴 子墨 "
    "嘉豪 伟 芳 娜 磊 静 强 军 杰 涛 超 明 艳 勇 鹏 辉 玲 婷 颖 倩 琳 晶 宁 凯 佳 帆 悦 昕 "
    "思琪 安然 沐阳 清欢 知秋 听雨 青禾 南星 北辰 星河 予安 亦舒 时雨 念初 以沫 一鸣 少卿 乐天"
).split()
# (city, weight): big first-tier cities first; Traditional spellings for Taiwan, Hong Kong, Macau.
CITIES = (
    ("北京", 12), ("上海", 12), ("深圳", 10), ("广州", 9), ("杭州", 9), ("成都", 8),
    ("重庆", 5), ("武汉", 5), ("西安", 4), ("南京", 5), ("苏州", 4), ("长沙", 4), ("厦门", 3),
    ("青岛", 2), ("大理", 2), ("昆明", 2), ("天津", 2), ("郑州", 2), ("合肥", 2), ("福州", 2),
    ("臺北", 4), ("台中", 1), ("高雄", 1), ("香港", 4), ("澳門", 1),
)  # fmt: skip
TRADITIONAL_CITIES = {
    "臺北": "s2twp",
    "台中": "s2twp",
    "高雄": "s2twp",
    "香港": "s2hk",
    "澳門": "s2hk",
}
TAG_LINES = {
    "freelancer": ["自由职业第五年，远程接项目为主。", "辞职后做自由职业，时间自己安排。"],
    "new_media_creator": ["公众号主理人，写城市生活和独立小店。", "小红书博主，分享一人公司经验。"],
    "designer": ["独立品牌设计师，做过三十多个小店的视觉。", "UI/UX 设计八年，现在接远程项目。"],
    "developer": ["全栈开发，接小程序和后端外包。", "独立开发者，在做一款记账 App。"],
    "writer": ["非虚构写作者，关注灵活就业者的故事。", "写小说，也接品牌文案。"],
    "translator": ["英日中三语译者，主要做出版和游戏本地化。", "法律与财经翻译，兼做口译。"],
    "photographer": ["人像与街头摄影，偶尔办小型影展。", "婚礼跟拍和商业产品摄影。"],
    "video_creator": ["拍川西的纪录短片。", "历史科普 up 主，剪辑全靠自己。"],
    "consultant": ["给自由职业者做财税规划咨询。", "品牌与增长顾问，服务早期团队。"],
    "marketer": ["做私域运营，帮小品牌从零起号。", "投放和内容营销都做过。"],
    "educator": ["线上教雅思和托福。", "周末教少儿编程。"],
    "artist": ["插画师，画绘本和杂志插图。", "陶艺工作室主理人。"],
    "musician": ["独立音乐人，周末在 livehouse 演出。", "编曲和混音，接广告配乐。"],
    "ecommerce": ["经营一家手工皂网店。", "做跨境电商，主营家居小物。"],
    "gig_worker": ["做过外卖骑手和网约车司机。", "跑过同城配送，现在在学剪辑。"],
    "entrepreneur": ["一人公司创始人，做 SaaS 小工具。", "开了一家咖啡馆兼共享办公空间。"],
    "other": ["还在探索适合自己的工作方式。", "刚从大厂出来，休息一阵。"],
}
BIO_ENDINGS = [
    "",
    "欢迎交流合作。",
    "周末常在咖啡馆办公，可以约。",
    "正在寻找志同道合的伙伴。",
    "坐标{city}，可线下见面。",
    "接受远程合作，回复较慢请见谅。",
]
PINYIN = (
    "li wang zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo gao xiao yu "
    "jia hui ming hao ran yi fan ting shi min xin han zi mo yun qing an xing chen bei nan ya"
).split()


def _profile(rng: random.Random, index: int, converters: dict[str, Any]) -> dict[str, Any]:
    """One member's sign-up data: name, handle, city, occupations and bio."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
    city = rng.choices([c for c, _ in CITIES], weights=[w for _, w in CITIES])[0]
    tags = rng.sample(sorted(TAG_LINES), k=rng.choice((1, 1, 2, 2, 3)))
    bio = rng.choice(TAG_LINES[tags[0]]) + rng.choice(BIO_ENDINGS).format(city=city)
    if city in TRADITIONAL_CITIES:
        convert = converters[TRADITIONAL_CITIES[city]].convert
        name, bio = convert(name), convert(bio)
    handle = "".join(rng.choice(PINYIN) for _ in range(2)) + str(index)
    return {
        "email": f"{handle}@example.cn",
        "password": BENCH_PASSWORD,
        "display_name": name,
        "username": handle,
        "city": city,
        "occupations": tags,
        "bio": bio,
        "role": rng.choices(("member", "moderator", "organiser"), weights=(96, 2, 2))[0],
    }


def seed_database(members: int, rng_seed: int = 2026) -> dict[str, Any]:
    """Create ``members`` members through ``ensure_member`` and sign the first one in.

    Runs in its own process (``--seed-into``) with DATABASE_URL, secrets and a cheap argon2
    cost in the environment, so that the benchmark process never builds an app itself.
    """
    # The project root first: the venv's editable install can resolve ``server`` to an empty
    # namespace package when the script is not run from the root.
    sys.path.insert(0, str(ROOT))
    import opencc
    import sqlalchemy as sa

    from server import create_app
    from server.auth.service import sign_in
    from server.extensions import db
    from server.members.bootstrap import ensure_member
    from server.members.models import Member
    from server.members.service import record_consent

    app = create_app()
    converters = {name: opencc.OpenCC(name) for name in set(TRADITIONAL_CITIES.values())}
    rng = random.Random(rng_seed)
    started = time.perf_counter()
    with app.app_context():
        first = None
        for index in range(members):
            member = ensure_member(**_profile(rng, index, converters))
            first = first or member
        assert first is not None
        record_consent(first, app.config["PRIVACY_POLICY_VERSION"])
        forum = seed_forum(rng, first.id)
        tokens = sign_in(first, "jiayuan-api-bench")
        # Planner statistics, as a live database has: without them PostgreSQL plans the
        # directory's filtered ORDER BY id DESC LIMIT as a full scan and sort until autovacuum
        # happens to analyse the new tables (1.3 ms instead of 0.02 ms for 2,000 members).
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Member))
        username = first.username
        db.session.remove()
        db.engine.dispose()
    return {
        "members": count,
        **forum,
        "seconds": round(time.perf_counter() - started, 2),
        "username": username,
        "access_token": tokens.access_token,
    }


FORUM_THREADS = 1000
FORUM_CATEGORIES = ("接单与定价", "新媒体运营", "城市生活", "工具与效率")
FORUM_TAGS = ("报价", "合同", "公众号", "小红书", "视频", "社保", "远程", "杭州", "成都", "工具")
FORUM_LINES = (
    "第一次接品牌短片，报价按天算还是按成片算？", "合同里一定要写清楚修改次数，超出的部分另算。",
    "公众号从零做到一万粉，我只做对了三件事。", "个体户和一人公司，开票和报税有什么区别？",
    "在杭州找共享办公空间，预算每月一千五。", "每周留出一天不接需求，专门学习新技能。",
    "接單平台抽成太高，老客戶轉介紹更靠譜。", "遠端協作的工具推薦：行事曆、看板和共享文件。",
)  # fmt: skip


def seed_forum(rng: random.Random, reader_id: int) -> dict[str, Any]:
    """A forum for the thread list: ``FORUM_THREADS`` threads in four categories by members of
    the directory, with replies (their posts, counters and last posters as the app keeps them),
    tags, two threads pinned on the front page, and the reader's state on a third of them.
    Rows go in with SQLAlchemy Core, as ``bench/forum_data.py`` does for its larger forum."""
    from datetime import UTC, timedelta

    import sqlalchemy as sa

    from server.extensions import db
    from server.forum.models import (
        ForumCategory,
        ForumPost,
        ForumThread,
        ForumThreadState,
        ForumThreadTag,
    )
    from server.members.models import Member

    member_ids = list(db.session.execute(sa.select(Member.id).order_by(Member.id)).scalars())
    category_ids = list(
        db.session.execute(
            sa.insert(ForumCategory).returning(ForumCategory.id),
            [{"name": name, "position": i} for i, name in enumerate(FORUM_CATEGORIES)],
        ).scalars()
    )
    now = datetime.now(UTC).replace(microsecond=0)
    threads: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for thread_id in range(1, FORUM_THREADS + 1):
        created = now - timedelta(days=60) + timedelta(minutes=80 * thread_id)
        author = rng.choice(member_ids)
        writers = [author] + [rng.choice(member_ids) for _ in range(rng.choice((0, 1, 2, 4, 9)))]
        for number, writer in enumerate(writers, start=1):
            body = "".join(rng.sample(FORUM_LINES, 2))
            posts.append({
                "thread_id": thread_id, "number": number, "author_id": writer, "body": body,
                "html": f"<p>{body}</p>\n", "version": 1, "reaction_count": 0,
                "created_at": created + timedelta(minutes=7 * (number - 1)),
            })  # fmt: skip
        chosen = rng.sample(FORUM_TAGS, rng.randint(0, 3))
        tags += [{"thread_id": thread_id, "tag": tag} for tag in chosen]
        threads.append({
            "id": thread_id, "category_id": rng.choice(category_ids), "author_id": author,
            "title": rng.choice(FORUM_LINES)[:-1] + f"（{thread_id}）", "tags": chosen,
            "excerpt": posts[-len(writers)]["body"], "created_at": created,
            "reply_count": len(writers) - 1, "reaction_count": 0,
            "view_count": rng.randint(len(writers), 40 * len(writers)),
            "score": len(writers) - 1, "highest_number": len(writers),
            "bumped_at": posts[-1]["created_at"], "last_poster_id": writers[-1],
            "pinned": thread_id % 400 == 7, "pinned_globally": thread_id % 400 == 7,
            "locked": False, "hidden": False,
        })  # fmt: skip
    db.session.execute(sa.insert(ForumThread), threads)
    db.session.execute(sa.insert(ForumThreadTag), tags)
    db.session.execute(sa.insert(ForumPost), posts)
    read = rng.sample(range(1, FORUM_THREADS + 1), FORUM_THREADS // 3)
    db.session.execute(
        sa.insert(ForumThreadState),
        [
            {
                "member_id": reader_id,
                "thread_id": t,
                "last_read_number": 1,
                "level": rng.choice(("normal", "watching")),
                "level_chosen": False,
            }
            for t in read
        ],  # fmt: skip
    )
    if db.engine.dialect.name == "postgresql":  # ids given: move the sequence past them
        db.session.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('forum_threads', 'id'), :n)"),
            {"n": FORUM_THREADS},
        )
    db.session.commit()
    return {"threads": FORUM_THREADS, "posts": len(posts)}


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(kind: str, tmp: Path) -> Iterator[str]:
    """Yield the DATABASE_URL of an empty database; a PostgreSQL schema is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    import psycopg

    schema = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    try:
        yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        print(f"  dropped schema {schema}")


def server_env(database_url: str) -> dict[str, str]:
    """The environment of every server process: the same for the app and the ceiling."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env.update(
        {
            "JIAYUAN_ENV": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_ACCESS_TOKEN_EXPIRES": str(ACCESS_TOKEN_TTL),
            "LOG_LEVEL": "WARNING",
            "JOBS_BACKEND": "memory",
            "JOBS_IN_PROCESS": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def migrate(env: dict[str, str]) -> None:
    """Run the real migrations through the Flask CLI, which honours DATABASE_URL."""
    cmd = [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"]
    done = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"migration failed:\n{done.stdout}\n{done.stderr}")


def seed(env: dict[str, str], members: int) -> dict[str, Any]:
    """Seed in a child process with a cheap argon2 cost; returns its JSON report."""
    seed_env = dict(env)
    seed_env.update({"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024"})
    seed_env["ARGON2_PARALLELISM"] = "1"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--seed-into", "--members", str(members)]
    done = subprocess.run(
        cmd, cwd=ROOT, env=seed_env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gunicorn_command(app_spec: str, port: int) -> list[str]:
    """One command line for every target: only the WSGI app differs."""
    return [
        str(BIN / "gunicorn"),
        "--bind", f"{HOST}:{port}",
        "--workers", str(WORKERS),
        "--worker-class", "sync",
        "--timeout", "60",
        "--graceful-timeout", "5",
        "--log-level", "warning",
        "--chdir", str(ROOT),
        app_spec,
    ]  # fmt: skip


class Server:
    """A gunicorn master and its workers, stopped for sure when the ``with`` block ends."""

    def __init__(self, app_spec: str, env: dict[str, str], log_path: Path) -> None:
        self.app_spec = app_spec
        self.env = env
        self.log_path = log_path
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Server:
        self.port = free_port()
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                gunicorn_command(self.app_spec, self.port),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so that nothing outlives us
            )
        finally:
            log.close()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app_spec} exited early:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as resp:
                    if resp.status == 200 and len(self.worker_pids()) == WORKERS:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.app_spec} did not answer /healthz:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return "(no log)"

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc (no external tools)."""
        if self.proc is None:
            return []
        master = self.proc.pid
        pids: set[int] = set()
        try:
            for task in os.listdir(f"/proc/{master}/task"):
                with open(f"/proc/{master}/task/{task}/children") as fh:
                    pids.update(int(p) for p in fh.read().split())
        except OSError:
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        stat = fh.read()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    pids.add(int(entry))
        return sorted(pids)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of master and workers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        # Anything left in the group we created (a stray worker) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (from /proc/<pid>/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def machine_ticks() -> tuple[int, int, int]:
    """(total, idle + iowait, steal) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:9]]
    return sum(values), values[3] + values[4], values[7]


class RssSampler:
    """Samples VmRSS of the workers every ``interval`` seconds while a load runs."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_worker_kib = 0
        self.peak_total_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        values = [rss_kib(pid) for pid in self.pids()]
        if values:
            self.peak_worker_kib = max(self.peak_worker_kib, max(values))
            self.peak_total_kib = max(self.peak_total_kib, sum(values))

    def _run(self) -> None:
        self._sample()
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


# --------------------------------------------------------------------------------------------
# Load: wrk
# --------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    bytes_per_response: float
    socket_errors: int
    non_2xx: int
    raw: str = field(repr=False)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_SIZE = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, p50 and p99 (from ``--latency``), sizes and errors from wrk's text output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    percentiles = {
        int(p): float(v) * _UNITS_MS[u]
        for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    total = re.search(r"^\s+(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB) read", output, re.M)
    if not (rps and total and 50 in percentiles and 99 in percentiles):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = int(total.group(1))
    read_bytes = float(total.group(2)) * _SIZE[total.group(3)]
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        requests=requests,
        bytes_per_response=read_bytes / requests if requests else 0.0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        raw=output,
    )


def run_wrk(url: str, token: str, *, connections: int, duration: int, threads: int) -> WrkResult:
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
        "--timeout", "10s", "-H", f"Authorization: Bearer {token}", url,
    ]  # fmt: skip
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 60, check=False
    )  # the timeout kills wrk if it ever hangs
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


def get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


# --------------------------------------------------------------------------------------------
# One database
# --------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    server: Server
    path: str
    ceiling: str | None = None  # the ceiling target this one is compared with

    @property
    def url(self) -> str:
        return self.server.base + self.path


@dataclass
class Sample:
    result: WrkResult
    worker_rss_peak_kib: int
    workers_rss_total_kib: int
    cpu_ms_per_request: float  # the workers' user + system time per answered request
    steal_percent: float  # CPU time the hypervisor gave to someone else, machine-wide


@dataclass
class Row:
    database: str
    target: str
    path: str
    ceiling: str | None
    requests_per_s: float  # the median round
    requests_per_s_min: float
    requests_per_s_max: float
    p50_ms: float  # of the median round
    p99_ms: float
    ratio_to_ceiling: float | None
    cpu_ms_per_request: float  # median over the rounds
    cpu_ratio_to_ceiling: float | None  # the ceiling's CPU per request / this target's
    steal_percent_max: float
    worker_rss_peak_mb: float  # the largest worker, over all rounds
    workers_rss_total_mb: float  # both workers together, at their peak
    bytes_per_response: float
    requests: int  # over all rounds
    errors: int  # socket errors and non-2xx answers, over all rounds
    rounds: int


def measure_once(target: Target, token: str, args: argparse.Namespace) -> Sample:
    pids = target.server.worker_pids()
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    ticks_before = machine_ticks()
    with RssSampler(target.server.worker_pids) as rss:
        result = run_wrk(
            target.url,
            token,
            connections=args.connections,
            duration=args.duration,
            threads=args.threads,
        )
    cpu_used = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    ticks = [after - before for after, before in zip(machine_ticks(), ticks_before, strict=True)]
    steal = ticks[2] / ticks[0] * 100 if ticks[0] else 0.0
    cpu_ms = cpu_used * 1000 / result.requests if result.requests else 0.0
    errors = result.socket_errors + result.non_2xx
    print(
        f"    {target.name:<24} {result.requests_per_s:7.1f} req/s  p50 {result.p50_ms:6.1f} ms"
        f"  p99 {result.p99_ms:6.1f} ms  CPU {cpu_ms:5.2f} ms/req  "
        f"RSS {rss.peak_worker_kib / 1024:5.1f} MB  steal {steal:4.1f} %"
        + (f"  ERRORS {errors}" if errors else "")
    )
    return Sample(result, rss.peak_worker_kib, rss.peak_total_kib, cpu_ms, steal)


def summarise(database: str, target: Target, samples: list[Sample]) -> Row:
    """The median round by req/s stands for the target; the spread is kept beside it."""
    ordered = sorted(samples, key=lambda s: s.result.requests_per_s)
    median = ordered[len(ordered) // 2]
    return Row(
        database=database,
        target=target.name,
        path=target.path,
        ceiling=target.ceiling,
        requests_per_s=median.result.requests_per_s,
        requests_per_s_min=ordered[0].result.requests_per_s,
        requests_per_s_max=ordered[-1].result.requests_per_s,
        p50_ms=median.result.p50_ms,
        p99_ms=median.result.p99_ms,
        ratio_to_ceiling=None,
        cpu_ms_per_request=round(
            sorted(s.cpu_ms_per_request for s in samples)[len(samples) // 2], 3
        ),
        cpu_ratio_to_ceiling=None,
        steal_percent_max=round(max(s.steal_percent for s in samples), 1),
        worker_rss_peak_mb=round(max(s.worker_rss_peak_kib for s in samples) / 1024, 1),
        workers_rss_total_mb=round(max(s.workers_rss_total_kib for s in samples) / 1024, 1),
        bytes_per_response=round(median.result.bytes_per_response),
        requests=sum(s.result.requests for s in samples),
        errors=sum(s.result.socket_errors + s.result.non_2xx for s in samples),
        rounds=len(samples),
    )


def walk_to_deep_page(base: str, token: str, members: int) -> tuple[str, list[int], list[int]]:
    """Follow ``next_cursor`` ~95 % of the way down; returns (cursor, page-1 ids, deep ids)."""
    target_page = max(2, members // PAGE - 5)
    url = f"{base}/api/v1/members?limit={PAGE}"
    page = get_json(url, token)
    first_ids = [m["id"] for m in page["items"]]
    cursor = ""
    for _ in range(target_page - 1):
        cursor = page["next_cursor"]
        if not cursor:
            raise RuntimeError("the directory ended before the deep page")
        page = get_json(f"{url}&cursor={urllib.parse.quote(cursor)}", token)
    deep_ids = [m["id"] for m in page["items"]]
    if len(deep_ids) != PAGE:
        raise RuntimeError(f"the deep page has {len(deep_ids)} items, not {PAGE}")
    return cursor, first_ids, deep_ids


def bench_database(kind: str, args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    """Build, seed and serve one database; measure every target in interleaved rounds.

    The app and the ceiling are served side by side (an idle gunicorn costs no CPU) and each
    round measures every target once, so that a slow minute of a shared machine hits all
    targets alike instead of whichever happened to run then.
    """
    info: dict[str, Any] = {"database": kind}
    print(f"\n== {kind} ==")
    with (
        tempfile.TemporaryDirectory(prefix="jiayuan-bench-") as tmp_name,
        fresh_database(kind, Path(tmp_name)) as url,
    ):
        tmp = Path(tmp_name)
        env = server_env(url)
        started = time.perf_counter()
        migrate(env)
        print(f"  migrated in {time.perf_counter() - started:.1f} s")
        seeded = seed(env, args.members)
        token = seeded.pop("access_token")
        info["seed"] = seeded
        print(
            f"  seeded {seeded['members']} members, {seeded['threads']} forum threads and "
            f"{seeded['posts']} posts in {seeded['seconds']} s"
        )

        with (
            Server("wsgi:app", env, tmp / "app.log") as app,
            Server("bench.ceiling_app:app", env, tmp / "ceiling.log") as ceiling,
        ):
            me = get_json(f"{app.base}/api/v1/me", token)
            if me["username"] != seeded["username"]:
                raise RuntimeError(f"/me answered {me!r}")
            deep_cursor, first_ids, deep_ids = walk_to_deep_page(app.base, token, seeded["members"])
            ceiling_deep = f"/members?cursor={deep_ids[0] + 1}"
            same = [m["id"] for m in get_json(ceiling.base + "/members", token)["items"]]
            same_deep = [m["id"] for m in get_json(ceiling.base + ceiling_deep, token)["items"]]
            if same != first_ids or same_deep != deep_ids:
                raise RuntimeError("the ceiling does not serve the same rows as the app")
            threads = f"/api/v1/forum/threads?limit={PAGE}"
            thread_ids = [t["id"] for t in get_json(app.base + threads, token)["items"]]
            same_threads = [
                t["id"] for t in get_json(ceiling.base + "/forum/threads", token)["items"]
            ]
            if len(thread_ids) != PAGE or same_threads != thread_ids:
                raise RuntimeError(f"threads: app {thread_ids}, ceiling {same_threads}")
            info["page_1_first_id"], info["deep_page_first_id"] = first_ids[0], deep_ids[0]
            print(
                f"  app on :{app.port}, ceiling on :{ceiling.port}; both serve the same rows: "
                f"page 1 from id {first_ids[0]}, the deep page from id {deep_ids[0]}"
            )
            page_1 = f"/api/v1/members?limit={PAGE}"
            deep_path = f"{page_1}&cursor={urllib.parse.quote(deep_cursor)}"
            targets = [
                Target("app GET /me", app, "/api/v1/me", "ceiling page 1"),
                Target("app members page 1", app, page_1, "ceiling page 1"),
                Target("app members deep page", app, deep_path, "ceiling deep page"),
                Target("ceiling page 1", ceiling, "/members"),
                Target("ceiling deep page", ceiling, ceiling_deep),
                Target("app forum threads page 1", app, threads, "ceiling threads page 1"),
                Target("ceiling threads page 1", ceiling, "/forum/threads"),
            ]
            for target in targets:
                run_wrk(
                    target.url,
                    token,
                    connections=args.connections,
                    duration=args.warmup,
                    threads=args.threads,
                )
            samples: dict[str, list[Sample]] = {t.name: [] for t in targets}
            for round_no in range(1, args.rounds + 1):
                print(f"  round {round_no}/{args.rounds}")
                for target in targets:
                    time.sleep(1)  # let the requests queued by the previous run drain
                    samples[target.name].append(measure_once(target, token, args))

    rows = [summarise(kind, t, samples[t.name]) for t in targets]
    by_name = {r.target: r for r in rows}
    for row in rows:
        if row.ceiling:
            ceiling = by_name[row.ceiling]
            row.ratio_to_ceiling = round(row.requests_per_s / ceiling.requests_per_s, 3)
            if row.cpu_ms_per_request:
                cpu_ratio = ceiling.cpu_ms_per_request / row.cpu_ms_per_request
                row.cpu_ratio_to_ceiling = round(cpu_ratio, 3)
    return rows, info


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def code_state() -> str:
    """The commit measured, and whether the served code differs from it."""

    def git(*argv: str) -> str:
        done = subprocess.run(
            ["git", *argv], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--", "server", "migrations", "wsgi.py", "pyproject.toml")
    return commit + (" + uncommitted changes to the app" if dirty else "")


def machine_info(kinds: list[str]) -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        kib = int(fh.readline().split()[1])
        mem = f"{kib / 1024**2:.1f} GiB"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    info = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "code": code_state(),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": "not used",
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0].split(" Copyright")[0],
    }
    for package in ("gunicorn", "flask", "sqlalchemy", "flask-smorest", "marshmallow", "psycopg"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            info[package] = metadata.version(package)
    if "postgres" in kinds:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = str(row[0]) if row else "unknown"
    return info


def format_table(rows: list[Row]) -> str:
    """A Markdown table: the median round of each target, with the spread of req/s."""
    header = (
        "| database | target | req/s | req/s min–max | p50 ms | p99 ms | vs ceiling "
        "| CPU ms/req | CPU vs ceiling | worker RSS MB | bytes/resp | errors |"
    )
    lines = [header, _rule(header)]

    def pct(value: float | None) -> str:
        return f"{value * 100:.0f} %" if value is not None else "—"

    for r in rows:
        lines.append(
            f"| {r.database} | {r.target} | {r.requests_per_s:,.0f} "
            f"| {r.requests_per_s_min:,.0f}–{r.requests_per_s_max:,.0f} "
            f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {pct(r.ratio_to_ceiling)} "
            f"| {r.cpu_ms_per_request:.2f} | {pct(r.cpu_ratio_to_ceiling)} "
            f"| {r.worker_rss_peak_mb:.0f} | {r.bytes_per_response:,.0f} | {r.errors} |"
        )
    return "\n".join(lines)


def _rule(header: str) -> str:
    cells = header.strip("|").split("|")
    return "|" + "|".join("---" if i < 2 else "---:" for i in range(len(cells))) + "|"


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def _raise_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)  # unwinds the ``with`` blocks: servers stopped, schema dropped


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load per target first")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; the median round is reported"
    )
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    parser.add_argument("--seed-into", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.members < 10 * PAGE:
        parser.error(f"--members must be at least {10 * PAGE}")
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seed_into:
        print(json.dumps(seed_database(args.members)))
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    machine = machine_info(kinds)
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    print(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, "
        f"{args.rounds} interleaved rounds after {args.warmup} s warm-up per target; "
        f"gunicorn -w {WORKERS} sync; {args.members} members"
    )
    rows: list[Row] = []
    databases: list[dict[str, Any]] = []
    for kind in kinds:
        kind_rows, info = bench_database(kind, args)
        rows += kind_rows
        databases.append(info)

    if code_state() != machine["code"]:
        machine["code"] += f", then {code_state()} by the end of the run"
        print(f"WARNING: the app's code changed during the run ({machine['code']})")
    print()
    print(format_table(rows))
    out = args.json or RESULTS_DIR / f"api_bench-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    names = ("duration", "connections", "threads", "warmup", "rounds")
    settings = {k: getattr(args, k) for k in names}
    out.write_text(
        json.dumps(
            {
                "machine": machine,
                "settings": {**settings, "members": args.members, "workers": WORKERS},
                "databases": databases,
                "rows": [asdict(r) for r in rows],
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    print(f"\nresults written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if any(r.errors for r in rows):
        print("WARNING: some requests failed; see the errors column", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
