"""Categories: one level of nesting, ordered, managed by organisers."""

from __future__ import annotations


def test_categories_nest_one_level_in_order(forum, organiser, make_member):
    member = make_member()
    city = forum.category(organiser, "城市生活", position=2)
    money = forum.category(organiser, "接单与定价", position=1, description="报价与合同")
    forum.category(organiser, "成都", parent_id=city["id"], position=2)
    forum.category(organiser, "杭州", parent_id=city["id"], position=1)
    tree = forum.call(member, "GET", "/categories", 200)["items"]
    assert [c["name"] for c in tree] == ["接单与定价", "城市生活"]
    assert [c["name"] for c in tree[1]["subcategories"]] == ["杭州", "成都"]
    assert tree[0]["description"] == "报价与合同"
    hangzhou = tree[1]["subcategories"][0]
    body = forum.call(organiser, "POST", "/categories", 422,
                      json={"name": "西湖区", "parent_id": hangzhou["id"]})  # fmt: skip
    assert body["code"] == "forum_category_too_deep"
    body = forum.call(organiser, "PATCH", f"/categories/{city['id']}", 422,
                      json={"parent_id": money["id"]})  # fmt: skip
    assert body["code"] == "forum_category_too_deep"  # it has children of its own
    assert forum.call(organiser, "POST", "/categories", 409, json={"name": "城市生活"})["code"] == (
        "forum_category_exists"
    )
    detail = forum.call(member, "GET", f"/categories/{city['id']}", 200)
    assert [c["name"] for c in detail["subcategories"]] == ["杭州", "成都"]


def test_group_categories_need_a_group_and_empty_ones_can_go(forum, organiser, make_member):
    body = forum.call(organiser, "POST", "/categories", 422,
                      json={"name": "小组版块", "post_policy": "group"})  # fmt: skip
    assert body["code"] == "forum_group_required"
    used = forum.category(organiser, "有主题的版块")
    forum.thread(make_member(), used["id"])
    assert forum.call(organiser, "DELETE", f"/categories/{used['id']}", 409)["code"] == (
        "forum_category_not_empty"
    )
    empty = forum.category(organiser, "空版块")
    forum.call(organiser, "DELETE", f"/categories/{empty['id']}", 204)
    forum.call(organiser, "GET", f"/categories/{empty['id']}", 404)
    renamed = forum.call(organiser, "PATCH", f"/categories/{used['id']}", 200,
                         json={"name": "改名后的版块", "read_only": True})  # fmt: skip
    assert (renamed["name"], renamed["read_only"], renamed["thread_count"]) == (
        "改名后的版块",
        True,
        1,
    )


def test_unknown_categories_are_404(forum, make_member):
    member = make_member()
    forum.call(member, "GET", "/categories/999999", 404)
    body = forum.call(
        member,
        "POST",
        "/threads",
        404,
        json={"category_id": 999999, "title": "不存在的版块", "body": "这是一条足够长的内容。"},
    )
    assert body["code"] == "forum_category_not_found"
    assert forum.call(member, "GET", "/threads", 404, query_string={"category_id": 999999})[
        "code"
    ] == ("forum_category_not_found")
