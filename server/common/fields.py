"""marshmallow fields for user input: bounded, trimmed, free of control characters."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import marshmallow as ma

from server.common.text import MAX_TAG_CHARS, MAX_TAGS, mentions_in
from server.common.time import LocalDateTime

__all__ = [
    "MAX_ID",
    "Handle",
    "Id",
    "Integer",
    "LocalDateTime",
    "Mentions",
    "Name",
    "Tags",
    "Text",
    "WebURL",
    "strip_format_chars",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Integer(ma.fields.Integer):  # noqa: TID251 (the one subclass)
    """An integer, and only an integer: ``1.5`` and ``true`` are refused, not truncated.

    JSON gives ``int`` (or ``1.0``, taken as 1); a query string gives ASCII digits, at most
    18 of them (``int()`` would also take ``" 12 "``, ``"1_000"``, ``"١٢"`` and 4,000-digit
    strings). marshmallow's own ``Integer`` truncates floats: ruff bans it (TID251).
    """

    _DIGITS = re.compile(r"^[+-]?[0-9]{1,18}$")

    def _validated(self, value: Any) -> int:
        if value is True or value is False:
            raise self.make_error("invalid", input=value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        if isinstance(value, str) and self._DIGITS.match(value):
            return int(value)
        raise self.make_error("invalid", input=value)


# Ids are int4 on both databases: a larger one matches no row, and PostgreSQL refuses to even
# compare an int4 column with it. The ``<id:…>`` URL converter (server.api) has the same bound.
MAX_ID = 2**31 - 1


class Id(Integer):
    """A row's id (or a number that picks a row within its parent, as a post's number in its
    thread): a whole number from 1 to ``MAX_ID``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=ma.validate.Range(1, MAX_ID), **kwargs)


class Text(ma.fields.String):
    """A string that is NFC-normalised, stripped, and bounded; control characters are refused.

    ``multiline`` allows newlines and tabs (bodies); single-line text refuses them (names).
    """

    def __init__(
        self, *, min_length: int = 0, max_length: int, multiline: bool = False, **kwargs: Any
    ) -> None:
        validators = list(kwargs.pop("validate", []) or [])
        validators.append(ma.validate.Length(min=min_length, max=max_length))
        super().__init__(validate=validators, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs))
        text = text.strip()
        if _CONTROL.search(text) or (not self.multiline and re.search(r"[\r\n\t]", text)):
            raise ma.ValidationError("Contains characters that are not allowed.")
        return text


_ZWNJ, _ZWJ = "\u200c", "\u200d"


# not format characters, but letters and symbols that show nothing: names made of them look empty
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u034f")


def _is_tag(char: str) -> bool:
    return "\U000e0020" <= char <= "\U000e007f"


def strip_format_chars(text: str) -> str:
    """``text`` without invisible format characters (Unicode category Cf): bidirectional
    overrides, embeddings, isolates and marks (``"abc\u202egnp.exe"`` shows as abcexe.png),
    zero-width spaces, soft hyphens, BOMs. Kept where writing needs them: a zero-width joiner
    between two emoji (👩‍💻), a zero-width non-joiner between two letters (Persian, Arabic,
    Indic scripts), and tag characters after a black flag (🏴 subdivision flags). Letters that
    show nothing (Hangul fillers, the blank Braille pattern) go too."""
    if text.isascii():
        return text
    out: list[str] = []
    for i, char in enumerate(text):
        if char in _BLANK_LETTERS:
            continue
        if unicodedata.category(char) != "Cf":
            out.append(char)
            continue
        before = out[-1] if out else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if char == _ZWJ and _emoji_like(before) and _emoji_like(after):
            out.append(char)
        elif char == _ZWNJ and _letter(before) and _letter(after):
            out.append(char)
        elif _is_tag(char) and (before == "\U0001f3f4" or _is_tag(before)):
            out.append(char)
    return "".join(out)


def _letter(char: str) -> bool:
    return bool(char) and not char.isascii() and char.isalpha()


def _emoji_like(char: str) -> bool:
    """A pictographic symbol, or a modifier that ends one (skin tone, variation selector)."""
    if not char or char.isascii():
        return False
    return unicodedata.category(char) in ("So", "Sk", "Mn") or "\U0001f3fb" <= char <= "\U0001f3ff"


class Name(Text):
    """A name or title people read: single-line ``Text`` without invisible format characters
    (``strip_format_chars``); what is left must still meet the length bounds."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return strip_format_chars(super()._deserialize(value, attr, data, **kwargs)).strip()


class Handle(ma.fields.String):
    """A member's @handle: 3–30 ASCII letters, digits or _, starting with a letter; lower-cased."""

    PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,29}$")

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": self.PATTERN.pattern, **kwargs.pop("metadata", {})}
        super().__init__(validate=ma.validate.Length(3, 30), metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not self.PATTERN.match(text):
            raise ma.ValidationError(
                "Use 3 to 30 letters, digits or underscores, starting with a letter."
            )
        return text.lower()


class Tags(ma.fields.List):
    """A thread's or an alliance's tags: at most ``MAX_TAGS``, each 1 to ``MAX_TAG_CHARS``
    characters (a sixth is a 422, never dropped). The service stores them through
    ``text.clean_tags``, which folds them and checks the same bounds again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            Text(min_length=1, max_length=MAX_TAG_CHARS),
            validate=ma.validate.Length(max=MAX_TAGS),
            **kwargs,
        )


class WebURL(ma.fields.Url):
    """An http(s) URL of at most 500 characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schemes={"http", "https"}, validate=ma.validate.Length(max=500), **kwargs)


class MentionSchema(ma.Schema):
    member_id = Integer()
    username = ma.fields.String()


class Mentions(ma.fields.List):
    """The members an item's rendered HTML links as mentions, read from that HTML (no query):
    ``[{"member_id": 12, "username": "alice"}]``, empty when the HTML is null (hidden or
    deleted content)."""

    def __init__(self, html: str = "html", **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"description": "Members mentioned, in order"})
        super().__init__(ma.fields.Nested(MentionSchema), dump_only=True, **kwargs)
        self._html = html

    def get_value(
        self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing
    ) -> Any:
        html = ma.utils.get_value(obj, self._html)
        return mentions_in(html if isinstance(html, str) else None)
