"""The list rule's contract (``server/common/rows.py``): every compiled serialiser answers what
its marshmallow schema answers for the same data, so the fast path and the documented one
cannot drift apart. Each list is read as the signed-in caller (their language and time zone),
once through the list's plain rows and compiled serialiser, once through ORM objects and
marshmallow, over data with every case a client meets: erased members, missing avatars, null
last posters, muted and bookmarked threads, pending requests, deleted last messages."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa

from server.common import rows
from server.common.fields import LocalDateTime
from tests.caller import Caller
from tests.conftest import PASSWORD
from tests.rows import compared_schemas, same_as_marshmallow, signed_in

BODY = "这是一条足够长的测试内容。"


@pytest.fixture
def world(app, client, make_member, auth_headers) -> dict[str, Any]:
    """Members, a forum, alliances, conversations and an inbox, one of the authors erased."""
    call = Caller(client, auth_headers).call
    me = make_member(display_name="林晓雨", city="杭州", occupations=["writer", "designer"])
    profile = {"time_zone": "America/New_York", "avatar_url": "https://example.com/a.png"}
    call(me, "PATCH", "/api/v1/me", 200, json=profile)
    other = make_member(display_name="陳小明", city="臺北")
    leaving = make_member(display_name="将注销的人")
    organiser = make_member(role="organiser", display_name="组织者")
    forum = "/api/v1/forum"
    category = call(organiser, "POST", f"{forum}/categories", 201, json={"name": "接单"})["id"]

    def thread(author: Any, title: str, **extra: Any) -> int:
        body = {"category_id": category, "title": title, "body": BODY, **extra}
        return int(call(author, "POST", f"{forum}/threads", 201, json=body)["id"])

    mine = thread(me, "我的第一个主题", tags=["报价", "合同"])
    theirs = thread(other, "別人的主題")
    gone = thread(leaving, "将被注销者的主题")
    quiet = thread(organiser, "没有回复的公告")
    call(other, "POST", f"{forum}/threads/{mine}/posts", 201,
         json={"body": f"回复你 @{me.username} 的帖子，写得很好。"})  # fmt: skip
    call(leaving, "POST", f"{forum}/threads/{theirs}/posts", 201, json={"body": BODY})
    call(other, "POST", f"{forum}/threads/{gone}/posts", 201, json={"body": BODY})  # it stays
    call(me, "POST", f"{forum}/threads/{theirs}/read", 200, json={"number": 1})
    call(me, "PUT", f"{forum}/threads/{theirs}/bookmark", 200)
    call(me, "PUT", f"{forum}/threads/{gone}/notification-level", 200, json={"level": "muted"})
    call(organiser, "POST", f"{forum}/threads/{quiet}/moderation", 200,
         json={"action": "pin", "scope": "site"})  # fmt: skip

    alliances = "/api/v1/alliances"
    public = call(organiser, "POST", alliances, 201, json={"name": "自由职业者联盟", "city": "杭州",
                  "tags": ["远程"]})["id"]  # fmt: skip
    private = call(organiser, "POST", alliances, 201,
                   json={"name": "私密小组", "visibility": "private"})["id"]  # fmt: skip
    call(organiser, "POST", alliances, 201, json={"name": "秘密小组", "visibility": "secret"})
    call(me, "POST", f"{alliances}/{public}/join", 200, json={})
    call(me, "POST", f"{alliances}/{private}/join", 200, json={"message": "请让我加入"})

    chat = "/api/v1/chat"
    direct = call(other, "POST", f"{chat}/direct", 200, json={"member_ids": [me.id]})["id"]
    call(other, "POST", f"{chat}/conversations/{direct}/messages", 201,
         json={"body": f"你好 @{me.username}"})  # fmt: skip
    group = call(me, "POST", f"{chat}/direct", 200, json={"member_ids": [other.id, leaving.id]})
    bye = {"body": "再见"}
    call(leaving, "POST", f"{chat}/conversations/{group['id']}/messages", 201, json=bye)
    channel = call(organiser, "POST", f"{chat}/channels", 201,
                   json={"alliance_id": public, "name": "闲聊"})["id"]  # fmt: skip
    call(me, "POST", f"{chat}/conversations/{channel}/join", 200)
    said = call(organiser, "POST", f"{chat}/conversations/{channel}/messages", 201,
                json={"body": "这条会被删除"})  # fmt: skip
    call(organiser, "DELETE", f"{chat}/messages/{said['id']}", 204)

    call(leaving, "DELETE", "/api/v1/me", 204, json={"password": PASSWORD})
    return {"me": me, "threads": [mine, theirs, gone, quiet]}


LANGUAGES = ("zh-Hant", "en")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_directory(app, auth_headers, world, lang):
    from server.extensions import db
    from server.members import service
    from server.members.models import Member
    from server.members.schemas import PublicMemberSchema

    with signed_in(app, auth_headers, world["me"], lang) as me:
        got = same_as_marshmallow(
            PublicMemberSchema,
            service.list_members(me, limit=100, cursor=None),
            lambda items: [db.session.get(Member, m["id"]) for m in items],
        )
    assert len(got) == 3  # the erased member is not listed
    assert any(m["avatar_url"] for m in got) and any(m["city"] is None for m in got)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_forum_thread_list(app, auth_headers, world, lang):
    from sqlalchemy.orm import joinedload

    from server.extensions import db
    from server.forum import threads
    from server.forum.models import ForumThread, ForumThreadState
    from server.forum.schemas import ThreadItemSchema
    from server.members.schemas import MemberCardSchema

    def items_of(me: Any, items: list[dict[str, Any]]) -> list[Any]:
        since, views = threads._new_since(me), []
        for item in items:
            thread = db.session.execute(
                sa.select(ForumThread)
                .options(joinedload(ForumThread.author), joinedload(ForumThread.last_poster))
                .where(ForumThread.id == item["id"])
            ).scalar_one()
            state = db.session.get(ForumThreadState, (me.id, thread.id))
            views.append(
                threads.ThreadItem(
                    thread=thread,
                    last_read_number=state.last_read_number if state else None,
                    level=state.level if state else None,
                    bookmarked_at=state.bookmarked_at if state else None,
                    is_new=state is None and thread.created_at > since,
                )
            )
        return views

    with signed_in(app, auth_headers, world["me"], lang) as me:
        got = same_as_marshmallow(
            ThreadItemSchema,
            threads.list_threads(me, limit=100, cursor=None),
            lambda items: items_of(me, items),
            nested=(MemberCardSchema,),  # the author and the last poster
        )
    assert [t["id"] for t in got][0] == world["threads"][3]  # pinned on the front page first
    deleted = "Deleted member" if lang == "en" else "已註銷用戶"
    assert deleted in {t["author"]["display_name"] for t in got}  # of the erased member's
    assert any(t["bookmarked"] for t in got) and any(t["unread_count"] for t in got)
    assert {t["notification_level"] for t in got} >= {"muted", "watching", None}


@pytest.mark.parametrize("scope", ["discover", "mine"])
def test_the_alliance_list(app, auth_headers, world, scope):
    from server.alliances import service
    from server.alliances.access import AllianceView
    from server.alliances.models import Alliance, AllianceJoinRequest, AllianceMember
    from server.alliances.schemas import AllianceSchema
    from server.extensions import db

    def view(me: Any, alliance_id: int) -> AllianceView:
        role = db.session.scalar(
            sa.select(AllianceMember.role).where(
                AllianceMember.alliance_id == alliance_id, AllianceMember.member_id == me.id
            )
        )
        status = db.session.scalar(
            sa.select(AllianceJoinRequest.status).where(
                AllianceJoinRequest.alliance_id == alliance_id,
                AllianceJoinRequest.member_id == me.id,
            )
        )
        return AllianceView(db.session.get(Alliance, alliance_id), role, status)

    with signed_in(app, auth_headers, world["me"], "zh-Hant") as me:
        got = same_as_marshmallow(
            AllianceSchema,
            service.list_alliances(me, scope=scope, limit=100, cursor=None),
            lambda items: [view(me, a["id"]) for a in items],
        )
    assert len(got) == (2 if scope == "discover" else 1)  # never the secret one
    assert {a["request_status"] for a in got} == (
        {"pending", None} if scope == "discover" else {None}
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_inbox(app, auth_headers, world, lang):
    from sqlalchemy.orm import joinedload

    from server.extensions import db
    from server.notifications import inbox
    from server.notifications.models import Notification
    from server.notifications.schemas import NotificationSchema

    def notifications(items: list[dict[str, Any]]) -> list[Any]:
        ids = [n["id"] for n in items]
        loaded = db.session.execute(
            sa.select(Notification)
            .options(joinedload(Notification.actor))
            .where(Notification.id.in_(ids))
        ).scalars()
        by_id = {n.id: n for n in loaded}
        return [by_id[i] for i in ids]

    with signed_in(app, auth_headers, world["me"], lang) as me:
        got = same_as_marshmallow(
            NotificationSchema, inbox.list_notifications(me, limit=100, cursor=None), notifications
        )
    assert got and all(n["actor"] for n in got)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_conversation_list(app, auth_headers, world, lang):
    from server.chat import conversations
    from server.chat.schemas import ConversationSchema, MessageSchema

    with signed_in(app, auth_headers, world["me"], lang) as me:
        got = same_as_marshmallow(
            ConversationSchema,
            conversations.list_conversations(me),
            lambda _items: conversations.views_for(me.id),  # the same list, as ORM objects
            nested=(MessageSchema,),  # each conversation's last message
        )
    assert len(got) == 3
    last = [c["last_message"] for c in got]
    assert any(m["deleted"] and m["html"] is None for m in last)
    assert any(m["mentions"] for m in last)
    assert any(m["sender"]["display_name"] in ("Deleted member", "已註銷用戶") for m in last)


def test_every_serialiser_is_held_to_its_schema(app):
    """A list's compiled serialiser is compared with marshmallow somewhere under ``tests/``
    (``tests/rows.same_as_marshmallow``): a new list adds its comparison with its tests."""
    missing = {schema.__name__ for schema in rows.SERIALISERS} - compared_schemas()
    assert not missing, f"compare with marshmallow (tests/rows.py): {sorted(missing)}"


# --- the compiler refuses what it cannot fill ---------------------------------------------


def test_a_field_the_compiler_cannot_fill_is_an_error(app):
    class Computed(ma.Schema):
        name = ma.fields.Method("_name")

        def _name(self, obj: Any) -> str:
            return str(obj)

    class Times(ma.Schema):
        at = ma.fields.DateTime()

    class Unknown(ma.Schema):
        card = ma.fields.Nested(Times)

    class Plain(ma.Schema):
        id = ma.fields.String()
        at = LocalDateTime(attribute="created_at")

    row = sa.select(sa.literal(1).label("id")).subquery()
    with app.app_context(), app.test_request_context():
        from server.extensions import db

        result = db.session.execute(sa.select(row.c.id)).all()
        refused = {Computed: "is computed", Times: "LocalDateTime",
                   Unknown: "has no serialiser", Plain: "'created_at'"}  # fmt: skip
        for schema, message in refused.items():
            with pytest.raises(LookupError, match=message):
                rows.RowSerialiser(schema, {}).dump(result)
