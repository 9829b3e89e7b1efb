"""Blocking members (POST/DELETE /members/{id}/block, GET /me/blocks), who may message me
(PATCH /me), and both in the export and the erasure of an account."""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from tests.conftest import PASSWORD


def _block(caller, headers, member_id, status=204):
    """Who ``headers`` sign in as blocks ``member_id``."""
    return caller.call(None, "POST", f"/api/v1/members/{member_id}/block", status, headers=headers)


def test_blocking_is_idempotent_and_refuses_oneself_and_nobody(
    caller, client, make_member, auth_headers
):
    me, other = make_member(), make_member()
    gone = make_member()
    headers = {**auth_headers(me), "Accept-Language": "zh-TW"}
    _block(caller, headers, other.id)
    _block(caller, headers, other.id)  # again: nothing changes
    body = _block(caller, headers, me.id, 422)
    assert (body["code"], body["message"]) == ("cannot_block_self", "不能封鎖自己。")
    body = _block(caller, headers, 2**31 - 1, 404)
    assert (body["code"], body["status"]) == ("member_not_found", 404)
    assert body["message"] == "找不到該成員。"
    r = client.delete("/api/v1/me", headers=auth_headers(gone), json={"password": PASSWORD})
    assert r.status_code == 204
    assert _block(caller, headers, gone.id, 404)["code"] == "member_not_found"
    assert client.post(f"/api/v1/members/{other.id}/block").status_code == 401
    items = client.get("/api/v1/me/blocks", headers=headers).get_json()["items"]
    assert [b["member"]["id"] for b in items] == [other.id]
    assert client.delete(f"/api/v1/members/{other.id}/block", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/members/{other.id}/block", headers=headers).status_code == 204
    assert client.get("/api/v1/me/blocks", headers=headers).get_json()["items"] == []
    # one's blocks are one's own: the other member's list is empty
    theirs = client.get("/api/v1/me/blocks", headers=auth_headers(other)).get_json()
    assert theirs == {"items": [], "next_cursor": None}


def test_the_block_list_pages_newest_first_in_one_query_a_page(
    caller, client, make_member, auth_headers, count_queries
):
    me = make_member()
    others = [make_member(display_name=f"被屏蔽{i}") for i in range(7)]
    headers = auth_headers(me)
    for other in others:
        _block(caller, headers, other.id)
    seen, cursor, counts = [], None, []
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        with count_queries() as q:
            page = client.get("/api/v1/me/blocks", headers=headers, query_string=query).get_json()
        counts.append(q.count)
        seen += [(b["member"]["id"], b["member"]["display_name"]) for b in page["items"]]
        assert all(b["blocked_at"] for b in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [(o.id, o.display_name) for o in reversed(others)]
    with count_queries() as q:
        everything = client.get("/api/v1/me/blocks", headers=headers, query_string={"limit": 100})
    assert everything.status_code == 200 and len(everything.get_json()["items"]) == 7
    assert len(set(counts)) == 1 and q.count == counts[0]
    assert q.count == 2  # the session, the page
    bad = client.get("/api/v1/me/blocks", headers=headers, query_string={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_cursor"


def test_who_may_message_me_is_a_setting_of_ones_own(client, make_member, auth_headers):
    me = make_member()
    headers = auth_headers(me)
    me_now = client.get("/api/v1/me", headers=headers).get_json()
    assert me_now["direct_messages_from"] == "everyone"
    setting = {"direct_messages_from": "alliances"}
    changed = client.patch("/api/v1/me", headers=headers, json=setting)
    assert changed.status_code == 200 and changed.get_json()["direct_messages_from"] == "alliances"
    bad = client.patch("/api/v1/me", headers=headers, json={"direct_messages_from": "friends"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"direct_messages_from"}
    # others never see it
    profile = client.get(f"/api/v1/members/{me.id}", headers=auth_headers(make_member()))
    assert "direct_messages_from" not in profile.get_json()


def test_blocks_are_exported_and_erased_with_the_account(
    caller, app, client, make_member, auth_headers
):
    from server.members.models import MemberBlock

    me, pest, other = make_member(), make_member(), make_member()
    _block(caller, auth_headers(me), pest.id)
    _block(caller, auth_headers(other), me.id)
    section = client.get("/api/v1/me/export", headers=auth_headers(me)).get_json()["sections"]
    assert [b["member_id"] for b in section["blocks"]["blocked"]] == [pest.id]
    assert section["account"]["profile"]["direct_messages_from"] == "everyone"
    r = client.delete("/api/v1/me", headers=auth_headers(me), json={"password": PASSWORD})
    assert r.status_code == 204
    with app.app_context():
        left = db.session.execute(
            sa.select(MemberBlock.member_id, MemberBlock.blocked_id).where(
                sa.or_(MemberBlock.member_id == me.id, MemberBlock.blocked_id == me.id)
            )
        ).all()
    assert left == []
