"""What a block, the "who may message me" setting and an unaccepted conversation keep back:
no edit, reaction or typing in a blocked pair; no presence to a blocked member over the socket
and the same ``offline`` as anyone's over REST; a refusal to write that reads the same for a
block and for the setting; no read receipts or typing to a stranger before one answers."""

from __future__ import annotations

from tests.chat.helpers import events, open_direct, open_socket, send


def _typing(sock, conversation_id):
    sock.emit("typing", {"conversation_id": conversation_id}, namespace="/chat")


def _heard(sock, *names):
    """(event, member) of the events ``names`` the socket received since it last looked."""
    return [
        (e["name"], e["args"][0]["member_id"])
        for e in sock.get_received("/chat")
        if e["name"] in names
    ]


def _presence(chat, viewer, *members):
    ids = ",".join(str(m.id) for m in members)
    return chat.call(viewer, "GET", f"/api/v1/chat/presence?member_ids={ids}", 200)["items"]


def test_a_blocked_pair_edits_reacts_and_types_nothing(app, chat, auth_headers, make_member):
    blocker, pest = make_member(), make_member()
    cid = open_direct(chat, pest, [blocker])["id"]
    theirs = send(chat, blocker, cid, body="你好")
    old = send(chat, pest, cid, body="在吗")
    mine = send(chat, blocker, cid, body="有事吗")
    chat.call(blocker, "POST", f"/api/v1/members/{pest.id}/block", 204)
    blocker_sock = open_socket(app, auth_headers, blocker)
    pest_sock = open_socket(app, auth_headers, pest)
    blocker_sock.get_received("/chat")  # the pest coming online (theirs to see: not blocked)
    try:
        edited = chat.call(pest, "PATCH", f"/api/v1/chat/messages/{old['id']}", 403,
                           json={"body": "改成骂人的话"})  # fmt: skip
        assert edited["code"] == "chat_direct_not_allowed"  # as a refused send
        like = f"/api/v1/chat/messages/{mine['id']}/reactions/like"
        assert chat.call(pest, "PUT", like, 403)["code"] == "chat_direct_not_allowed"
        _typing(pest_sock, cid)
        got = blocker_sock.get_received("/chat")
        assert [e["name"] for e in got] == []  # no message_edited, reaction or typing
        # the blocker is held to the pair's rule too, and types nothing to the pest
        body = chat.call(blocker, "PATCH", f"/api/v1/chat/messages/{theirs['id']}", 403,
                         json={"body": "改一下"})  # fmt: skip
        assert body["code"] == "chat_member_blocked"
        _typing(blocker_sock, cid)
        assert events(pest_sock, "typing") == []
        # taking a reaction back adds nothing: still allowed
        chat.call(pest, "DELETE", like, 200)
        history = chat.call(blocker, "GET", f"/api/v1/chat/conversations/{cid}/messages", 200)
        assert [m["html"] for m in history["messages"]][1] == "<p>在吗</p>\n"
        # unblocked: the pair talks again
        chat.call(blocker, "DELETE", f"/api/v1/members/{pest.id}/block", 204)
        blocker_sock.get_received("/chat")
        chat.call(pest, "PATCH", f"/api/v1/chat/messages/{old['id']}", 200, json={"body": "在"})
        _typing(pest_sock, cid)
        assert [t["member_id"] for t in events(blocker_sock, "typing")] == [pest.id]
    finally:
        blocker_sock.disconnect(namespace="/chat")
        pest_sock.disconnect(namespace="/chat")


def test_a_blocked_member_hears_no_presence_of_the_blocker(
    app, chat, auth_headers, make_member, count_queries
):
    owner = make_member(role="organiser")
    aid = chat.call(owner, "POST", "/api/v1/alliances", 201, json={"name": "同好联盟"})["id"]
    star, pest, mate = make_member(), make_member(), make_member()
    for m in (star, pest, mate):
        chat.call(m, "POST", f"/api/v1/alliances/{aid}/join", 200, json={})
    channel = chat.call(owner, "POST", "/api/v1/chat/channels", 201,
                        json={"alliance_id": aid, "name": "大厅"})["id"]  # fmt: skip
    for m in (star, pest, mate):
        chat.call(m, "POST", f"/api/v1/chat/conversations/{channel}/join", 200)
    pair = open_direct(chat, star, [pest])["id"]
    send(chat, pest, pair, body="你好")  # accepted by both: presence would go there too
    chat.call(star, "POST", f"/api/v1/members/{pest.id}/block", 204)
    pest_sock = open_socket(app, auth_headers, pest)
    mate_sock = open_socket(app, auth_headers, mate)
    try:
        pest_sock.get_received("/chat")  # the mate coming online
        signed_in = auth_headers(star)  # before counting: the counts are the connection's own
        with count_queries() as one_blocked:
            star_sock = open_socket(app, lambda _member: signed_in, star)
        assert events(pest_sock, "presence") == []  # neither in the channel nor in the pair
        assert {e["member_id"]: e["status"] for e in events(mate_sock, "presence")} == {
            star.id: "online"
        }
        # REST says the same: offline to the pest, online to the mate
        assert _presence(chat, pest, star) == [{"member_id": star.id, "status": "offline"}]
        assert _presence(chat, mate, star) == [{"member_id": star.id, "status": "online"}]
        # the blocker still sees the pest (REST and socket alike): the block is theirs
        assert _presence(chat, star, pest) == [{"member_id": pest.id, "status": "online"}]
        star_sock.disconnect(namespace="/chat")
        assert events(pest_sock, "presence") == []
        assert events(mate_sock, "presence") == [{"member_id": star.id, "status": "offline"}]
        # one query for the block list, however long it is
        for _ in range(3):
            chat.call(star, "POST", f"/api/v1/members/{make_member().id}/block", 204)
        with count_queries() as four_blocked:
            star_sock = open_socket(app, lambda _member: signed_in, star)
        assert four_blocked.count == one_blocked.count
        assert four_blocked.count == 6  # the block list among them, in one query
        assert events(pest_sock, "presence") == []
        star_sock.disconnect(namespace="/chat")
    finally:
        pest_sock.disconnect(namespace="/chat")
        mate_sock.disconnect(namespace="/chat")


def test_hidden_presence_reads_offline_and_a_refusal_does_not_name_a_block(
    app, chat, auth_headers, make_member
):
    shy, pest, stranger, friend, nobody = (make_member() for _ in range(5))
    opened = {m.id: open_direct(chat, m, [shy])["id"] for m in (pest, stranger, friend)}
    sock = open_socket(app, auth_headers, shy)
    try:
        chat.call(shy, "POST", f"/api/v1/members/{pest.id}/block", 204)
        # blocked, or simply sharing nothing: the same answer, every id answered
        assert _presence(chat, pest, shy) == [{"member_id": shy.id, "status": "offline"}]
        assert _presence(chat, nobody, shy, pest) == [
            {"member_id": shy.id, "status": "offline"},
            {"member_id": pest.id, "status": "offline"},
        ]
    finally:
        sock.disconnect(namespace="/chat")
    # shy answers the friend (accepting that conversation), then lets nobody message them
    send(chat, shy, opened[friend.id], body="你好呀")
    send(chat, stranger, opened[stranger.id], body="在吗")  # fine while shy lets everyone in
    chat.call(shy, "PATCH", "/api/v1/me", 200, json={"direct_messages_from": "nobody"})
    # in conversations shy never answered the setting holds, as at opening: a refusal is one
    # answer whether shy blocked the writer or only changed the setting
    blocked = send(chat, pest, opened[pest.id], 403, body="为什么不回")
    filtered = send(chat, stranger, opened[stranger.id], 403, body="还在吗")
    assert blocked == filtered and filtered["code"] == "chat_direct_not_allowed"
    assert open_direct(chat, stranger, [shy], 403) == filtered
    # a conversation shy accepted goes on, whatever the setting
    send(chat, friend, opened[friend.id], body="周末见")
    # and shy answers anyone: shy's own setting never stops shy
    send(chat, shy, opened[stranger.id], body="请别再发了")


def test_reading_and_typing_stay_private_until_the_conversation_is_accepted(
    app, chat, auth_headers, make_member
):
    star, stranger = make_member(), make_member()
    cid = open_direct(chat, stranger, [star])["id"]
    sent = send(chat, stranger, cid, body="你好，我是你的粉丝")
    stranger_sock = open_socket(app, auth_headers, stranger)
    star_phone, star_laptop = (
        open_socket(app, auth_headers, star),
        open_socket(app, auth_headers, star),
    )
    receipts = f"/api/v1/chat/conversations/{cid}/receipts"
    try:
        read = {"conversation_id": cid, "message_id": sent["id"]}
        assert star_phone.emit("read", read, namespace="/chat", callback=True) == {
            "last_read_id": sent["id"]
        }
        chat.call(star, "POST", f"/api/v1/chat/conversations/{cid}/read", 200,
                  json={"message_id": sent["id"]})  # fmt: skip
        _typing(star_phone, cid)
        assert _heard(stranger_sock, "read", "typing") == []
        mine = {"conversation_id": cid, "member_id": star.id, "last_read_id": sent["id"]}
        assert events(star_laptop, "read") == [mine, mine]  # one's own devices keep in step
        assert chat.call(stranger, "GET", receipts, 200)["items"] == []
        # answering accepts it: from now on reading and typing are shared
        answer = send(chat, star, cid, body="谢谢")
        chat.call(star, "POST", f"/api/v1/chat/conversations/{cid}/read", 200,
                  json={"message_id": answer["id"]})  # fmt: skip
        _typing(star_phone, cid)
        assert _heard(stranger_sock, "read", "typing") == [("read", star.id), ("typing", star.id)]
        got = chat.call(stranger, "GET", receipts, 200)["items"]
        assert [(r["member"]["id"], r["last_read_id"]) for r in got] == [(star.id, answer["id"])]
    finally:
        for sock in (stranger_sock, star_phone, star_laptop):
            sock.disconnect(namespace="/chat")
