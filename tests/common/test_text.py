"""Markdown rendering is safe; mentions are found where a reader would see them."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from server.common.text import (
    extract_mentions,
    mentions_in,
    plain_text,
    render_markdown,
    sanitize_html,
)


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[点我](javascript:alert(1))",
        "![x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
        '<svg onload="alert(1)">',
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<style>body{display:none}</style>",
    ],
)
def test_rendered_markdown_carries_no_script(hostile):
    """Parse what we render as a browser would: no active element, handler or script URL."""
    elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            elements.append((tag, attrs))

    Collect().feed(render_markdown(hostile))
    for tag, attrs in elements:
        assert tag not in {"script", "iframe", "svg", "style", "object", "embed"}
        for name, value in attrs:
            assert not name.startswith("on")
            if name in {"href", "src"}:
                assert (value or "").startswith(("http://", "https://", "mailto:")), value


def test_markdown_renders_the_usual_things():
    html = render_markdown("**加粗** 和 `代码`\n\n- 一\n- 二\n\n[链接](https://example.com)")
    assert "<strong>加粗</strong>" in html and "<code>代码</code>" in html
    assert "<li>一</li>" in html
    assert 'href="https://example.com"' in html and 'rel="nofollow noopener ugc"' in html


def test_sanitize_html_keeps_allowed_tags_only():
    assert sanitize_html('<p onclick="x()">好</p><script>x</script>') == "<p>好</p>"


def test_mentions_in_chinese_text_but_not_in_code_links_or_emails():
    text = (
        "请@alice 和@Bob_2看看，邮件发到 carol@example.com。\n\n"
        "`@dave` 不算\n\n```\n@erin\n```\n\n[@frank](https://example.com) 也不算，@alice 重复"
    )
    assert extract_mentions(text) == ["alice", "bob_2"]


def test_plain_text_for_search():
    assert plain_text("# 标题\n\n**网络**安全 `code`") == "标题 网络 安全 code"


def test_resolved_mentions_become_links_a_client_recognises():
    html = render_markdown(
        "请@Alice看看，`@bob` 在代码里，[@carol](https://example.com) 是链接，@nobody 查无此人",
        {"alice": 3, "bob": 4, "carol": 5},
    )
    assert (
        '请<a class="mention" data-member-id="3" rel="nofollow noopener ugc">@Alice</a>看看' in html
    )
    assert "<code>@bob</code>" in html and "@nobody 查无此人" in html
    assert mentions_in(html) == [{"member_id": 3, "username": "alice"}]
    assert mentions_in(None) == []


def test_no_member_text_can_forge_a_mention_link():
    forged = '<a class="mention" data-member-id="1">@admin</a> [x](https://e.com "t")'
    html = render_markdown(forged)
    assert mentions_in(html) == [] and "&lt;a class" in html
    # and HTML from elsewhere keeps no other class on a link, nor a script in the id
    cleaned = sanitize_html('<a class="evil" data-member-id="1" onclick="x()">@a</a>')
    assert "evil" not in cleaned and "onclick" not in cleaned
