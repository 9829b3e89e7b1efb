"""An alliance's tags follow the forum's rule (``fields.Tags``, ``text.clean_tags``): at most
five, each at most 30 characters after folding; a sixth is a 422, never silently dropped."""

from __future__ import annotations

import pytest

from tests.caller import Caller

SIX = ["设计", "报价", "合同", "摄影", "翻译", "剪辑"]
TOO_MANY = {"tags": ["Longer than maximum length 5."]}


def _call(client, auth_headers, member, method, path, status, **kwargs):
    """``tests/caller.py``'s call, answered in English."""
    caller, english = Caller(client, auth_headers), {"Accept-Language": "en"}
    return caller.call(member, method, path, status, headers=english, **kwargs)


def test_a_sixth_tag_is_refused_when_creating_and_when_changing(client, auth_headers, make_member):
    organiser = make_member(role="organiser")
    refused = _call(
        client, auth_headers, organiser, "POST", "/api/v1/alliances", 422,
        json={"name": "标签太多的联盟", "tags": SIX},
    )  # fmt: skip
    assert (refused["code"], refused["errors"]) == ("validation_error", TOO_MANY)
    made = _call(
        client, auth_headers, organiser, "POST", "/api/v1/alliances", 201,
        json={"name": "五个标签的联盟", "tags": SIX[:5]},
    )  # fmt: skip
    assert made["tags"] == SIX[:5]
    path = f"/api/v1/alliances/{made['id']}"
    refused = _call(client, auth_headers, organiser, "PATCH", path, 422, json={"tags": SIX})
    assert (refused["code"], refused["errors"]) == ("validation_error", TOO_MANY)
    assert _call(client, auth_headers, organiser, "GET", path, 200)["tags"] == SIX[:5]


def test_the_forum_answers_a_sixth_tag_in_the_same_words(client, auth_headers, make_member):
    organiser = make_member(role="organiser")
    category = _call(
        client, auth_headers, organiser, "POST", "/api/v1/forum/categories", 201,
        json={"name": "标签规则"},
    )  # fmt: skip
    forum = _call(
        client, auth_headers, organiser, "POST", "/api/v1/forum/threads", 422,
        json={"category_id": category["id"], "title": "标签太多的主题",
              "body": "这是一条足够长的内容。", "tags": SIX},
    )  # fmt: skip
    alliance = _call(
        client, auth_headers, organiser, "POST", "/api/v1/alliances", 422,
        json={"name": "标签太多的联盟", "tags": SIX},
    )  # fmt: skip
    assert forum["errors"] == alliance["errors"] == TOO_MANY


def test_the_stored_tags_are_checked_again_after_folding():
    """What reaches the services without the schema (the demo seeders) is held to the same
    bounds: more than five tags after folding is the same 422, not the first five."""
    from server.common.text import clean_tags
    from server.errors import DomainError

    assert clean_tags(["Design", "design", " 报价 ", "a", "b", "c"]) == [
        "design", "报价", "a", "b", "c",
    ]  # fmt: skip
    with pytest.raises(DomainError) as refused:
        clean_tags(SIX)
    assert (refused.value.code, refused.value.status) == ("validation_error", 422)
    assert refused.value.errors == TOO_MANY
