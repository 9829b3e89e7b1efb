"""Races, through the concurrency harness (``tests/concurrency.py``): the same request from
many clients at once, against several server processes on the pass's database. Each test checks
that no answer is a 5xx and that every counter matches the rows it counts."""

from __future__ import annotations

from tests.concurrency import Race

N = 8
BODY = "这是一条足够长的测试内容。"


def _no_5xx(answers: list) -> None:
    assert all(getattr(a, "status", 599) < 500 for a in answers), answers


def _thread(race: Race) -> tuple[int, int]:
    """A category, a thread by a member and its first post: (thread id, post id)."""
    _organiser, organiser = race.member("organiser", role="organiser")
    name = f"接单与定价{race.scalar('SELECT count(*) FROM forum_categories')}"
    category = race.call("POST", "/api/v1/forum/categories", {"name": name}, organiser)
    _author, token = race.member("author")
    thread = race.call("POST", "/api/v1/forum/threads",
                       {"category_id": category["id"], "title": "第一次接单怎么报价",
                        "body": BODY}, token)  # fmt: skip
    post = race.scalar("SELECT id FROM forum_posts WHERE thread_id = :t", t=thread["id"])
    return thread["id"], post


def test_forum_reactions_count_what_is_stored(race):
    thread_id, post_id = _thread(race)
    _me, token = race.member("liker")
    path = f"/api/v1/forum/posts/{post_id}/reactions/like"
    for _ in range(3):  # one after another: liking again changes nothing
        race.call("PUT", path, token=token)
    same = race.at_once(N, lambda _i: race.request("PUT", path, token=token))
    others = [race.member(f"liker{i}")[1] for i in range(N)]
    many = race.at_once(N, lambda i: race.request("PUT", path, token=others[i]))
    _no_5xx(same + many)
    assert race.statuses(same + many) == {200: 2 * N}
    rows = race.scalar("SELECT count(*) FROM forum_reactions WHERE post_id = :p", p=post_id)
    assert rows == N + 1
    assert race.scalar("SELECT reaction_count FROM forum_posts WHERE id = :p", p=post_id) == rows
    thread = race.rows("SELECT reaction_count, score FROM forum_threads WHERE id = :t", t=thread_id)
    assert thread == [(rows, rows)]  # no replies: the score is the reactions
    taken_back = race.at_once(N, lambda i: race.request("DELETE", path, token=others[i]))
    _no_5xx(taken_back)
    assert race.scalar("SELECT reaction_count FROM forum_posts WHERE id = :p", p=post_id) == 1


def test_chat_reactions_count_what_is_stored(race):
    a, a_token = race.member("chat_a")
    b, b_token = race.member("chat_b")
    conversation = race.call("POST", "/api/v1/chat/direct", {"member_ids": [b]}, a_token)
    message = race.call("POST", f"/api/v1/chat/conversations/{conversation['id']}/messages",
                        {"body": "周五见"}, a_token)  # fmt: skip
    path = f"/api/v1/chat/messages/{message['id']}/reactions/heart"
    answers = race.at_once(N, lambda i: race.request("PUT", path, token=(a_token, b_token)[i % 2]))
    _no_5xx(answers)
    assert race.statuses(answers) == {200: N}
    rows = race.rows("SELECT member_id FROM chat_reactions WHERE message_id = :m",
                     m=message["id"])  # fmt: skip
    assert sorted(r for (r,) in rows) == sorted([a, b])


def test_joining_at_once_counts_each_member_once(race):
    _owner, owner_token = race.member("owner")
    alliance = race.call("POST", "/api/v1/alliances", {"name": "同时加入"}, owner_token)
    path = f"/api/v1/alliances/{alliance['id']}/join"
    _me, token = race.member("joiner")
    same = race.at_once(N, lambda _i: race.request("POST", path, {}, token))
    others = [race.member(f"joiner{i}")[1] for i in range(N)]
    many = race.at_once(N, lambda i: race.request("POST", path, {}, others[i]))
    _no_5xx(same + many)
    assert race.statuses(many) == {200: N}
    assert set(race.statuses(same)) <= {200, 409}
    rows = race.scalar("SELECT count(*) FROM alliance_members WHERE alliance_id = :a",
                       a=alliance["id"])  # fmt: skip
    assert rows == N + 2  # the owner, the joiner once, the others
    assert race.scalar("SELECT member_count FROM alliances WHERE id = :a", a=alliance["id"]) == rows


def test_opening_the_same_direct_conversation_at_once_opens_one(race):
    _a, a_token = race.member("direct_a")
    b, _b_token = race.member("direct_b")
    answers = race.at_once(N, lambda _i: race.request("POST", "/api/v1/chat/direct",
                                                      {"member_ids": [b]}, a_token))  # fmt: skip
    _no_5xx(answers)
    assert race.statuses(answers) == {200: N}
    assert len({a.body["id"] for a in answers}) == 1
    members = race.scalar("SELECT count(*) FROM chat_conversation_members "
                          "WHERE conversation_id = :c", c=answers[0].body["id"])  # fmt: skip
    assert members == 2


def test_flagging_twice_at_once_counts_once(race):
    _thread_id, post_id = _thread(race)
    _me, token = race.member("flag_twice")
    path = f"/api/v1/forum/posts/{post_id}/flags"
    answers = race.at_once(N, lambda _i: race.request("POST", path, {"reason": "spam"}, token))
    _no_5xx(answers)
    assert race.statuses(answers) == {201: 1, 409: N - 1}
    assert race.scalar("SELECT count(*) FROM forum_flags WHERE post_id = :p", p=post_id) == 1


def test_flags_at_once_hide_the_post_once(race):
    _thread_id, post_id = _thread(race)
    path = f"/api/v1/forum/posts/{post_id}/flags"
    flaggers = [race.member(f"flagger{i}")[1] for i in range(N)]
    answers = race.at_once(N, lambda i: race.request("POST", path, {"reason": "spam"},
                                                     flaggers[i]))  # fmt: skip
    _no_5xx(answers)
    statuses = race.statuses(answers)
    assert set(statuses) <= {201, 404}  # once hidden, the post is gone for its flaggers
    threshold = 3  # FORUM_FLAG_THRESHOLD
    assert statuses[201] >= threshold
    flags = race.scalar("SELECT count(*) FROM forum_flags WHERE post_id = :p", p=post_id)
    assert flags == statuses[201]
    assert race.scalar("SELECT hidden_at IS NOT NULL FROM forum_posts WHERE id = :p", p=post_id)
    hides = race.scalar("SELECT count(*) FROM forum_moderation_log "
                        "WHERE target_id = :p AND action = 'auto_hide'", p=post_id)  # fmt: skip
    assert hides == 1


def test_an_invite_is_used_no_more_than_its_limit(race):
    _owner, owner_token = race.member("inviter")
    alliance = race.call("POST", "/api/v1/alliances",
                         {"name": "邀请制", "visibility": "secret"}, owner_token)  # fmt: skip
    invite = race.call("POST", f"/api/v1/alliances/{alliance['id']}/invites", {"max_uses": 3},
                       owner_token)  # fmt: skip
    guests = [race.member(f"guest{i}")[1] for i in range(N)]
    path = f"/api/v1/alliances/invites/{invite['code']}/accept"
    answers = race.at_once(N, lambda i: race.request("POST", path, None, guests[i]))
    _no_5xx(answers)
    assert race.statuses(answers).get(200) == 3
    assert race.scalar("SELECT uses FROM alliance_invites WHERE id = :i", i=invite["id"]) == 3
    rows = race.scalar("SELECT count(*) FROM alliance_members WHERE alliance_id = :a",
                       a=alliance["id"])  # fmt: skip
    assert rows == 4  # the owner and three guests


def test_a_refresh_token_is_spent_once(race):
    handle = f"refresher_{race.run}"
    tokens = race.call("POST", "/api/v1/auth/register", {
        "email": f"{handle}@example.com", "password": "refresh-race-2026", "display_name": handle,
        "username": handle, "privacy_policy_version": "2026-11-01",
    })  # fmt: skip
    refresh = tokens["refresh_token"]
    answers = race.at_once(N, lambda _i: race.request("POST", "/api/v1/auth/refresh",
                                                      token=refresh))  # fmt: skip
    _no_5xx(answers)
    assert race.statuses(answers).get(200, 0) <= 1
    refused = {a.body["code"] for a in answers if a.status == 401}
    assert refused <= {"refresh_token_reused", "token_revoked"}


def test_signing_up_twice_at_once_makes_one_account(race):
    handle = f"twice_{race.run}"
    body = {
        "email": f"{handle}@example.com",
        "password": "sign-up-race-2026",
        "display_name": handle,
        "username": handle,
        "privacy_policy_version": "2026-11-01",
    }
    answers = race.at_once(N, lambda _i: race.request("POST", "/api/v1/auth/register", body))
    _no_5xx(answers)
    assert race.statuses(answers) == {201: 1, 409: N - 1}
    assert race.scalar("SELECT count(*) FROM members WHERE email = :e", e=body["email"]) == 1


def test_saving_preferences_from_two_devices_at_once(race):
    """Get-or-create under a unique key (preferences per kind, quiet hours per member)."""
    me, token = race.member("prefs")
    bodies = [
        {"kinds": [{"kind": "forum.reply", "push": i % 2 == 0}],
         "quiet_hours": {"start": "23:00", "end": f"0{i % 8}:00"}}
        for i in range(N)
    ]  # fmt: skip
    answers = race.at_once(N, lambda i: race.request("PATCH", "/api/v1/notifications/preferences",
                                                     bodies[i], token))  # fmt: skip
    _no_5xx(answers)
    assert race.statuses(answers) == {200: N}
    assert race.scalar("SELECT count(*) FROM notification_preferences WHERE member_id = :m "
                       "AND kind = 'forum.reply'", m=me) == 1  # fmt: skip
    assert race.scalar("SELECT count(*) FROM notification_quiet_hours WHERE member_id = :m",
                       m=me) == 1  # fmt: skip


def test_a_message_sent_eight_times_at_once_with_one_client_id_is_one_message(race):
    _a, a_token = race.member("resend_a")
    b, _b_token = race.member("resend_b")
    conversation = race.call("POST", "/api/v1/chat/direct", {"member_ids": [b]}, a_token)
    path = f"/api/v1/chat/conversations/{conversation['id']}/messages"
    body = {"body": "地铁里信号不好", "client_id": f"retry-{race.run}"}
    answers = race.at_once(N, lambda _i: race.request("POST", path, body, a_token))
    _no_5xx(answers)
    assert race.statuses(answers) == {201: N}
    assert len({a.body["id"] for a in answers}) == 1
    rows = race.scalar("SELECT count(*) FROM chat_messages WHERE conversation_id = :c",
                       c=conversation["id"])  # fmt: skip
    assert rows == 1
