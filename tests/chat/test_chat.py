"""Chat over REST and Socket.IO (Flask-SocketIO's test client; real clients are next)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db, socketio
from tests.chat.helpers import events, token_of


@dataclass(frozen=True)
class Alliance:
    owner: Any
    id: int


@pytest.fixture
def alliance(chat, make_member):
    owner = make_member(role="organiser", display_name="盟主", username="mengzhu")
    made = chat.call(owner, "POST", "/api/v1/alliances", 201, json={"name": "设计师联盟"})
    return Alliance(owner=owner, id=made["id"])


@dataclass(frozen=True)
class Lobby:
    owner: Any  # the alliance's, who made the channel
    member: Any  # 林晓雨 (@linxiaoyu), who joined it
    outsider: Any  # in neither the alliance nor the channel
    channel: int
    mine: Any  # the member's socket
    theirs: Any  # the owner's socket


@pytest.fixture
def lobby(app, chat, auth_headers, make_member, alliance):
    """A channel of the alliance its owner and a member follow, each with a socket open."""
    member = make_member(display_name="林晓雨", username="linxiaoyu")
    outsider = make_member(display_name="外人")
    chat.call(member, "POST", f"/api/v1/alliances/{alliance.id}/join", 200, json={})
    channel = chat.call(alliance.owner, "POST", "/api/v1/chat/channels", 201,
                        json={"alliance_id": alliance.id, "name": "闲聊"})  # fmt: skip
    chat.call(member, "POST", f"/api/v1/chat/conversations/{channel['id']}/join", 200)
    mine = socketio.test_client(
        app, namespace="/chat", auth={"token": token_of(auth_headers, member)}
    )
    theirs = socketio.test_client(
        app, namespace="/chat", auth={"token": token_of(auth_headers, alliance.owner)}
    )
    assert mine.is_connected("/chat") and theirs.is_connected("/chat")
    try:
        yield Lobby(owner=alliance.owner, member=member, outsider=outsider,
                    channel=channel["id"], mine=mine, theirs=theirs)  # fmt: skip
    finally:
        mine.disconnect(namespace="/chat")
        theirs.disconnect(namespace="/chat")


def _owner_says_hello(lobby):
    """The owner's message over the socket, mentioning the member: its ack."""
    return lobby.theirs.emit(
        "send",
        {"conversation_id": lobby.channel, "body": "大家好 @linxiaoyu"},
        namespace="/chat",
        callback=True,
    )


def _member_answers(chat, lobby, ack):
    """The member's reply over REST to the owner's message."""
    return chat.call(lobby.member, "POST", f"/api/v1/chat/conversations/{lobby.channel}/messages",
                     201, json={"body": "收到！", "reply_to_id": ack["message"]["id"]})  # fmt: skip


def test_channels_are_made_by_the_owner_and_open_to_the_alliance_only(chat, alliance, lobby):
    body = {"alliance_id": alliance.id, "name": "x"}
    chat.call(lobby.member, "POST", "/api/v1/chat/channels", 403, json=body)
    chat.call(lobby.outsider, "POST", f"/api/v1/chat/conversations/{lobby.channel}/join", 404)
    chat.call(lobby.outsider, "GET", f"/api/v1/chat/conversations/{lobby.channel}/messages", 404)


def test_a_message_sent_over_the_socket_is_rendered_and_reaches_the_room(lobby):
    ack = _owner_says_hello(lobby)
    assert ack["message"]["html"].startswith("<p>大家好")
    assert [m["id"] for m in events(lobby.mine, "message")] == [ack["message"]["id"]]


def test_a_message_sent_over_rest_reaches_the_room_as_the_same_event(chat, lobby):
    ack = _owner_says_hello(lobby)
    sent = _member_answers(chat, lobby, ack)
    got = events(lobby.theirs, "message")
    assert got[-1] == sent and sent["reply_to_id"] == ack["message"]["id"]


def test_typing_reaches_the_others_not_the_typist(lobby):
    lobby.mine.emit("typing", {"conversation_id": lobby.channel}, namespace="/chat")
    assert [t["member_id"] for t in events(lobby.theirs, "typing")] == [lobby.member.id]
    assert events(lobby.mine, "typing") == []


def test_unread_and_mention_counts_come_in_one_call_and_reading_is_shared(chat, lobby):
    sent = _member_answers(chat, lobby, _owner_says_hello(lobby))
    convs = chat.call(lobby.member, "GET", "/api/v1/chat/conversations", 200)["items"]
    assert [(c["id"], c["unread_count"], c["mention_count"]) for c in convs] == [
        (lobby.channel, 0, 0)
    ]
    owner_view = chat.call(lobby.owner, "GET", "/api/v1/chat/conversations", 200)["items"][0]
    assert owner_view["unread_count"] == 1 and owner_view["last_message"]["id"] == sent["id"]
    read = lobby.theirs.emit("read", {"conversation_id": lobby.channel, "message_id": sent["id"]},
                             namespace="/chat", callback=True)  # fmt: skip
    assert read == {"last_read_id": sent["id"]}
    assert events(lobby.mine, "read")[-1] == {
        "conversation_id": lobby.channel,
        "member_id": lobby.owner.id,
        "last_read_id": sent["id"],
    }


def test_a_non_member_can_neither_join_the_room_nor_send(app, auth_headers, lobby):
    stranger = socketio.test_client(
        app, namespace="/chat", auth={"token": token_of(auth_headers, lobby.outsider)}
    )
    try:
        refused = stranger.emit("join", {"conversation_id": lobby.channel}, namespace="/chat",
                                callback=True)  # fmt: skip
        assert refused["error"]["code"] == "chat_conversation_not_found"
        ack = stranger.emit("send", {"conversation_id": lobby.channel, "body": "我能发吗"},
                            namespace="/chat", callback=True)  # fmt: skip
        assert ack["error"]["code"] == "chat_conversation_not_found"
    finally:
        stranger.disconnect(namespace="/chat")


def test_bad_tokens_are_refused_with_a_reason(app, auth_headers, make_member):
    """Each refusal's connect_error carries the error shape: what the app shows, or whether
    it signs in again."""
    from socketio import packet

    member = make_member()
    revoked = auth_headers(member)["Authorization"].split()[1]
    client = socketio.test_client(app, namespace="/chat", auth={"token": revoked})
    assert client.is_connected("/chat")
    client.disconnect(namespace="/chat")
    with app.app_context():
        import jwt as pyjwt

        from server.auth.service import sign_out

        sign_out(pyjwt.decode(revoked, options={"verify_signature": False})["fam"])
    errors: list = []
    mocked = socketio.server._send_packet  # the test client's

    def record(eio_sid, pkt):
        if pkt.packet_type == packet.CONNECT_ERROR:
            errors.append(pkt.data)
        return mocked(eio_sid, pkt)

    socketio.server._send_packet = record
    missing, invalid = "authentication_required", "invalid_token"
    expected = [(None, missing), ({}, missing), ({"token": 42}, missing),
                ({"token": "not-a-jwt"}, invalid),
                ({"token": revoked}, "token_revoked")]  # fmt: skip
    for auth, code in expected:
        errors.clear()
        client.connect(namespace="/chat", auth=auth)
        assert not client.is_connected("/chat")
        assert len(errors) == 1, auth
        assert errors[0]["data"]["code"] == code and errors[0]["data"]["status"] == 401, auth
        assert errors[0]["message"] == errors[0]["data"]["message"]


def test_history_pages_around_an_anchor(chat, make_member):
    a, b = make_member(), make_member()
    conv = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})
    again = chat.call(b, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [a.id]})
    assert again["id"] == conv["id"]  # one-to-one conversations are reused
    url = f"/api/v1/chat/conversations/{conv['id']}/messages"
    ids = [chat.call(a, "POST", url, 201, json={"body": f"第{i}条"})["id"] for i in range(12)]
    newest = chat.call(b, "GET", url, 200, query_string={"num_before": 5})
    assert [m["id"] for m in newest["messages"]] == ids[-5:] and not newest["found_oldest"]
    window = {"anchor": ids[3], "num_before": 5, "num_after": 2}
    around = chat.call(b, "GET", url, 200, query_string=window)
    assert [m["id"] for m in around["messages"]] == ids[:5]
    assert around["found_oldest"] and around["found_anchor"] and not around["found_newest"]
    read_url = f"/api/v1/chat/conversations/{conv['id']}/read"
    chat.call(b, "POST", read_url, 200, json={"message_id": ids[5]})
    rest = {"anchor": "first_unread", "num_after": 100, "num_before": 0}
    unread = chat.call(b, "GET", url, 200, query_string=rest)
    assert [m["id"] for m in unread["messages"]] == ids[6:]
    assert chat.call(b, "GET", "/api/v1/chat/conversations", 200)["items"][0]["unread_count"] == 6
    # edits and deletions by the sender only; a tombstone stays
    chat.call(b, "PATCH", f"/api/v1/chat/messages/{ids[0]}", 403, json={"body": "改别人的"})
    chat.call(b, "DELETE", f"/api/v1/chat/messages/{ids[1]}", 403)
    chat.call(a, "DELETE", f"/api/v1/chat/messages/{ids[1]}", 204)
    first = chat.call(a, "GET", url, 200, query_string={"anchor": ids[0], "num_after": 2,
                                                         "num_before": 0})["messages"]  # fmt: skip
    assert first[1]["deleted"] is True and first[1]["html"] is None


def test_direct_messages_push_and_reading_withdraws(chat, client, auth_headers, make_member):
    a, b = make_member(), make_member()
    conv = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})
    url = f"/api/v1/chat/conversations/{conv['id']}/messages"
    sent = [chat.call(a, "POST", url, 201, json={"body": f"在吗{i}"})["id"] for i in range(3)]
    inbox = client.get("/api/v1/notifications", headers=auth_headers(b)).get_json()["items"]
    assert [(n["kind"], n["count"]) for n in inbox] == [("chat.message", 3)]
    chat.call(b, "POST", f"/api/v1/chat/conversations/{conv['id']}/read", 200,
              json={"message_id": sent[-1]})  # fmt: skip
    count = client.get("/api/v1/notifications/unread-count", headers=auth_headers(b)).get_json()
    assert count == {"unread": 0}


def test_conversation_list_runs_the_same_queries_whatever_its_size(
    chat, client, auth_headers, make_member, count_queries
):
    me = make_member()
    others = [make_member() for _ in range(6)]
    for other in others[:2]:
        conv = chat.call(other, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [me.id]})
        chat.call(other, "POST", f"/api/v1/chat/conversations/{conv['id']}/messages", 201,
                  json={"body": "你好"})  # fmt: skip
    headers = auth_headers(me)
    with count_queries() as small:
        listed = client.get("/api/v1/chat/conversations", headers=headers).get_json()["items"]
        assert len(listed) == 2
    for other in others[2:]:
        conv = chat.call(other, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [me.id]})
        chat.call(other, "POST", f"/api/v1/chat/conversations/{conv['id']}/messages", 201,
                  json={"body": "你好"})  # fmt: skip
    with count_queries() as big:
        convs = client.get("/api/v1/chat/conversations", headers=headers).get_json()["items"]
    assert len(convs) == 6 and all(c["unread_count"] == 1 for c in convs)
    assert small.count == big.count
    assert big.count == 3  # the session, the page (counts and last message joined), the cards


def test_export_and_erasure(chat, client, auth_headers, make_member):
    from tests.conftest import PASSWORD
    from tests.erasure import all_text_in_database

    leaving, staying = make_member(), make_member()
    conv = chat.call(leaving, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [staying.id]})
    url = f"/api/v1/chat/conversations/{conv['id']}/messages"
    chat.call(leaving, "POST", url, 201, json={"body": "私人聊天标记甲甲甲"})
    chat.call(staying, "POST", url, 201, json={"body": "留下的人说的话"})
    data = client.get("/api/v1/me/export", headers=auth_headers(leaving)).get_json()
    assert [m["body"] for m in data["sections"]["chat"]["messages"]] == ["私人聊天标记甲甲甲"]
    r = client.delete("/api/v1/me", headers=auth_headers(leaving), json={"password": PASSWORD})
    assert r.status_code == 204
    assert "私人聊天标记甲甲甲" not in all_text_in_database(chat.client.application)
    history = chat.call(staying, "GET", url, 200)["messages"]
    assert [(m["deleted"], m["html"] is not None) for m in history] == [
        (True, False),
        (False, True),
    ]


def test_alliance_admins_moderate_their_chat_and_it_is_logged(chat, make_member, alliance):
    admin, member, other = make_member(), make_member(), make_member()
    for m in (admin, member, other):
        chat.call(m, "POST", f"/api/v1/alliances/{alliance.id}/join", 200, json={})
    chat.call(alliance.owner, "PATCH", f"/api/v1/alliances/{alliance.id}/members/{admin.id}", 200,
              json={"role": "admin"})  # fmt: skip
    cid = chat.call(alliance.owner, "POST", "/api/v1/chat/channels", 201,
                    json={"alliance_id": alliance.id, "name": "大厅"})["id"]  # fmt: skip
    for m in (admin, member, other):
        chat.call(m, "POST", f"/api/v1/chat/conversations/{cid}/join", 200)
    url = f"/api/v1/chat/conversations/{cid}/messages"
    spam = chat.call(member, "POST", url, 201, json={"body": "加我微信领红包"})
    chat.call(other, "POST", f"/api/v1/chat/messages/{spam['id']}/reports", 204,
              json={"reason": "广告"})  # fmt: skip
    chat.call(other, "DELETE", f"/api/v1/chat/messages/{spam['id']}", 403)
    chat.call(admin, "DELETE", f"/api/v1/chat/messages/{spam['id']}", 204)
    mutes = f"/api/v1/chat/alliances/{alliance.id}/mutes"
    chat.call(other, "POST", mutes, 403, json={"member_id": member.id, "hours": 1})
    chat.call(admin, "POST", mutes, 403, json={"member_id": alliance.owner.id, "hours": 1})
    chat.call(
        admin, "POST", mutes, 204, json={"member_id": member.id, "hours": 24, "reason": "广告"}
    )
    muted = chat.call(member, "POST", url, 403, json={"body": "我还能说话吗"})
    assert muted["code"] == "chat_muted"
    chat.call(admin, "DELETE", f"{mutes}/{member.id}", 204)
    chat.call(member, "POST", url, 201, json={"body": "解除禁言了"})
    chat.call(member, "GET", f"/api/v1/chat/alliances/{alliance.id}/log", 403)
    log = chat.call(alliance.owner, "GET", f"/api/v1/chat/alliances/{alliance.id}/log", 200)[
        "items"
    ]
    assert [(e["action"], e["moderator"]["id"], e["target_id"]) for e in log] == [
        ("unmute", admin.id, member.id),
        ("mute", admin.id, member.id),
        ("delete", admin.id, spam["id"]),
        ("report", other.id, spam["id"]),
    ]
    assert log[3]["reason"] == "广告" and log[3]["data"]["sender_id"] == member.id


def test_members_active_in_a_client_get_no_push(app, chat, client, auth_headers, make_member):
    from server.chat import presence

    a, b = make_member(), make_member()
    conv = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})
    url = f"/api/v1/chat/conversations/{conv['id']}/messages"
    with app.app_context():
        presence.report(b.id, "sid-of-b", "active")
    try:
        chat.call(a, "POST", url, 201, json={"body": "你在线，不推送"})
        assert (
            client.get("/api/v1/notifications", headers=auth_headers(b)).get_json()["items"] == []
        )
        with app.app_context():
            presence.report(b.id, "sid-of-b", "idle")  # away: pushed again
        chat.call(a, "POST", url, 201, json={"body": "你离开了，推送"})
        inbox = client.get("/api/v1/notifications", headers=auth_headers(b)).get_json()["items"]
        assert [n["kind"] for n in inbox] == ["chat.message"]
    finally:
        with app.app_context():
            presence.gone(b.id, "sid-of-b")


def test_reacting_twice_is_harmless(chat, make_member):
    a, b = make_member(), make_member()
    conv = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})
    sent = chat.call(a, "POST", f"/api/v1/chat/conversations/{conv['id']}/messages", 201,
                     json={"body": "点个赞"})  # fmt: skip
    for _ in range(3):
        reacted = chat.call(b, "PUT", f"/api/v1/chat/messages/{sent['id']}/reactions/like", 200)
        assert reacted == {"message_id": sent["id"], "conversation_id": conv["id"],
                           "member_id": b.id, "reaction": "like", "on": True}  # fmt: skip
    from server.chat.models import MessageReaction

    with chat.client.application.app_context():
        rows = db.session.execute(
            sa.select(MessageReaction.member_id, MessageReaction.reaction).where(
                MessageReaction.message_id == sent["id"]
            )
        ).all()
    assert [tuple(r) for r in rows] == [(b.id, "like")]  # stored once


def test_presence_events_reach_small_conversations_and_big_ones_poll(
    app, chat, auth_headers, make_member, alliance, monkeypatch
):
    """Zulip's rule: arrivals are pushed where few listen; a big channel's clients poll."""
    monkeypatch.setitem(app.config, "CHAT_PRESENCE_PUSH_LIMIT", 2)  # not for the tests after
    friend = make_member(display_name="小林")
    chat.call(friend, "POST", f"/api/v1/alliances/{alliance.id}/join", 200, json={})
    # opened by the friend: accepted by them, so it hears their presence
    direct = chat.call(
        friend, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [alliance.owner.id]}
    )
    crowd = chat.call(
        alliance.owner,
        "POST",
        "/api/v1/chat/channels",
        201,
        json={"alliance_id": alliance.id, "name": "大厅"},
    )
    for m in (friend, make_member(), make_member()):
        if m is not friend:
            chat.call(m, "POST", f"/api/v1/alliances/{alliance.id}/join", 200, json={})
        chat.call(m, "POST", f"/api/v1/chat/conversations/{crowd['id']}/join", 200)
    listener = socketio.test_client(
        app, namespace="/chat", auth={"token": token_of(auth_headers, alliance.owner)}
    )
    try:
        listener.get_received("/chat")
        arriving = socketio.test_client(
            app, namespace="/chat", auth={"token": token_of(auth_headers, friend)}
        )
        arriving.disconnect(namespace="/chat")
        # the direct conversation (2 members) heard the arrival and the leaving, once each;
        # the 4-member channel did not (each would have doubled them)
        seen = events(listener, "presence")
        assert seen == [
            {"member_id": friend.id, "status": "online"},
            {"member_id": friend.id, "status": "offline"},
        ], (seen, direct)
        # the channel's clients ask instead
        got = chat.call(
            alliance.owner, "GET", f"/api/v1/chat/presence?member_ids={friend.id}", 200
        )["items"]
        assert got == [{"member_id": friend.id, "status": "offline"}]
    finally:
        listener.disconnect(namespace="/chat")


def test_a_send_retried_with_its_client_id_is_sent_once(app, chat, auth_headers, make_member):
    """The client's own id comes back in the answer and in the room's ``message`` event (the
    sender's other devices recognise their echo); a send retried with it — over REST or the
    socket, after a lost answer — is the same message, and the room hears it once."""
    a, b = make_member(), make_member()
    conv = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})
    theirs = socketio.test_client(app, namespace="/chat", auth={"token": token_of(auth_headers, b)})
    mine = socketio.test_client(app, namespace="/chat", auth={"token": token_of(auth_headers, a)})
    try:
        theirs.get_received("/chat")
        url = f"/api/v1/chat/conversations/{conv['id']}/messages"
        body = {"body": "周五见", "client_id": "3f6c2a1e-77b0-4c1d-9a35-0c1b2d3e4f50"}
        first = chat.call(a, "POST", url, 201, json=body)
        assert first["client_id"] == body["client_id"]
        again = chat.call(a, "POST", url, 201, json=body)
        ack = mine.emit("send", {"conversation_id": conv["id"], **body}, namespace="/chat",
                        callback=True)  # fmt: skip
        assert again["id"] == ack["message"]["id"] == first["id"]
        heard = events(theirs, "message")
        assert [m["id"] for m in heard] == [first["id"]]  # once
        assert heard[0]["client_id"] == body["client_id"]
        history = chat.call(b, "GET", url, 200)["messages"]
        assert [m["id"] for m in history] == [first["id"]]
        other = chat.call(a, "POST", "/api/v1/chat/direct", 200,
                          json={"member_ids": [make_member().id]})  # fmt: skip
        reused = chat.call(a, "POST", f"/api/v1/chat/conversations/{other['id']}/messages", 409,
                           json=body)  # fmt: skip
        assert reused["code"] == "chat_client_id_reused"
        bad = chat.call(a, "POST", url, 422, json={"body": "x", "client_id": "有空格 的"})
        assert "client_id" in bad["errors"]
    finally:
        mine.disconnect(namespace="/chat")
        theirs.disconnect(namespace="/chat")


def test_messages_link_their_mentions_and_deleted_ones_say_null(chat, world):
    url = f"/api/v1/chat/conversations/{world.channel}/messages"
    sent = chat.call(
        world.owner, "POST", url, 201, json={"body": f"@{world.member.username} 周六见"}
    )
    assert sent["mentions"] == [{"member_id": world.member.id, "username": world.member.username}]
    assert f'data-member-id="{world.member.id}"' in sent["html"]
    chat.call(world.owner, "DELETE", f"/api/v1/chat/messages/{sent['id']}", 204)
    [gone] = chat.call(world.member, "GET", url, 200)["messages"]
    assert (gone["deleted"], gone["html"], gone["mentions"]) == (True, None, [])


def test_an_unknown_reaction_says_so(chat, world):
    url = f"/api/v1/chat/conversations/{world.channel}/messages"
    sent = chat.call(world.owner, "POST", url, 201, json={"body": "周六外拍"})
    body = chat.call(
        world.member, "PUT", f"/api/v1/chat/messages/{sent['id']}/reactions/angry", 404
    )
    assert body["code"] == "chat_reaction_not_found"
    chat.call(world.member, "PUT", f"/api/v1/chat/messages/{sent['id']}/reactions/like", 200)


def test_a_conversation_shows_its_name_and_members(chat, world, make_member):
    third = make_member(display_name="小美")
    direct = chat.call(
        world.owner,
        "POST",
        "/api/v1/chat/direct",
        200,
        json={"member_ids": [world.member.id, third.id]},
    )["id"]
    # a direct conversation is named after the others, in the caller's language
    zh = chat.call(world.owner, "GET", f"/api/v1/chat/conversations/{direct}", 200)
    assert (zh["name"], zh["display_name"], zh["member_count"]) == (None, "阿杰、小美", 3)
    assert [m["display_name"] for m in zh["members"]] == ["盟主", "阿杰", "小美"]
    assert set(zh["members"][0]) == {"id", "username", "display_name", "avatar_url"}
    theirs = chat.client.get(
        f"/api/v1/chat/conversations/{direct}",
        headers=chat.auth_headers(third, **{"Accept-Language": "en"}),
    ).get_json()
    assert theirs["display_name"] == "盟主, 阿杰"
    # a public channel can be looked at before joining it; an outsider hears it does not exist
    newcomer = make_member(display_name="新人")
    chat.call(newcomer, "POST", f"/api/v1/alliances/{world.alliance_id}/join", 200, json={})
    seen = chat.call(newcomer, "GET", f"/api/v1/chat/conversations/{world.channel}", 200)
    assert (seen["joined"], seen["display_name"], seen["member_count"]) == (False, "外拍", 2)
    assert seen["unread_count"] == 0
    listed = chat.call(world.owner, "GET", "/api/v1/chat/conversations", 200)["items"]
    assert {c["id"]: c["display_name"] for c in listed} == {
        direct: "阿杰、小美",
        world.channel: "外拍",
    }
    outsider = make_member()
    body = chat.call(outsider, "GET", f"/api/v1/chat/conversations/{world.channel}", 404)
    assert body["code"] == "chat_conversation_not_found"
    chat.call(outsider, "GET", f"/api/v1/chat/conversations/{direct}", 404)


def test_big_channels_carry_a_bounded_number_of_cards(chat, world, make_member):
    for i in range(22):
        joiner = make_member(display_name=f"成员{i}")
        chat.call(joiner, "POST", f"/api/v1/alliances/{world.alliance_id}/join", 200, json={})
        chat.call(joiner, "POST", f"/api/v1/chat/conversations/{world.channel}/join", 200)
    seen = chat.call(world.owner, "GET", f"/api/v1/chat/conversations/{world.channel}", 200)
    assert seen["member_count"] == 24 and len(seen["members"]) == 20
    assert [m["display_name"] for m in seen["members"][:3]] == ["盟主", "阿杰", "成员0"]
