"""Generate a big forum: 100,000 threads and 1,000,000 posts by default, in Chinese.

Run against an empty, migrated database (``DATABASE_URL`` in the environment)::

    DATABASE_URL=… .venv/bin/python bench/forum_data.py [--threads 100000] [--posts 1000000]

``bench/forum_bench.py`` calls it in a child process; alone it is a way to get a large local
forum for trying the API by hand. It prints one JSON line at the end: the bench member's
access token, sample ids and the cursors of deep pages.

What it makes, reproducibly (``--seed``):

- 2,000 members (``tests/factories.insert_members``), one of them signed in;
- 4 top-level categories with 2 subcategories each;
- threads spread over two years, replies per thread heavy-tailed (Pareto: most threads have
  a few replies, some hundreds) plus one thread of 5,000 posts; the post count is exact; post
  ids (and search document ids) grow with the time a post was written, as in a live forum;
- bodies of 2–5 sentences from a corpus about freelance work and new media, 15 % of them in
  Traditional characters (OpenCC ``s2twp``); a rare phrase (碳中和咨询) in 50 posts;
- 100,000 👍 reactions, and the bench member's reading state on 5,000 threads;
- the search index, built exactly as ``server.common.search.index_document`` would (folded
  content, jieba search-mode tokens, the title's length, the recency of the post's time), but
  per sentence and in bulk: a body is sentences joined at punctuation, where jieba's cut never
  spans, so the tokens are the same.

Rows go in with SQLAlchemy Core in batches of 10,000; counters on threads are computed here,
as ``service.refresh_thread`` would. Then ``ANALYZE``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH = 10_000

SENTENCES = [
    "第一次接品牌短片，报价按天算还是按成片算？",
    "我一般把项目拆成前期、拍摄、后期三段报价。",
    "合同里一定要写清楚修改次数，超出的部分另算。",
    "版权使用范围决定价格，投放渠道不同差别很大。",
    "甲方拖欠尾款怎么办，有没有人走过仲裁？",
    "预付款比例建议不低于百分之三十。",
    "公众号从零做到一万粉，我只做对了三件事。",
    "固定更新频率比追热点更重要。",
    "小红书的封面图决定了一半的点击率。",
    "视频号的推荐机制和抖音很不一样。",
    "做播客最难的是坚持每周更新。",
    "私域运营的核心是信任，不是群发广告。",
    "自由职业第三年，收入终于稳定下来了。",
    "社保和公积金自己交，记得按时缴费。",
    "个体户和一人公司，开票和报税有什么区别？",
    "远程协作的工具推荐：日历、看板和共享文档。",
    "在杭州找共享办公空间，预算每月一千五。",
    "成都的生活成本低，适合刚起步的自由职业者。",
    "搬到大理半年，工作效率反而提高了。",
    "每周留出一天不接需求，专门学习新技能。",
    "接单平台抽成太高，老客户转介绍更靠谱。",
    "作品集要按行业分类，方便客户快速判断。",
    "报价时先问预算，再给两到三个方案。",
    "网络安全也要重视，密码不要在各个平台重复使用。",
    "软件订阅费用一年下来也是不小的开支。",
    "插画约稿的定金一般是总价的一半。",
    "翻译按字数计费，加急要另外收费。",
    "摄影跟拍的交付周期要提前和客户说清楚。",
    "独立开发者的收入来源可以多元一些。",
    "线下聚会认识了很多同行，收获很大。",
    "谢谢分享，很有启发！",
    "同意楼上的看法，我也踩过同样的坑。",
    "请问有没有推荐的记账软件？",
    "这个经验太实用了，已收藏。",
]
TITLES = [
    "第一次接单怎么报价才不亏",
    "自由职业者的社保怎么交",
    "公众号运营一年的复盘",
    "甲方拖欠尾款怎么办",
    "推荐几个远程协作工具",
    "在成都做自由职业是什么体验",
    "作品集应该怎么整理",
    "个体户还是一人公司",
    "小红书起号经验分享",
    "视频号和抖音该选哪个",
    "插画约稿的定价参考",
    "独立开发者如何找到第一批用户",
]
CATEGORIES = {
    "接单与定价": ["报价", "合同与收款"],
    "新媒体运营": ["公众号", "短视频"],
    "城市生活": ["杭州", "成都"],
    "工具与效率": ["软件", "记账"],
}
TAGS = ["报价", "合同", "公众号", "小红书", "视频", "社保", "远程", "杭州", "成都", "工具"]
RARE = "碳中和咨询"


class Sentence:
    """One sentence in both scripts, with its folded text and index tokens computed once."""

    def __init__(self, text: str, to_traditional: Any) -> None:
        from server.common.search import fold, index_tokens

        self.text = {False: text, True: to_traditional(text)}
        self.folded = {k: fold(v) for k, v in self.text.items()}
        self.tokens = {k: index_tokens(v) for k, v in self.text.items()}


def _counts(rng: random.Random, threads: int, posts: int, long_thread: int) -> list[int]:
    """Posts per thread (first post included): exact total, heavy-tailed, one long thread."""
    counts = [1] * threads
    counts[0] = long_thread
    replies = posts - threads - (long_thread - 1)
    if replies < 0:
        raise SystemExit("--posts must be at least --threads + the long thread")
    weights = [rng.paretovariate(1.6) for _ in range(threads - 1)]
    total = sum(weights)
    given = 0
    for i, w in enumerate(weights, start=1):
        n = int(replies * w / total)
        counts[i] += n
        given += n
    for i in rng.sample(range(1, threads), replies - given):
        counts[i] += 1
    return counts


def generate(threads: int, posts: int, seed: int, long_thread: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import opencc
    import sqlalchemy as sa

    from server import create_app
    from server.auth.service import sign_in
    from server.common import search
    from server.common.pagination import _encode
    from server.common.search import SearchDocument
    from server.extensions import db
    from server.forum.models import (
        ForumCategory,
        ForumPost,
        ForumReaction,
        ForumThread,
        ForumThreadState,
        ForumThreadTag,
    )
    from server.members.models import Member
    from tests.factories import insert_members

    # a bulk load, like a migration: building the GIN index over a million documents takes
    # longer than the statement timeout the application sets on its connections
    os.environ["DATABASE_STATEMENT_TIMEOUT_MS"] = "0"
    started = time.perf_counter()
    rng = random.Random(seed)
    s2t = opencc.OpenCC("s2twp").convert
    sentences = [Sentence(s, s2t) for s in SENTENCES]
    rare = Sentence(f"有人做过{RARE}项目吗？", s2t)
    titles = [Sentence(t, s2t) for t in TITLES]
    app = create_app()
    with app.app_context():
        dialect = db.engine.dialect.name
        member_ids = insert_members(2000, prefix="forumbench")
        db.session.commit()
        category_ids: list[int] = []
        for position, (name, children) in enumerate(CATEGORIES.items()):
            parent = ForumCategory(name=name, position=position)
            db.session.add(parent)
            db.session.flush()
            for child_position, child in enumerate(children):
                leaf = ForumCategory(name=child, parent_id=parent.id, position=child_position)
                db.session.add(leaf)
                db.session.flush()
                category_ids.append(leaf.id)
        db.session.commit()
        if dialect == "postgresql":  # build the GIN index once, after the load
            db.session.execute(sa.text("DROP INDEX ix_search_documents_tsv"))
            db.session.commit()

        counts = _counts(rng, threads, posts, long_thread)
        rare_posts = set(rng.sample(range(posts), 50))
        now = datetime.now(UTC).replace(microsecond=0)
        start = now - timedelta(days=730)
        span = (now - start).total_seconds()
        # Threads first, with each post's time, writer and sentences; then the posts in the
        # order they were written, so that post (and search document) ids grow with time as
        # they do in a live forum: the newest ids are the newest posts.
        plan: list[tuple[float, int, int, int, tuple[int, ...], bool]] = []
        thread_titles: dict[int, tuple[Sentence, bool]] = {}
        thread_rows: list[dict[str, Any]] = []
        tag_rows: list[dict[str, Any]] = []

        def body_of(chosen: tuple[int, ...], trad: bool) -> str:
            return "".join(every[i].text[trad] for i in chosen)

        every = [*sentences, rare]
        for t in range(threads):
            thread_id = t + 1
            created = span * t / threads  # seconds after start
            n = counts[t]
            author = rng.choice(member_ids)
            traditional = rng.random() < 0.15
            title = rng.choice(titles)
            thread_titles[thread_id] = (title, traditional)
            gap = min((span - created) / max(n, 1), 86400.0)
            writer, excerpt = author, ""
            for number in range(1, n + 1):
                writer = author if number == 1 else rng.choice(member_ids)
                trad = traditional if number == 1 else rng.random() < 0.15
                chosen = tuple(rng.sample(range(len(sentences)), rng.randint(2, 5)))
                if len(plan) in rare_posts:
                    chosen += (len(sentences),)
                plan.append((created + gap * (number - 1), thread_id, number, writer, chosen, trad))
                if number == 1:
                    excerpt = body_of(chosen, trad)[:200]
            tags = rng.sample(TAGS, rng.randint(0, 3))
            thread_rows.append({
                "id": thread_id, "category_id": rng.choice(category_ids), "author_id": author,
                "title": title.text[traditional] + f"（{thread_id}）", "tags": tags,
                "excerpt": excerpt, "created_at": start + timedelta(seconds=created),
                "reply_count": n - 1, "reaction_count": 0, "view_count": rng.randint(n, 20 * n),
                "score": n - 1, "highest_number": n,
                "bumped_at": start + timedelta(seconds=created + gap * (n - 1)),
                "last_poster_id": writer, "pinned": thread_id % 20_000 == 7,
                "pinned_globally": thread_id % 20_000 == 7,
                "locked": False, "hidden": False,
            })  # fmt: skip
            tag_rows += [{"thread_id": thread_id, "tag": tag} for tag in tags]
        for model, rows in ((ForumThread, thread_rows), (ForumThreadTag, tag_rows)):
            for i in range(0, len(rows), BATCH):
                db.session.execute(sa.insert(model), rows[i : i + BATCH])
        db.session.commit()
        print(f"  {threads} threads planned  {time.perf_counter() - started:6.1f} s",
              file=sys.stderr)  # fmt: skip

        # the columns of issue #15's ranking, when the code measured has them (a "before" run
        # of the same data on older code has not)
        ranked = "recency" in SearchDocument.__table__.c
        plan.sort()  # by time (then thread and number): ids in the order posts were written
        post_rows: list[dict[str, Any]] = []
        doc_rows: list[dict[str, Any]] = []
        liked: list[tuple[int, int, int]] = []  # (post id, thread index, author)
        for post_id, (offset, thread_id, number, writer, chosen, trad) in enumerate(plan, 1):
            posted = start + timedelta(seconds=offset)
            body = body_of(chosen, trad)
            folded = "".join(every[i].folded[trad] for i in chosen)
            tokens = [tok for i in chosen for tok in every[i].tokens[trad]]
            title_chars = 0
            if number == 1:
                title, traditional = thread_titles[thread_id]
                folded_title = f"{title.folded[traditional]}（{thread_id}）"
                title_chars = len(folded_title)
                folded = " ".join(f"{folded_title}\n{folded}".split())
                tokens = title.tokens[traditional] + [str(thread_id)] + tokens
            post_rows.append({
                "id": post_id, "thread_id": thread_id, "number": number,
                "author_id": writer, "body": body, "html": f"<p>{body}</p>\n",
                "version": 1, "reaction_count": 0, "created_at": posted,
            })  # fmt: skip
            doc_rows.append({
                "kind": "forum_post", "ref_id": post_id, "content": folded,
                "tokens": " ".join(tokens), "updated_at": posted,
                **({"recency": search.recency(posted), "title_chars": title_chars}
                   if ranked else {}),
            })  # fmt: skip
            if rng.random() < 0.1:
                liked.append((post_id, thread_id - 1, writer))
            if len(post_rows) >= BATCH or post_id == len(plan):
                db.session.execute(sa.insert(ForumPost), post_rows)
                db.session.execute(sa.insert(SearchDocument), doc_rows)
                db.session.commit()
                post_rows.clear()
                doc_rows.clear()
                print(f"  {post_id:>8} posts  {time.perf_counter() - started:6.1f} s",
                      file=sys.stderr)  # fmt: skip
        del plan

        # 👍 reactions (a member never on their own post), counters as refresh_thread keeps them
        reactions: list[dict[str, Any]] = []
        per_post: dict[int, int] = {}
        per_thread: dict[int, int] = {}
        for pid, t, writer in liked[:100_000]:
            member = rng.choice(member_ids)
            if member == writer:
                continue
            reactions.append({"post_id": pid, "member_id": member, "reaction": "like",
                              "created_at": now})  # fmt: skip
            per_post[pid] = per_post.get(pid, 0) + 1
            per_thread[t + 1] = per_thread.get(t + 1, 0) + 1
        for i in range(0, len(reactions), BATCH):
            db.session.execute(sa.insert(ForumReaction), reactions[i : i + BATCH])
        posts_table, threads_table = ForumPost.__table__, ForumThread.__table__
        db.session.execute(  # Core tables: executemany with bound values, no ORM bulk rules
            posts_table.update()
            .where(posts_table.c.id == sa.bindparam("pid"))
            .values(reaction_count=sa.bindparam("n")),
            [{"pid": p, "n": n} for p, n in per_post.items()],
        )
        db.session.execute(
            threads_table.update()
            .where(threads_table.c.id == sa.bindparam("tid"))
            .values(
                reaction_count=sa.bindparam("n"),
                score=threads_table.c.score + sa.bindparam("n"),
            ),
            [{"tid": t, "n": n} for t, n in per_thread.items()],
        )
        reader = db.session.get(Member, member_ids[0])
        db.session.execute(
            sa.insert(ForumThreadState),
            [
                {
                    "member_id": reader.id,
                    "thread_id": t,
                    "last_read_number": 1,
                    "level": rng.choice(("normal", "watching")),
                    "level_chosen": False,
                }  # fmt: skip
                for t in rng.sample(range(1, threads + 1), min(5000, threads))
            ],
        )
        db.session.commit()
        if dialect == "postgresql":
            db.session.execute(
                sa.text("CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)")
            )
            for table in ("forum_threads", "forum_posts", "search_documents"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                db.session.execute(
                    sa.text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
                )
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        load_seconds = time.perf_counter() - started

        def cursor_at(
            name: str, order: list[Any], offset: int, where: Any = None
        ) -> tuple[str, int]:
            """The cursor a client holds after ``offset`` rows of a list, and the next row's id."""
            stmt = sa.select(*order).where(ForumThread.deleted_at.is_(None))
            if where is not None:
                stmt = stmt.where(where)
            rows = db.session.execute(
                stmt.order_by(*(c.desc() for c in order)).offset(offset - 1).limit(2)
            ).all()
            return _encode(name, list(rows[0])), rows[1][-1]

        latest = [ForumThread.pinned_globally, ForumThread.bumped_at, ForumThread.id]
        top = [ForumThread.score, ForumThread.id]
        deep = min(int(threads * 0.95), threads - 21)  # a full page must follow
        category = category_ids[0]
        in_category = db.session.execute(
            sa.select(sa.func.count()).where(ForumThread.category_id == category)
        ).scalar_one()
        typical = db.session.execute(
            sa.select(ForumThread.id).where(ForumThread.highest_number.between(20, 40)).limit(1)
        ).scalar_one()
        tokens = sign_in(reader, "forum-bench")
        result = {
            "dialect": dialect,
            "threads": db.session.execute(sa.select(sa.func.count(ForumThread.id))).scalar_one(),
            "posts": db.session.execute(sa.select(sa.func.count(ForumPost.id))).scalar_one(),
            "reactions": len(reactions),
            "load_seconds": round(load_seconds, 1),
            "token": tokens.access_token,
            "member_id": reader.id,
            "long_thread": 1,
            "long_thread_posts": counts[0],
            "typical_thread": typical,
            "category_id": category,
            "category_threads": in_category,
            "deep_offset": deep,
            "latest_deep": cursor_at("forum.threads.latest.p", latest, deep),
            "top_deep": cursor_at("forum.threads.top.f", top, deep),
            # a category page orders by the category's pins (server/forum: migration 0011)
            "category_deep": cursor_at(
                "forum.threads.latest.c",
                [ForumThread.pinned, ForumThread.bumped_at, ForumThread.id],
                min(int(in_category * 0.95), in_category - 21),
                ForumThread.category_id == category,
            ),  # fmt: skip
            "rare_term": RARE,
        }
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--long-thread", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    result = generate(args.threads, args.posts, args.seed, args.long_thread)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
