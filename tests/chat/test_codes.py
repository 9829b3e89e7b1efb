"""Each chat error code means one HTTP status wherever it is raised (issue #14): following is
403 ``chat_not_joined`` for every verb that needs it, leaving what one does not follow is 409
``chat_not_following``, and a reply to no message of the conversation is 422
``chat_reply_to_invalid`` (the conversation in the URL exists)."""

from __future__ import annotations


def test_a_reader_who_has_not_joined_is_403_chat_not_joined_everywhere(chat, make_member, world):
    lurker = make_member()
    chat.call(lurker, "POST", f"/api/v1/alliances/{world.alliance_id}/join", 200, json={})
    url = f"/api/v1/chat/conversations/{world.channel}"
    chat.call(lurker, "GET", f"{url}/messages", 200)  # a public channel: readable
    sent = chat.call(lurker, "POST", f"{url}/messages", 403, json={"body": "你好"})
    read = chat.call(lurker, "POST", f"{url}/read", 403, json={"message_id": 1})
    receipts = chat.call(lurker, "GET", f"{url}/receipts", 403)
    assert {b["code"] for b in (sent, read, receipts)} == {"chat_not_joined"}
    left = chat.call(lurker, "POST", f"{url}/leave", 409)
    assert left["code"] == "chat_not_following"
    chat.call(world.owner, "POST", f"{url}/leave", 204)
    assert chat.call(world.owner, "POST", f"{url}/leave", 409)["code"] == "chat_not_following"


def test_a_reply_to_no_message_of_the_conversation_is_422(chat, make_member, world):
    other = chat.call(world.owner, "POST", "/api/v1/chat/channels", 201,
                      json={"alliance_id": world.alliance_id, "name": "别处"})["id"]  # fmt: skip
    elsewhere = chat.call(world.owner, "POST", f"/api/v1/chat/conversations/{other}/messages", 201,
                          json={"body": "别处的消息"})  # fmt: skip
    url = f"/api/v1/chat/conversations/{world.channel}/messages"
    for target in (elsewhere["id"], 2**31 - 1):
        body = chat.call(
            world.member, "POST", url, 422, json={"body": "回复", "reply_to_id": target}
        )
        assert (body["code"], body["status"]) == ("chat_reply_to_invalid", 422)
    here = chat.call(world.owner, "POST", url, 201, json={"body": "这里"})
    chat.call(world.member, "POST", url, 201, json={"body": "回复", "reply_to_id": here["id"]})


def test_muting_someone_outside_the_alliance_is_chat_s_own_404(chat, make_member, world):
    outsider = make_member()
    body = chat.call(world.owner, "POST", f"/api/v1/chat/alliances/{world.alliance_id}/mutes", 404,
                     json={"member_id": outsider.id, "hours": 1})  # fmt: skip
    assert body["code"] == "chat_mute_member_not_found"
