"""The forum tests' conveniences on top of the one HTTP helper (``tests/caller.py``): each call
asserts its status and returns the body."""

from __future__ import annotations

from typing import Any

from tests.caller import Caller

BODY = "这是一条足够长的测试内容。"


class Forum(Caller):
    """A ``Caller`` under ``/api/v1/forum`` that also makes categories, threads and replies."""

    def __init__(self, client: Any, auth_headers: Any) -> None:
        super().__init__(client, auth_headers, "/api/v1/forum")

    def category(self, organiser: Any, name: str = "接单与定价", **extra: Any) -> dict[str, Any]:
        return self.call(organiser, "POST", "/categories", 201, json={"name": name, **extra})

    def thread(
        self,
        author: Any,
        category_id: int,
        title: str = "第一次接单怎么报价",
        body: str = BODY,
        **extra: Any,
    ) -> dict[str, Any]:
        return self.call(
            author,
            "POST",
            "/threads",
            201,
            json={"category_id": category_id, "title": title, "body": body, **extra},
        )

    def reply(self, author: Any, thread_id: int, body: str = BODY, **extra: Any) -> dict[str, Any]:
        return self.call(
            author, "POST", f"/threads/{thread_id}/posts", 201, json={"body": body, **extra}
        )

    def inbox(self, member: Any) -> list[dict[str, Any]]:
        """``member``'s notifications, newest first (their first page)."""
        return self.at("").call(member, "GET", "/api/v1/notifications", 200)["items"]

    def posts(self, member: Any, thread_id: int, **query: Any) -> list[dict[str, Any]]:
        return self.call(member, "GET", f"/threads/{thread_id}/posts", 200, query_string=query)[
            "items"
        ]


def new_thread(forum: Forum, make_member: Any, author: Any = None) -> tuple[Any, dict[str, Any]]:
    """A category (made by an organiser) with one thread by ``author`` (the organiser when
    None): (author, thread)."""
    organiser = make_member(role="organiser")
    category = forum.category(organiser)
    author = author or organiser
    return author, forum.thread(author, category["id"])


def seed_threads(
    app: Any, author: Any, category_id: int, count: int, *, replies: int = 0, repliers: Any = ()
) -> list[int]:
    """Threads written through the service (no HTTP, no rate limit), each with ``replies``."""
    from server.extensions import db
    from server.forum import posts, threads
    from server.members.models import Member

    ids = []
    with app.app_context():
        writer = db.session.get(Member, author.id)
        others = [db.session.get(Member, r.id) for r in repliers] or [writer]
        for i in range(count):
            detail = threads.create_thread(
                writer,
                {
                    "category_id": category_id,
                    "title": f"测试主题 {i}",
                    "body": BODY,
                    "tags": ["测试"],
                },
            )
            for j in range(replies):
                posts.create_post(others[j % len(others)], detail.thread.id, {"body": BODY})
            ids.append(detail.thread.id)
    return ids
