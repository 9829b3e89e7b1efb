"""Profiles, the directory, roles, export and deletion, over HTTP."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.erasure import all_text_in_database


def test_patch_me_changes_only_what_is_sent(client, make_member, auth_headers):
    member = make_member(display_name="陈默", city="成都")
    headers = auth_headers(member)
    changed = client.patch(
        "/api/v1/me",
        headers=headers,
        json={
            "bio": "拍川西的纪录短片。",
            "occupation_tags": ["video_creator", "new_media_creator", "video_creator"],
            "time_zone": "Asia/Hong_Kong",
            "username": "ChenMo",
        },
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["display_name"] == "陈默" and body["city"] == "成都"
    assert body["occupation_tags"] == ["new_media_creator", "video_creator"]
    assert body["username"] == "chenmo"
    assert body["time_zone"] == "Asia/Hong_Kong"
    assert client.get("/api/v1/me", headers=headers).get_json()["bio"] == "拍川西的纪录短片。"


def test_patch_me_rejects_bad_values_without_writing(client, make_member, auth_headers):
    member = make_member(display_name="王佳慧")
    headers = {**auth_headers(member), "Accept-Language": "zh-TW"}
    bad = client.patch(
        "/api/v1/me",
        headers=headers,
        json={
            "display_name": "新名字",
            "time_zone": "Mars/Olympus",
            "occupation_tags": ["astronaut"],
            "avatar_url": "javascript:alert(1)",
        },
    )
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]
    assert set(errors) == {"time_zone", "occupation_tags", "avatar_url"}
    assert errors["time_zone"] == ["不是有效的時區。"]
    assert bad.get_json()["message"] == "請求內容有誤。"
    assert client.get("/api/v1/me", headers=headers).get_json()["display_name"] == "王佳慧"


def test_username_conflicts(client, make_member, auth_headers):
    make_member(username="zhouxu")
    member = make_member()
    taken = client.patch("/api/v1/me", headers=auth_headers(member), json={"username": "ZhouXu"})
    assert taken.status_code == 409 and taken.get_json()["code"] == "username_taken"


def test_public_profile_never_shows_private_fields(client, make_member, auth_headers):
    viewer = make_member()
    target = make_member(display_name="黃詩婷", city="臺北", phone="+886 912 345 678")
    body = client.get(f"/api/v1/members/{target.id}", headers=auth_headers(viewer)).get_json()
    assert body["display_name"] == "黃詩婷" and body["city"] == "臺北"
    for private in ("email", "phone", "locale", "time_zone", "profile_visibility"):
        assert private not in body


def test_hidden_profile_shows_only_its_card_to_others(client, make_member, auth_headers):
    viewer, moderator = make_member(), make_member(role="moderator")
    hidden = make_member(display_name="孙丽", bio="写灵活就业者的故事", profile_visibility="hidden")
    seen = client.get(f"/api/v1/members/{hidden.id}", headers=auth_headers(viewer)).get_json()
    assert seen == {
        "id": hidden.id,
        "username": hidden.username,
        "display_name": "孙丽",
        "avatar_url": None,
    }
    staff = client.get(f"/api/v1/members/{hidden.id}", headers=auth_headers(moderator)).get_json()
    assert staff["bio"] == "写灵活就业者的故事"


def test_unknown_member_is_404(client, make_member, auth_headers):
    r = client.get("/api/v1/members/999999", headers=auth_headers(make_member()))
    assert r.status_code == 404 and r.get_json()["code"] == "member_not_found"


def test_directory_pages_by_cursor_and_filters(client, make_member, auth_headers):
    viewer = make_member(display_name="观察者")
    made = [
        make_member(display_name=f"设计师{i}", city="杭州", occupations=["designer"])
        for i in range(5)
    ]
    make_member(display_name="臺北攝影師", city="臺北", occupations=["photographer"])
    make_member(display_name="隐身者", profile_visibility="hidden")
    headers = auth_headers(viewer)

    seen, cursor = [], None
    while True:
        url = "/api/v1/members?limit=2&tag=designer" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers).get_json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [m.id for m in reversed(made)]  # newest first, each once

    # City and name match across Traditional and Simplified script.
    by_city = client.get("/api/v1/members?city=台北", headers=headers).get_json()["items"]
    assert [m["display_name"] for m in by_city] == ["臺北攝影師"]
    by_name = client.get("/api/v1/members?q=摄影", headers=headers).get_json()["items"]
    assert [m["display_name"] for m in by_name] == ["臺北攝影師"]
    everyone = client.get("/api/v1/members?limit=100", headers=headers).get_json()["items"]
    assert "隐身者" not in [m["display_name"] for m in everyone]
    assert all("email" not in m for m in everyone)


def test_directory_runs_a_constant_number_of_queries(
    client, make_member, auth_headers, count_queries
):
    headers = auth_headers(make_member())
    for i in range(30):
        make_member(display_name=f"成员{i}", occupations=["writer", "translator"])
    counts = []
    for limit in (1, 10, 30):
        with count_queries() as q:
            r = client.get(f"/api/v1/members?limit={limit}", headers=headers)
        assert r.status_code == 200 and len(r.get_json()["items"]) == limit
        counts.append(q.count)
    # the token check (session and member in one query) and the page: 2, whatever the size
    assert counts == [2, 2, 2]


def test_directory_rejects_bad_cursor_and_limit(client, make_member, auth_headers):
    headers = {**auth_headers(make_member()), "Accept-Language": "en"}
    for cursor in ("garbage", "eyJrIjoibWVtYmVycyIsInYiOlsieCJdfQ", "eyJrIjoib3RoZXIiLCJ2IjpbMV19"):
        r = client.get(f"/api/v1/members?cursor={cursor}", headers=headers)
        assert r.status_code == 400 and r.get_json()["code"] == "invalid_cursor", cursor
    for limit in ("0", "101", "x"):
        r = client.get(f"/api/v1/members?limit={limit}", headers=headers)
        assert r.status_code == 422 and "limit" in r.get_json()["errors"]


def test_only_admins_set_roles(client, make_member, auth_headers):
    admin, organiser, member = (
        make_member(role="admin"),
        make_member(role="organiser"),
        make_member(),
    )
    url = f"/api/v1/members/{member.id}/role"
    refused = client.put(url, headers=auth_headers(organiser), json={"role": "moderator"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    done = client.put(url, headers=auth_headers(admin), json={"role": "moderator"})
    assert done.status_code == 200 and done.get_json()["role"] == "moderator"
    own = client.put(
        f"/api/v1/members/{admin.id}/role", headers=auth_headers(admin), json={"role": "member"}
    )
    assert own.status_code == 409


def test_occupations_are_labelled_in_the_callers_language(client, make_member, auth_headers):
    headers = {**auth_headers(make_member()), "Accept-Language": "zh-HK"}
    tags = client.get("/api/v1/members/occupations", headers=headers).get_json()["items"]
    assert {"tag": "developer", "label": "程式設計師"} in tags


def test_consent_to_a_new_policy(client, app, make_member, auth_headers):
    headers = auth_headers(make_member())
    app.config["PRIVACY_POLICY_VERSION"] = "2027-01-01"
    try:
        stale = client.post(
            "/api/v1/me/privacy-consent",
            headers=headers,
            json={"privacy_policy_version": "2026-11-01"},
        )
        assert stale.status_code == 422
        ok = client.post(
            "/api/v1/me/privacy-consent",
            headers=headers,
            json={"privacy_policy_version": "2027-01-01"},
        )
        assert ok.status_code == 200 and ok.get_json()["privacy_policy_version"] == "2027-01-01"
    finally:
        app.config["PRIVACY_POLICY_VERSION"] = "2026-11-01"


def test_export_returns_what_the_member_gave(client, make_member, auth_headers):
    member = make_member(display_name="刘洋", city="上海", occupations=["consultant"], bio="财税")
    headers = auth_headers(member)
    client.patch("/api/v1/me", headers=headers, json={"phone": "+86 138 0000 0000"})
    export = client.get("/api/v1/me/export", headers=headers)
    assert export.status_code == 200
    data = export.get_json()
    assert data["member_id"] == member.id
    profile = data["sections"]["account"]["profile"]
    assert profile["email"] == member.email and profile["phone"] == "+86 138 0000 0000"
    assert profile["occupation_tags"] == ["consultant"]
    assert len(data["sections"]["sign_in"]["sessions"]) == 1


def test_export_shows_times_as_the_api_does(client, make_member, auth_headers):
    """One rule for times: the export, like every answer, speaks the member's own time zone."""
    import re

    member = make_member()
    headers = auth_headers(member)
    client.patch("/api/v1/me", headers=headers, json={"time_zone": "America/New_York"})
    data = client.get("/api/v1/me/export", headers=headers).get_json()
    stamps: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and re.fullmatch(
            r"\d{4}-\d\d-\d\dT[\d:.]+([+-]\d\d:\d\d|Z)", value
        ):
            stamps.append(value)

    walk(data)
    assert len(stamps) >= 3  # generated_at, the account's times, the session's
    offset = data["generated_at"][-6:]
    assert offset in {"-05:00", "-04:00"}  # New York's, winter or summer
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", s) for s in stamps)
    assert {s[-6:] for s in stamps} <= {"-05:00", "-04:00"}
    session = data["sections"]["sign_in"]["sessions"][0]
    assert session["created_at"][-6:] == offset


def test_delete_me_leaves_no_personal_data(client, app, make_member, auth_headers):
    other = make_member(display_name="旁观者")
    member = make_member(
        email="zhao.min@example.com",
        display_name="赵敏独有的名字",
        username="zhaominx",
        city="广州番禺",
        bio="经营一家手工皂网店 unique-bio-marker",
        occupations=["ecommerce"],
        phone="+86 139 1234 5678",
    )
    headers = auth_headers(member)
    client.post("/api/v1/auth/password-reset", json={"email": member.email})
    assert "zhao.min@example.com" in all_text_in_database(app)

    wrong = client.delete("/api/v1/me", headers=headers, json={"password": "not my password"})
    assert wrong.status_code == 403
    gone = client.delete("/api/v1/me", headers=headers, json={"password": PASSWORD})
    assert gone.status_code == 204

    everything = all_text_in_database(app)
    for personal in (
        "zhao.min@example.com",
        "赵敏独有的名字",
        "zhaominx",
        "广州番禺",
        "unique-bio-marker",
        "139 1234 5678",
        "$argon2",
    ):
        if personal == "$argon2":
            assert everything.count("$argon2") == 1  # only the other member's hash remains
        else:
            assert personal not in everything, personal
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    login = client.post("/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert login.status_code == 401
    assert (
        client.get(f"/api/v1/members/{member.id}", headers=auth_headers(other)).status_code == 404
    )
    # The address is free again.
    again = client.post(
        "/api/v1/auth/register",
        json={
            "email": "zhao.min@example.com",
            "password": PASSWORD,
            "display_name": "赵敏",
            "privacy_policy_version": "2026-11-01",
        },
    )
    assert again.status_code == 201


def test_cursor_values_out_of_range_are_invalid(client, make_member, auth_headers):
    import base64

    import orjson

    headers = auth_headers(make_member())
    for value in (2**63, -(2**40), 2**31):
        raw = orjson.dumps({"k": "members", "v": [value]})
        cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        r = client.get(f"/api/v1/members?cursor={cursor}", headers=headers)
        assert r.status_code == 400 and r.get_json()["code"] == "invalid_cursor"
