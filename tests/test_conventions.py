"""One way to do each thing (issue #14): every paginated list is ``list_<noun>(member, *, …,
limit, cursor)`` over the shared ``PageArgs``, its cursor named ``<feature>.<list>``; lists that
used to stop silently at 100 page instead; a feature answers with its own codes; a field that
an action requires is required by the schema, not rebuilt in the service."""

from __future__ import annotations

import ast
import base64
import importlib
import re
from pathlib import Path
from typing import Any

import marshmallow as ma
import orjson

from tests.caller import Caller

ROOT = Path(__file__).parent.parent
SERVER = ROOT / "server"
FEATURES = ("alliances", "auth", "chat", "forum", "media", "members", "notifications")
BODY = "这是一条足够长的测试内容。"


def _call(client, auth_headers, member, method, path, status, *, lang="zh-Hans", **kwargs):
    """``tests/caller.py``'s call, answered in ``lang``."""
    caller, language = Caller(client, auth_headers), {"Accept-Language": lang}
    return caller.call(member, method, path, status, headers=language, **kwargs)


def _keyset_calls() -> list[tuple[Path, ast.FunctionDef, ast.Call]]:
    """Every ``keyset_page(...)`` in a feature, with the function that calls it."""
    found = []
    for feature in FEATURES:
        for path in (SERVER / feature).rglob("*.py"):
            for fn in ast.walk(ast.parse(path.read_text())):
                if not isinstance(fn, ast.FunctionDef):
                    continue
                for node in ast.walk(fn):
                    if (
                        isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Name)
                        and node.func.id == "keyset_page"
                    ):
                        found.append((path, fn, node))
    return found


def test_every_paginated_list_has_the_one_signature():
    calls = _keyset_calls()
    assert len(calls) >= 14  # the scan found the features' lists
    for path, fn, _call_node in calls:
        where = f"{path.relative_to(ROOT)}:{fn.name}"
        # the one exception in name: search is a list of results, named for what it does
        assert fn.name.startswith("list_") or fn.name == "search_posts", where
        assert fn.args.args[0].arg == "member", where
        assert [a.arg for a in fn.args.kwonlyargs][-2:] == ["limit", "cursor"], where


def test_every_cursor_is_named_feature_dot_list():
    """Also where the name carries the list's order (``forum.threads.top.f``) or scope
    (``alliances.mine``): a cursor of one order or scope is refused by another."""
    names = set()
    for path, fn, node in _keyset_calls():
        feature = path.relative_to(SERVER).parts[0]
        (name,) = [k.value for k in node.keywords if k.arg == "name"]
        where = f"{path.relative_to(ROOT)}:{fn.name}"
        if isinstance(name, ast.Constant):
            assert re.fullmatch(rf"{feature}\.[a-z_]+", name.value), (where, name.value)
            names.add(name.value)
        else:  # an f-string: its fixed part names the feature and the list
            assert isinstance(name, ast.JoinedStr), where
            head = name.values[0]
            assert isinstance(head, ast.Constant), where
            assert re.fullmatch(rf"{feature}\.([a-z_]+\.)?", head.value), (where, head.value)
            names.add(head.value + "…")
    assert len(names) == len(_keyset_calls())  # no two lists share a name


def test_every_list_argument_schema_extends_page_args(app):
    from server.common.pagination import PageArgs

    seen = 0
    for feature in FEATURES:
        module = importlib.import_module(f"server.{feature}.schemas")
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, ma.Schema)):
                continue
            fields = value._declared_fields
            if "limit" in fields or "cursor" in fields:
                seen += 1
                assert issubclass(value, PageArgs), value
                assert fields["limit"] is PageArgs._declared_fields["limit"], value
    assert seen >= 7


def _cursor(name: str, values: list[Any]) -> str:
    raw = orjson.dumps({"k": name, "v": values})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_cursors_of_the_old_names_are_refused(client, make_member, auth_headers):
    member = make_member()
    directory = "/api/v1/members"
    ok = _call(client, auth_headers, member, "GET", directory, 200,
               query_string={"cursor": _cursor("members.directory", [2**31 - 1])})  # fmt: skip
    assert member.id in {m["id"] for m in ok["items"]}
    for cursor in (_cursor("members", [2**31 - 1]), _cursor("members.directory", [2**31])):
        body = _call(client, auth_headers, member, "GET", directory, 400,
                     query_string={"cursor": cursor})  # fmt: skip
        assert body["code"] == "invalid_cursor"
    inbox = "/api/v1/notifications"
    when = {"t": "2024-01-01T00:00:00+00:00"}
    for old in ("inbox", "inbox-unread"):
        query = {"cursor": _cursor(old, [when, 1])}
        body = _call(client, auth_headers, member, "GET", inbox, 400, query_string=query)
        assert body["code"] == "invalid_cursor"


def test_the_inbox_takes_the_shared_page_arguments(client, make_member, auth_headers):
    member = make_member()
    for limit in ("0", "101"):
        body = _call(client, auth_headers, member, "GET", "/api/v1/notifications", 422,
                     query_string={"limit": limit})  # fmt: skip
        assert "limit" in body["errors"]


# --- lists that used to stop silently at 100 ------------------------------------------------


def _pages(client, auth_headers, member, path):
    """Every page of a list at limit=2: the ids of each page."""
    pages, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _call(client, auth_headers, member, "GET", path, 200, query_string=query)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def _thread(client, auth_headers, organiser, author, title):
    """A new category (by ``organiser``) with one thread by ``author``."""
    forum = "/api/v1/forum"
    category = _call(client, auth_headers, organiser, "POST", f"{forum}/categories", 201,
                     json={"name": title})  # fmt: skip
    data = {"category_id": category["id"], "title": title, "body": BODY}
    return _call(client, auth_headers, author, "POST", f"{forum}/threads", 201, json=data)


def test_revisions_page_by_cursor(client, make_member, auth_headers):
    organiser, author = make_member(role="organiser"), make_member()
    forum = "/api/v1/forum"
    thread = _thread(client, auth_headers, organiser, author, "修订分页测试")
    posts = _call(client, auth_headers, author, "GET", f"{forum}/threads/{thread['id']}/posts", 200)
    post_id = posts["items"][0]["id"]
    for n in range(3):
        _call(client, auth_headers, author, "PATCH", f"{forum}/posts/{post_id}", 200,
              json={"body": f"{BODY}第{n + 2}版"})  # fmt: skip
    pages = _pages(client, auth_headers, author, f"{forum}/posts/{post_id}/revisions")
    assert [[r["version"] for r in page] for page in pages] == [[3, 2], [1]]


def test_invites_page_by_cursor(client, make_member, auth_headers):
    owner = make_member(role="organiser")
    alliances = "/api/v1/alliances"
    aid = _call(client, auth_headers, owner, "POST", alliances, 201, json={"name": "邀请分页"})[
        "id"
    ]
    made = [
        _call(client, auth_headers, owner, "POST", f"{alliances}/{aid}/invites", 201, json={})["id"]
        for _ in range(3)
    ]
    pages = _pages(client, auth_headers, owner, f"{alliances}/{aid}/invites")
    assert [[i["id"] for i in page] for page in pages] == [made[::-1][:2], made[:1]]


# --- a feature's own codes ------------------------------------------------------------------


def test_banning_no_such_member_is_the_alliances_own_404(client, make_member, auth_headers):
    owner = make_member(role="organiser")
    alliances = "/api/v1/alliances"
    aid = _call(client, auth_headers, owner, "POST", alliances, 201, json={"name": "禁止测试"})[
        "id"
    ]
    for lang, message in (("zh-Hans", "找不到要禁止的用户。"), ("zh-Hant", "找不到要禁止的用戶。"),
                          ("en", "There is no such person to ban.")):  # fmt: skip
        body = _call(client, auth_headers, owner, "POST", f"{alliances}/{aid}/bans", 404,
                     lang=lang, json={"member_id": 2**31 - 1})  # fmt: skip
        assert (body["code"], body["message"]) == ("alliance_ban_target_not_found", message)


def test_silencing_no_such_member_is_the_members_own_404(client, make_member, auth_headers):
    """The forum asks the members' service for the member: its code, not one the forum
    copies."""
    moderator = make_member(role="moderator")
    body = _call(client, auth_headers, moderator, "POST",
                 f"/api/v1/forum/members/{2**31 - 1}/moderation", 404,
                 json={"action": "silence", "hours": 1})  # fmt: skip
    assert body["code"] == "member_not_found"


# --- a field an action requires is the schema's -------------------------------------------


def test_fields_an_action_requires_are_required_by_the_schema(client, make_member, auth_headers):
    organiser, moderator = make_member(role="organiser"), make_member(role="moderator")
    target = make_member()
    forum = "/api/v1/forum"
    thread = _thread(client, auth_headers, organiser, target, "必填字段测试")
    cases = [
        (f"{forum}/threads/{thread['id']}/moderation", {"action": "move"}, "category_id"),
        (f"{forum}/members/{target.id}/moderation", {"action": "silence"}, "hours"),
    ]
    for path, data, field in cases:
        for lang, text in (("zh-Hans", "必填。"), ("en", "Missing data for required field.")):
            body = _call(client, auth_headers, moderator, "POST", path, 422, lang=lang, json=data)
            assert body["code"] == "validation_error"
            assert body["errors"] == {field: [text]}
    # other actions need neither; the rules still come after the body is valid
    _call(client, auth_headers, moderator, "POST", f"{forum}/threads/{thread['id']}/moderation",
          200, json={"action": "lock"})  # fmt: skip
    _call(client, auth_headers, moderator, "POST", f"{forum}/members/{target.id}/moderation",
          409, json={"action": "unsilence"})  # fmt: skip
