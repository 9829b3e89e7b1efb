"""Who hears what, and who sees how far others read: rooms follow membership without a
reconnect, read receipts in small conversations, the channels one could join."""

from __future__ import annotations

from server.extensions import socketio
from tests.chat.helpers import events, open_socket


def test_removed_from_the_alliance_hears_nothing_more_of_its_channels(
    app, chat, auth_headers, world
):
    sock = open_socket(app, auth_headers, world.member)
    try:
        chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{world.channel}/messages", 201,
                  json={"body": "周六外拍"})  # fmt: skip
        assert [m["html"] for m in events(sock, "message")] == ["<p>周六外拍</p>\n"]
        chat.call(
            world.owner,
            "DELETE",
            f"/api/v1/alliances/{world.alliance_id}/members/{world.member.id}",
            204,
        )
        assert events(sock, "conversation_removed") == [{"conversation_id": world.channel}]
        chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{world.channel}/messages", 201,
                  json={"body": "只给成员看"})  # fmt: skip
        assert events(sock, "message") == []  # the open socket left the room too
        # and the REST side: no history, no sending, not in the list
        chat.call(world.member, "GET", f"/api/v1/chat/conversations/{world.channel}/messages", 404)
        chat.call(world.member, "POST", f"/api/v1/chat/conversations/{world.channel}/messages", 404,
                  json={"body": "还在吗"})  # fmt: skip
        assert chat.call(world.member, "GET", "/api/v1/chat/conversations", 200)["items"] == []
        sock.emit("join", {"conversation_id": world.channel}, namespace="/chat")
        chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{world.channel}/messages", 201,
                  json={"body": "第三条"})  # fmt: skip
        assert events(sock, "message") == []
    finally:
        sock.disconnect(namespace="/chat")


def test_private_channels_get_members_from_admins_and_lose_them_at_once(
    app, chat, auth_headers, make_member, world
):
    made = chat.call(
        world.owner,
        "POST",
        "/api/v1/chat/channels",
        201,
        json={"alliance_id": world.alliance_id, "name": "管理组", "private": True},
    )
    private = made["id"]
    outsider = make_member()
    chat.call(world.member, "POST", f"/api/v1/chat/conversations/{private}/join", 404)
    # only the alliance's owner and admins add, and only members of the alliance
    chat.call(world.member, "POST", f"/api/v1/chat/conversations/{private}/members", 404,
              json={"member_ids": [world.member.id]})  # fmt: skip
    bad = chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{private}/members", 422,
                    json={"member_ids": [world.member.id, outsider.id]})  # fmt: skip
    assert bad["code"] == "chat_invalid_members"
    sock = open_socket(app, auth_headers, world.member)
    try:
        chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{private}/members", 204,
                  json={"member_ids": [world.member.id]})  # fmt: skip
        # the event carries the conversation as the member's own GET shows it
        [added] = events(sock, "conversation_added")
        assert added == chat.call(world.member, "GET", f"/api/v1/chat/conversations/{private}", 200)
        assert (added["display_name"], added["member_count"]) == ("管理组", 2)
        sent = chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{private}/messages", 201,
                         json={"body": "下周的安排"})  # fmt: skip
        assert events(sock, "message") == [sent]
        # a plain member cannot take anyone out
        chat.call(
            world.member,
            "DELETE",
            f"/api/v1/chat/conversations/{private}/members/{world.owner.id}",
            403,
        )
        chat.call(
            world.owner,
            "DELETE",
            f"/api/v1/chat/conversations/{private}/members/{world.member.id}",
            204,
        )
        assert events(sock, "conversation_removed") == [{"conversation_id": private}]
        chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{private}/messages", 201,
                  json={"body": "不再给你看"})  # fmt: skip
        assert events(sock, "message") == []
        chat.call(world.member, "GET", f"/api/v1/chat/conversations/{private}/messages", 404)
        gone = f"/api/v1/chat/conversations/{private}/members/{world.member.id}"
        assert chat.call(world.owner, "DELETE", gone, 404)["code"] == "chat_member_not_found"
    finally:
        sock.disconnect(namespace="/chat")
    # leaving it: the admin too reads it no more (private means its members, as in Zulip)
    chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{private}/leave", 204)
    chat.call(world.owner, "GET", f"/api/v1/chat/conversations/{private}/messages", 404)


def test_a_new_direct_conversation_reaches_an_open_socket(app, chat, auth_headers, make_member):
    a, b = make_member(display_name="甲"), make_member(display_name="乙")
    sock = open_socket(app, auth_headers, b)
    try:
        conv = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})
        [added] = events(sock, "conversation_added")
        assert (added["id"], added["display_name"], added["name"]) == (conv["id"], "甲", None)
        assert {m["id"] for m in added["members"]} == {a.id, b.id}
        sent = chat.call(a, "POST", f"/api/v1/chat/conversations/{conv['id']}/messages", 201,
                         json={"body": "在吗？"})  # fmt: skip
        assert events(sock, "message") == [sent]
        # b leaves; a writes again: b's socket is out of the room
        chat.call(b, "POST", f"/api/v1/chat/conversations/{conv['id']}/leave", 204)
        chat.call(a, "POST", f"/api/v1/chat/conversations/{conv['id']}/messages", 201,
                  json={"body": "人呢"})  # fmt: skip
        assert events(sock, "message") == []
        # opening it again brings b back, in the room, with the history
        again = chat.call(b, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [a.id]})
        assert again["id"] == conv["id"]
        [added] = events(sock, "conversation_added")
        assert (added["id"], added["display_name"], added["name"]) == (conv["id"], "甲", None)
        assert {m["id"] for m in added["members"]} == {a.id, b.id}
        history = chat.call(b, "GET", f"/api/v1/chat/conversations/{conv['id']}/messages", 200)
        assert [m["html"] for m in history["messages"]] == ["<p>在吗？</p>\n", "<p>人呢</p>\n"]
        chat.call(a, "POST", f"/api/v1/chat/conversations/{conv['id']}/messages", 201,
                  json={"body": "回来了"})  # fmt: skip
        assert [m["html"] for m in events(sock, "message")] == ["<p>回来了</p>\n"]
    finally:
        sock.disconnect(namespace="/chat")


def test_read_receipts_in_small_conversations(
    app, chat, auth_headers, make_member, count_queries, client
):
    a, b, c = (make_member(display_name=n) for n in ("甲", "乙", "丙"))
    outsider = make_member()
    conv = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id, c.id]})
    cid = conv["id"]
    for m, others in ((b, [a, c]), (c, [a, b])):  # opening it accepts it: reading is shared
        chat.call(m, "POST", "/api/v1/chat/direct", 200,
                  json={"member_ids": [o.id for o in others]})  # fmt: skip
    first = chat.call(a, "POST", f"/api/v1/chat/conversations/{cid}/messages", 201,
                      json={"body": "第一条"})  # fmt: skip
    second = chat.call(a, "POST", f"/api/v1/chat/conversations/{cid}/messages", 201,
                       json={"body": "第二条"})  # fmt: skip
    sock = open_socket(app, auth_headers, a)
    try:
        chat.call(b, "POST", f"/api/v1/chat/conversations/{cid}/read", 200,
                  json={"message_id": first["id"]})  # fmt: skip
        assert events(sock, "read") == [
            {"conversation_id": cid, "member_id": b.id, "last_read_id": first["id"]}
        ]
    finally:
        sock.disconnect(namespace="/chat")
    signed_in = auth_headers(a)  # before counting: the counts are the request's own
    receipts = f"/api/v1/chat/conversations/{cid}/receipts"
    with count_queries() as two:
        got = chat.call(None, "GET", receipts, 200, headers=signed_in)["items"]
    assert [(r["member"]["id"], r["last_read_id"]) for r in got] == [(b.id, first["id"]), (c.id, 0)]
    assert set(got[0]) == {"member", "last_read_id"}
    assert set(got[0]["member"]) == {"id", "username", "display_name", "avatar_url"}
    # the sender has read what they sent
    got = chat.call(b, "GET", f"/api/v1/chat/conversations/{cid}/receipts", 200)["items"]
    assert [(r["member"]["id"], r["last_read_id"]) for r in got] == [
        (a.id, second["id"]),
        (c.id, 0),
    ]
    chat.call(outsider, "GET", f"/api/v1/chat/conversations/{cid}/receipts", 404)
    # the same queries with more members
    six = [make_member() for _ in range(6)]
    many = chat.call(a, "POST", "/api/v1/chat/direct", 200,
                     json={"member_ids": [m.id for m in six]})  # fmt: skip
    for m in six:
        chat.call(m, "POST", "/api/v1/chat/direct", 200,
                  json={"member_ids": [a.id] + [o.id for o in six if o is not m]})  # fmt: skip
    receipts = f"/api/v1/chat/conversations/{many['id']}/receipts"
    with count_queries() as seven:
        got = chat.call(None, "GET", receipts, 200, headers=signed_in)["items"]
    assert len(got) == 6 and two.count == seven.count
    assert seven.count == 4  # the session, the conversation, and two reads of its members


def test_big_conversations_keep_reading_to_ones_own_devices(
    app, chat, auth_headers, make_member, world
):
    app.config["CHAT_RECEIPTS_LIMIT"] = 1
    sent = chat.call(
        world.owner,
        "POST",
        f"/api/v1/chat/conversations/{world.channel}/messages",
        201,
        json={"body": "大家好"},
    )
    theirs = open_socket(app, auth_headers, world.owner)
    mine = open_socket(app, auth_headers, world.member)  # the member's other device
    try:
        chat.call(world.member, "POST", f"/api/v1/chat/conversations/{world.channel}/read", 200,
                  json={"message_id": sent["id"]})  # fmt: skip
        assert events(mine, "read") == [
            {
                "conversation_id": world.channel,
                "member_id": world.member.id,
                "last_read_id": sent["id"],
            }
        ]
        assert events(theirs, "read") == []
    finally:
        theirs.disconnect(namespace="/chat")
        mine.disconnect(namespace="/chat")
    body = chat.call(
        world.owner, "GET", f"/api/v1/chat/conversations/{world.channel}/receipts", 409
    )
    assert body["code"] == "chat_receipts_unavailable"
    # a public channel's reader who has not joined sees no receipts either
    app.config["CHAT_RECEIPTS_LIMIT"] = 100
    lurker = make_member()
    chat.call(lurker, "POST", f"/api/v1/alliances/{world.alliance_id}/join", 200, json={})
    chat.call(lurker, "GET", f"/api/v1/chat/conversations/{world.channel}/messages", 200)
    body = chat.call(lurker, "GET", f"/api/v1/chat/conversations/{world.channel}/receipts", 403)
    assert body["code"] == "chat_not_joined"


def test_channels_one_could_join(chat, make_member, world, count_queries):
    newcomer = make_member()
    chat.call(newcomer, "POST", f"/api/v1/alliances/{world.alliance_id}/join", 200, json={})
    second = chat.call(world.owner, "POST", "/api/v1/chat/channels", 201,
                       json={"alliance_id": world.alliance_id, "name": "器材"})["id"]  # fmt: skip
    made = chat.call(
        world.owner,
        "POST",
        "/api/v1/chat/channels",
        201,
        json={"alliance_id": world.alliance_id, "name": "管理组", "private": True},
    )
    private = made["id"]
    elsewhere_owner = make_member(role="organiser")
    other = chat.call(elsewhere_owner, "POST", "/api/v1/alliances", 201, json={"name": "别的联盟"})
    chat.call(elsewhere_owner, "POST", "/api/v1/chat/channels", 201,
              json={"alliance_id": other["id"], "name": "别处"})  # fmt: skip

    page = chat.call(newcomer, "GET", "/api/v1/chat/channels?joined=false", 200)
    assert [(c["id"], c["joined"], c["member_count"]) for c in page["items"]] == [
        (second, False, 1),
        (world.channel, False, 2),
    ]
    assert page["next_cursor"] is None
    chat.call(newcomer, "POST", f"/api/v1/chat/conversations/{second}/join", 200)
    page = chat.call(newcomer, "GET", "/api/v1/chat/channels?joined=false", 200)
    assert [c["id"] for c in page["items"]] == [world.channel]
    page = chat.call(newcomer, "GET", f"/api/v1/chat/channels?alliance_id={world.alliance_id}", 200)
    assert [(c["id"], c["joined"]) for c in page["items"]] == [
        (second, True),
        (world.channel, False),
    ]
    # the owner sees the private channel they are in, the newcomer never does
    page = chat.call(world.owner, "GET", "/api/v1/chat/channels?joined=true&limit=2", 200)
    assert [c["id"] for c in page["items"]] == [private, second] and page["next_cursor"]
    after = f"/api/v1/chat/channels?joined=true&limit=2&cursor={page['next_cursor']}"
    signed_in = chat.auth_headers(world.owner)  # before counting: the counts are the request's own
    with count_queries() as queries:
        rest = chat.call(None, "GET", after, 200, headers=signed_in)
    assert [c["id"] for c in rest["items"]] == [world.channel]
    with count_queries() as first_page:
        chat.call(None, "GET", "/api/v1/chat/channels?joined=true&limit=2", 200, headers=signed_in)
    assert queries.count == first_page.count
    assert queries.count == 3  # the session, the member's alliances, the page
    # an outsider of the alliance sees none of it, and asking for it changes nothing
    outsider = make_member()
    assert (
        chat.call(outsider, "GET", f"/api/v1/chat/channels?alliance_id={world.alliance_id}", 200)[
            "items"
        ]
        == []
    )
    bad = chat.call(newcomer, "GET", "/api/v1/chat/channels?cursor=nonsense", 400)
    assert bad["code"] == "invalid_cursor"


def test_a_socket_that_only_looked_in_hears_nothing_after_removal(
    app, chat, auth_headers, make_member, world
):
    """``join`` over the socket puts it in a public channel's room without following it;
    removal from the alliance takes it out all the same (no conversation_removed: it never
    followed)."""
    lurker = make_member()
    chat.call(lurker, "POST", f"/api/v1/alliances/{world.alliance_id}/join", 200, json={})
    sock = open_socket(app, auth_headers, lurker)
    try:
        assert sock.emit("join", {"conversation_id": world.channel}, namespace="/chat",
                         callback=True) == {"ok": True}  # fmt: skip
        chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{world.channel}/messages", 201,
                  json={"body": "看得到"})  # fmt: skip
        assert len(events(sock, "message")) == 1
        chat.call(world.owner, "POST", f"/api/v1/alliances/{world.alliance_id}/bans", 204,
                  json={"member_id": lurker.id, "reason": "广告"})  # fmt: skip
        assert events(sock, "conversation_removed") == []
        chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{world.channel}/messages", 201,
                  json={"body": "看不到"})  # fmt: skip
        assert events(sock, "message") == []
    finally:
        sock.disconnect(namespace="/chat")


def test_a_membership_left_behind_gives_nothing(app, chat, auth_headers, world):
    """Rows from before leaving an alliance dropped its channels (or a race) count for nothing:
    not listed, no room on connect, no presence."""
    import sqlalchemy as sa

    from server.alliances.models import AllianceMember
    from server.extensions import db

    with app.app_context():
        db.session.execute(
            sa.delete(AllianceMember).where(
                AllianceMember.alliance_id == world.alliance_id,
                AllianceMember.member_id == world.member.id,
            )
        )
        db.session.commit()
    assert chat.call(world.member, "GET", "/api/v1/chat/conversations", 200)["items"] == []
    sock = open_socket(app, auth_headers, world.member)
    try:
        seen = chat.call(
            world.owner, "GET", f"/api/v1/chat/presence?member_ids={world.member.id}", 200
        )["items"]
        assert seen == [{"member_id": world.member.id, "status": "offline"}]  # online, not shown
        chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{world.channel}/messages", 201,
                  json={"body": "成员才看得到"})  # fmt: skip
        assert events(sock, "message") == []
    finally:
        sock.disconnect(namespace="/chat")
    # offline now, and named: not mentioned (no inbox entry, no push with the text), and not
    # among the receipts
    chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{world.channel}/messages", 201,
              json={"body": f"@{world.member.username} 你还在吗"})  # fmt: skip
    assert chat.call(world.member, "GET", "/api/v1/notifications", 200)["items"] == []
    assert (
        chat.call(world.owner, "GET", f"/api/v1/chat/conversations/{world.channel}/receipts", 200)[
            "items"
        ]
        == []
    )


def test_an_erased_account_is_disconnected(app, chat, auth_headers, client, world):
    sock = open_socket(app, auth_headers, world.member)
    try:
        r = client.delete("/api/v1/me", headers=auth_headers(world.member),
                          json={"password": "correct horse battery"})  # fmt: skip
        assert r.status_code == 204, r.get_json()
        assert not sock.is_connected("/chat")
    finally:
        if sock.is_connected("/chat"):
            sock.disconnect(namespace="/chat")


def test_reopening_a_conversation_does_not_pull_the_other_back(
    app, chat, auth_headers, make_member
):
    a, b = make_member(), make_member()
    conv = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})
    chat.call(b, "POST", f"/api/v1/chat/conversations/{conv['id']}/leave", 204)
    sock = open_socket(app, auth_headers, b)
    try:
        again = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})
        assert again["id"] == conv["id"]
        chat.call(a, "POST", f"/api/v1/chat/conversations/{conv['id']}/messages", 201,
                  json={"body": "还在吗"})  # fmt: skip
        assert events(sock, "message") == [] and events(sock, "conversation_added") == []
        chat.call(b, "GET", f"/api/v1/chat/conversations/{conv['id']}/messages", 404)
    finally:
        sock.disconnect(namespace="/chat")


def test_channel_membership_by_rank(chat, make_member, world):
    admin, other_admin = make_member(), make_member()
    for m in (admin, other_admin):
        chat.call(m, "POST", f"/api/v1/alliances/{world.alliance_id}/join", 200, json={})
        chat.call(
            world.owner,
            "PATCH",
            f"/api/v1/alliances/{world.alliance_id}/members/{m.id}",
            200,
            json={"role": "admin"},
        )
    made = chat.call(
        world.owner,
        "POST",
        "/api/v1/chat/channels",
        201,
        json={"alliance_id": world.alliance_id, "name": "盟主小组", "private": True},
    )
    private = made["id"]
    # an admin manages a private channel without being in it (and still cannot read it)
    chat.call(admin, "POST", f"/api/v1/chat/conversations/{private}/members", 204,
              json={"member_ids": [world.member.id, other_admin.id]})  # fmt: skip
    chat.call(admin, "GET", f"/api/v1/chat/conversations/{private}/messages", 404)
    chat.call(
        admin, "DELETE", f"/api/v1/chat/conversations/{private}/members/{world.member.id}", 204
    )
    # but takes out neither the owner nor another admin; the owner takes out anyone
    chat.call(
        admin, "DELETE", f"/api/v1/chat/conversations/{private}/members/{world.owner.id}", 403
    )
    path = f"/api/v1/chat/conversations/{private}/members/{other_admin.id}"
    chat.call(admin, "DELETE", path, 403)
    chat.call(world.owner, "DELETE", path, 204)


def test_signing_out_closes_the_sockets_and_only_live_tokens_get_back(
    app, client, auth_headers, make_member
):
    member = make_member()
    phone, laptop = auth_headers(member), auth_headers(member)
    on_phone = socketio.test_client(app, namespace="/chat",
                                    auth={"token": phone["Authorization"].split()[1]})  # fmt: skip
    assert on_phone.is_connected("/chat")
    try:
        assert client.post("/api/v1/auth/logout", headers=phone).status_code == 204
        assert not on_phone.is_connected("/chat")
        again = socketio.test_client(app, namespace="/chat",
                                     auth={"token": phone["Authorization"].split()[1]})  # fmt: skip
        assert not again.is_connected("/chat")  # the signed-out token is refused
        back = socketio.test_client(app, namespace="/chat",
                                    auth={"token": laptop["Authorization"].split()[1]})  # fmt: skip
        assert back.is_connected("/chat")  # the other device reconnects
        back.disconnect(namespace="/chat")
    finally:
        if on_phone.is_connected("/chat"):
            on_phone.disconnect(namespace="/chat")


def test_a_socket_whose_session_was_revoked_cannot_act(app, chat, auth_headers, world):
    """Even if the closing of its socket was lost, a revoked session's socket does nothing."""
    import sqlalchemy as sa

    from server.auth.models import AuthSession
    from server.common.time import utcnow
    from server.extensions import db

    sock = open_socket(app, auth_headers, world.member)
    try:
        with app.app_context():
            db.session.execute(
                sa.update(AuthSession)
                .where(AuthSession.member_id == world.member.id)
                .values(revoked_at=utcnow(), revoked_reason="logout")
            )
            db.session.commit()
        ack = sock.emit("send", {"conversation_id": world.channel, "body": "还能发吗"},
                        namespace="/chat", callback=True)  # fmt: skip
        assert ack["error"]["code"] == "token_revoked"
        assert not sock.is_connected("/chat")
        history = chat.call(
            world.owner, "GET", f"/api/v1/chat/conversations/{world.channel}/messages", 200
        )
        assert history["messages"] == []
    finally:
        if sock.is_connected("/chat"):
            sock.disconnect(namespace="/chat")
