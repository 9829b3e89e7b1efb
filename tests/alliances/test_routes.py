"""Alliances: visibility, join flows, invites, roles, bans, and the member directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from server.alliances.models import AllianceInvite
from server.common.time import utcnow
from server.extensions import db
from tests.alliances.helpers import make_alliance


def test_creating_is_for_organisers_and_the_creator_owns_it(api, organiser, make_member, app):
    member = make_member()
    assert api.call(member, "POST", "", 403, json={"name": "成员想建联盟"})["code"] == "forbidden"
    made = make_alliance(api, organiser, tags=["设计", "Design"], description="一起接单，一起成长")
    assert (made["my_role"], made["member_count"], made["can_manage"]) == ("owner", 1, True)
    assert made["tags"] == ["设计", "design"]
    app.config["ALLIANCE_CREATORS"] = "members"
    try:
        assert (
            api.call(member, "POST", "", 201, json={"name": "成员自己的联盟"})["my_role"] == "owner"
        )
    finally:
        app.config["ALLIANCE_CREATORS"] = "organisers"


@dataclass(frozen=True)
class Visibilities:
    """The organiser's three alliances, one of each visibility."""

    public: dict[str, Any]
    private: dict[str, Any]
    secret: dict[str, Any]


@pytest.fixture
def visibilities(api, organiser):
    return Visibilities(
        public=make_alliance(api, organiser, "公开联盟"),
        private=make_alliance(api, organiser, "私密联盟", visibility="private"),
        secret=make_alliance(api, organiser, "秘密联盟", visibility="secret"),
    )


def test_a_secret_alliance_is_neither_listed_nor_found(api, make_member, visibilities):
    a = make_member(display_name="甲")
    listed = [x["name"] for x in api.call(a, "GET", "", 200)["items"]]
    assert listed == ["私密联盟", "公开联盟"]  # never the secret one
    api.call(a, "GET", f"/{visibilities.secret['id']}", 404)
    api.call(a, "POST", f"/{visibilities.secret['id']}/join", 404, json={})


def test_a_public_alliance_is_joined_at_once(api, make_member, visibilities):
    a = make_member(display_name="甲")
    public = visibilities.public
    joined = api.call(a, "POST", f"/{public['id']}/join", 200, json={})
    assert (joined["my_role"], joined["member_count"]) == ("member", 2)
    assert (
        api.call(a, "POST", f"/{public['id']}/join", 409, json={})["code"]
        == "alliance_already_member"
    )


def test_a_private_alliance_takes_a_request_its_owner_decides(
    api, organiser, make_member, visibilities
):
    """The members list stays closed meanwhile; the owner hears of the request, the member of
    the decision."""
    a, b = make_member(display_name="甲"), make_member(display_name="乙")
    private = visibilities.private
    api.call(a, "POST", f"/{visibilities.public['id']}/join", 200, json={})
    asked = api.call(a, "POST", f"/{private['id']}/join", 200, json={"message": "我是设计师"})
    assert (asked["my_role"], asked["request_status"]) == (None, "pending")
    assert (
        api.call(a, "POST", f"/{private['id']}/join", 409, json={})["code"]
        == "alliance_request_pending"
    )
    api.call(a, "GET", f"/{private['id']}/members", 403)
    api.call(a, "GET", f"/{private['id']}/requests", 403)
    inbox = api.at("/api/v1").call(organiser, "GET", "/notifications", 200)["items"]
    assert inbox[0]["kind"] == "alliance.join_request" and inbox[0]["title"] == "私密联盟"
    requests = api.call(organiser, "GET", f"/{private['id']}/requests", 200)["items"]
    assert [(r["member"]["id"], r["message"]) for r in requests] == [(a.id, "我是设计师")]
    decide = f"/{private['id']}/requests/{requests[0]['id']}"
    api.call(b, "POST", decide, 403, json={"decision": "approve"})
    api.call(organiser, "POST", decide, 204, json={"decision": "approve"})
    assert api.call(a, "GET", f"/{private['id']}", 200)["my_role"] == "member"
    told = api.at("/api/v1").call(a, "GET", "/notifications", 200)["items"]
    assert told[0]["kind"] == "alliance.request_decided" and "通过" in told[0]["body"]
    mine = [x["name"] for x in api.call(a, "GET", "", 200, query_string={"scope": "mine"})["items"]]
    assert mine == ["私密联盟", "公开联盟"]


def test_a_rejected_member_may_ask_again(api, organiser, make_member, visibilities):
    b = make_member(display_name="乙")
    private = visibilities.private
    api.call(b, "POST", f"/{private['id']}/join", 200, json={})
    [req] = api.call(organiser, "GET", f"/{private['id']}/requests", 200)["items"]
    api.call(organiser, "POST", f"/{private['id']}/requests/{req['id']}", 204,
             json={"decision": "reject"})  # fmt: skip
    assert api.call(b, "GET", f"/{private['id']}", 200)["request_status"] == "rejected"
    assert (
        api.call(b, "POST", f"/{private['id']}/join", 200, json={})["request_status"] == "pending"
    )


def test_invite_links_expire_run_out_and_can_be_revoked(api, organiser, make_member, app):
    secret = make_alliance(api, organiser, "秘密联盟", visibility="secret")
    a, b, c, outsider = (make_member() for _ in range(4))
    api.call(outsider, "POST", f"/{secret['id']}/invites", 404, json={})
    link = api.call(organiser, "POST", f"/{secret['id']}/invites", 201, json={"max_uses": 2})
    code = link["code"]
    assert api.call(a, "POST", f"/invites/{code}/accept", 200)["my_role"] == "member"
    api.call(a, "POST", f"/invites/{code}/accept", 409)
    api.call(b, "POST", f"/invites/{code}/accept", 200)
    assert (
        api.call(c, "POST", f"/invites/{code}/accept", 404)["code"] == "alliance_invite_not_found"
    )
    listed = api.call(organiser, "GET", f"/{secret['id']}/invites", 200)["items"]
    assert listed[0]["uses"] == 2 and "code" not in listed[0]
    second = api.call(
        organiser, "POST", f"/{secret['id']}/invites", 201, json={"expires_in_hours": 1}
    )
    api.call(organiser, "DELETE", f"/{secret['id']}/invites/{second['id']}", 204)
    api.call(c, "POST", f"/invites/{second['code']}/accept", 404)
    third = api.call(organiser, "POST", f"/{secret['id']}/invites", 201, json={})
    with app.app_context():
        db.session.get(AllianceInvite, third["id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    api.call(c, "POST", f"/invites/{third['code']}/accept", 404)
    api.call(c, "POST", "/invites/" + "x" * 24 + "/accept", 404)


def test_roles_removal_and_bans(api, organiser, make_member):
    alliance = make_alliance(api, organiser)
    aid = alliance["id"]
    admin, member, other = make_member(), make_member(), make_member()
    for m in (admin, member, other):
        api.call(m, "POST", f"/{aid}/join", 200, json={})
    api.call(admin, "PATCH", f"/{aid}/members/{member.id}", 403, json={"role": "admin"})
    api.call(organiser, "PATCH", f"/{aid}/members/{admin.id}", 200, json={"role": "admin"})
    api.call(member, "PATCH", f"/{aid}", 403, json={"name": "改名"})
    assert api.call(admin, "PATCH", f"/{aid}", 200, json={"description": "新的介绍"})["can_manage"]
    # admins remove members, not the owner; nobody removes the owner
    api.call(admin, "DELETE", f"/{aid}/members/{organiser.id}", 403)
    api.call(member, "DELETE", f"/{aid}/members/{other.id}", 403)
    api.call(admin, "DELETE", f"/{aid}/members/{other.id}", 204)
    # a ban removes and keeps out
    api.call(admin, "POST", f"/{aid}/bans", 204, json={"member_id": member.id, "reason": "发广告"})
    assert api.call(member, "POST", f"/{aid}/join", 403, json={})["code"] == "alliance_banned"
    api.call(admin, "DELETE", f"/{aid}/bans/{member.id}", 204)
    api.call(member, "POST", f"/{aid}/join", 200, json={})
    # the owner leaves only after handing over
    assert (
        api.call(organiser, "POST", f"/{aid}/leave", 409)["code"] == "alliance_owner_must_transfer"
    )
    handed = api.call(organiser, "PATCH", f"/{aid}/members/{admin.id}", 200, json={"role": "owner"})
    assert handed["my_role"] == "admin"
    api.call(organiser, "POST", f"/{aid}/leave", 204)
    api.call(member, "POST", f"/{aid}/leave", 204)
    assert api.call(admin, "GET", f"/{aid}", 200)["member_count"] == 1


@dataclass(frozen=True)
class Directory:
    alliance_id: int
    people: list[Any]  # who joined it: 林晓雨, 陳默, 王佳慧, 林默, then 成员0 … 成员19


@pytest.fixture
def directory(api, organiser, make_member):
    """The organiser's alliance in 杭州, with 24 members besides its owner."""
    aid = make_alliance(api, organiser)["id"]
    people = [make_member(display_name=name) for name in ("林晓雨", "陳默", "王佳慧", "林默")]
    people += [make_member(display_name=f"成员{i}") for i in range(20)]
    for m in people:
        api.call(m, "POST", f"/{aid}/join", 200, json={})
    return Directory(alliance_id=aid, people=people)


def _eight_more_alliances(api, organiser):
    """联盟0 … 联盟7: the odd ones in 成都, the rest in 杭州; the first three tagged 设计."""
    for i in range(8):
        make_alliance(
            api,
            organiser,
            f"联盟{i}",
            city="成都" if i % 2 else "杭州",
            tags=["设计"] if i < 3 else [],
        )


def test_the_member_directory_finds_names_in_either_script(api, directory):
    reader, members = directory.people[0], f"/{directory.alliance_id}/members"
    names = [x["member"]["display_name"] for x in api.call(reader, "GET", members, 200,
             query_string={"q": "林"})["items"]]  # fmt: skip
    assert names == ["林晓雨", "林默"]
    assert [x["member"]["display_name"] for x in api.call(reader, "GET", members, 200,
            query_string={"q": "陈默"})["items"]] == ["陳默"]  # fmt: skip


def test_the_member_directory_runs_the_same_queries_whatever_its_size(
    client, auth_headers, count_queries, directory
):
    headers = auth_headers(directory.people[0])
    counts = []
    for limit in (3, 25):
        with count_queries() as q:
            r = client.get(
                f"/api/v1/alliances/{directory.alliance_id}/members",
                headers=headers,
                query_string={"limit": limit},
            )
        assert len(r.get_json()["items"]) == limit
        counts.append(q.count)
    assert counts[0] == counts[1]
    assert counts[1] == 4  # the session, the alliance, the caller's role, the page


def test_the_alliance_list_runs_the_same_queries_whatever_its_size(
    api, organiser, client, auth_headers, count_queries, directory
):
    _eight_more_alliances(api, organiser)
    headers = auth_headers(directory.people[0])
    counts = []
    for limit in (2, 9):
        with count_queries() as q:
            r = client.get("/api/v1/alliances", headers=headers, query_string={"limit": limit})
        assert r.status_code == 200 and len(r.get_json()["items"]) == limit  # 9 alliances
        counts.append(q.count)
    assert counts[0] == counts[1]
    assert counts[1] == 2  # the session, the page


def test_alliances_are_found_by_city_and_by_tag(api, organiser, directory):
    _eight_more_alliances(api, organiser)
    reader = directory.people[0]
    by_city = api.call(reader, "GET", "", 200, query_string={"city": "成都", "limit": 100})["items"]
    assert sorted(x["name"] for x in by_city) == ["联盟1", "联盟3", "联盟5", "联盟7"]
    tagged = api.call(reader, "GET", "", 200, query_string={"tag": "设计"})["items"]
    assert sorted(x["name"] for x in tagged) == ["联盟0", "联盟1", "联盟2"]


def test_export_and_erasure(api, organiser, make_member, client, auth_headers):
    from tests.conftest import PASSWORD

    owner, admin, member = make_member(), make_member(), make_member()
    api.call(organiser, "POST", "", 201, json={"name": "交接联盟"})
    aid = api.call(organiser, "GET", "", 200)["items"][0]["id"]
    for m in (owner, admin, member):
        api.call(m, "POST", f"/{aid}/join", 200, json={})
    api.call(organiser, "PATCH", f"/{aid}/members/{owner.id}", 200, json={"role": "owner"})
    api.call(owner, "PATCH", f"/{aid}/members/{admin.id}", 200, json={"role": "admin"})
    private = api.call(organiser, "POST", "", 201, json={"name": "私密", "visibility": "private"})
    api.call(owner, "POST", f"/{private['id']}/join", 200, json={"message": "想加入的理由"})
    data = client.get("/api/v1/me/export", headers=auth_headers(owner)).get_json()["sections"]
    section = data["alliances"]
    assert [(m["name"], m["role"]) for m in section["memberships"]] == [("交接联盟", "owner")]
    assert section["join_requests"][0]["message"] == "想加入的理由"
    r = client.delete("/api/v1/me", headers=auth_headers(owner), json={"password": PASSWORD})
    assert r.status_code == 204
    after = api.call(organiser, "GET", f"/{aid}", 200)
    # the longest-serving admin (the organiser, admin since the hand-over) took over
    assert (after["my_role"], after["member_count"]) == ("owner", 3)
    assert api.call(admin, "GET", f"/{aid}", 200)["my_role"] == "admin"
    assert api.call(organiser, "GET", f"/{private['id']}/requests", 200)["items"] == []


def test_tags_are_checked_after_folding(api, organiser):
    body = api.call(organiser, "POST", "", 422, json={"name": "标签联盟", "tags": ["İ" * 30]})
    assert body["code"] == "validation_error" and "tags" in body["errors"]
