"""User text: Markdown rendered to sanitised HTML, @mentions, and plain text for search.

Markdown is parsed by markdown-it-py with raw HTML off, and whatever it renders is cleaned
again by nh3 (Ammonia) with an allow-list, so no script, style or event handler survives
either path. Links get ``rel="nofollow noopener ugc"``. Mentions are ``@handle`` (a member's
``username``) outside code and links; features decide what a mention does. A mention of a
member the caller resolved is rendered as ``<a class="mention" data-member-id="12">@alice</a>``
(no ``href``: each client opens its own profile screen), and ``mentions_in`` reads them back
from stored HTML, so a list of mentions costs no query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from html import escape

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["strikethrough", "table"])

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "data-member-id"},
    "img": {"src", "alt", "title"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
    "span": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}

# A handle is ASCII; the character before "@" must not be ASCII word text, so e-mail addresses
# are not mentions while Chinese text runs straight into one: 「请@alice看看」.
MENTION_RE = re.compile(r"(?<![A-Za-z0-9_.@/])@([A-Za-z][A-Za-z0-9_]{2,29})(?![A-Za-z0-9_])")


def sanitize_html(html: str) -> str:
    """Clean HTML from any source against the allow-list."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener ugc",
        filter_style_properties={"text-align"},
        tag_attribute_values={"a": {"class": {"mention"}}},
    )


def render_markdown(text: str, mentions: Mapping[str, int] | None = None) -> str:
    """Markdown → HTML that is safe to put in a page. ``@handle``s named in ``mentions``
    (lower-case handle → member id) become mention links; others stay text."""
    tokens = _md.parse(text)
    if mentions:
        _link_mentions(tokens, mentions)
    return sanitize_html(_md.renderer.render(tokens, _md.options, {}))


def _link_mentions(tokens: list[Token], mentions: Mapping[str, int]) -> None:
    """Split text tokens (outside code and links) around resolved mentions, which become
    inline HTML: Markdown's own raw HTML is off, so only this code can write such a tag."""
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        for child, plain in _marked_plain(token.children):
            if not plain:
                children.append(child)
                continue
            at = 0
            for match in MENTION_RE.finditer(child.content):
                member_id = mentions.get(match.group(1).lower())
                if member_id is None:
                    continue
                if match.start() > at:
                    children.append(_text(child.content[at : match.start()]))
                link = Token("html_inline", "", 0)
                link.content = (
                    f'<a class="mention" data-member-id="{int(member_id)}">'
                    f"@{escape(match.group(1))}</a>"
                )
                children.append(link)
                at = match.end()
            children.append(child if at == 0 else _text(child.content[at:]))
        token.children = children


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


_MENTION_LINK_RE = re.compile(
    r'<a class="mention" data-member-id="(\d+)"[^>]*>@([A-Za-z0-9_]+)</a>'
)


def mentions_in(html: str | None) -> list[dict[str, int | str]]:
    """The mention links of rendered HTML, in order, each member once."""
    seen: dict[int, str] = {}
    for member_id, username in _MENTION_LINK_RE.findall(html or ""):
        seen.setdefault(int(member_id), username.lower())
    return [{"member_id": m, "username": u} for m, u in seen.items()]


def _marked_plain(children: list[Token]) -> Iterator[tuple[Token, bool]]:
    """Each inline child, and whether it is plain text: a text token outside any link (code
    spans are tokens of their own)."""
    in_link = 0
    for child in children:
        if child.type == "link_open":
            in_link += 1
        elif child.type == "link_close":
            in_link -= 1
        yield child, child.type == "text" and not in_link


def _text_tokens(tokens: list[Token]) -> Iterator[str]:
    """The plain text of inline tokens, outside code and link text."""
    for token in tokens:
        if token.type == "inline" and token.children:
            yield from (c.content for c, plain in _marked_plain(token.children) if plain)


def extract_mentions(text: str) -> list[str]:
    """Handles mentioned in Markdown ``text``, lower-cased, first mention first, no repeats."""
    seen: dict[str, None] = {}
    for chunk in _text_tokens(_md.parse(text)):
        for match in MENTION_RE.finditer(chunk):
            seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def excerpt(text: str, limit: int = 80) -> str:
    """The start of Markdown ``text`` as a reader sees it (``plain_text``): at most ``limit``
    characters, a cut one ending in "…" (a notification quotes 80, a thread list 200)."""
    plain = plain_text(text)
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def plain_text(text: str) -> str:
    """Markdown → the words a reader sees (code included), for search and excerpts."""
    parts: list[str] = []
    for token in _md.parse(text):
        if token.type in {"fence", "code_block"}:
            parts.append(token.content)
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type in {"text", "code_inline"}:
                    parts.append(child.content)
                elif child.type in {"softbreak", "hardbreak"}:
                    parts.append(" ")
                elif child.type == "image":
                    parts.append(child.content)
    return " ".join(p.strip() for p in parts if p.strip())


# What a thread or an alliance may carry: the request's schema refuses more (``fields.Tags``),
# and ``clean_tags`` checks again what folding made of them.
MAX_TAGS = 5
MAX_TAG_CHARS = 30


def clean_tags(tags: list[str]) -> list[str]:
    """Tags as stored: NFKC, trimmed, lower case, without repeats, at most ``MAX_TAGS``; each
    checked *after* folding (İ lower-cases to two characters), so a column of 30 never
    overflows. Too many or too long is a 422 ``validation_error`` on ``tags``, as the schema's."""
    import unicodedata

    from server.errors import DomainError

    cleaned = list(
        dict.fromkeys(unicodedata.normalize("NFKC", t).strip().lower() for t in tags if t.strip())
    )
    too_many = len(cleaned) > MAX_TAGS
    if too_many or any(len(t) > MAX_TAG_CHARS for t in cleaned):
        limit = MAX_TAGS if too_many else MAX_TAG_CHARS
        raise DomainError(
            "validation_error", 422, errors={"tags": [f"Longer than maximum length {limit}."]}
        )
    return cleaned
