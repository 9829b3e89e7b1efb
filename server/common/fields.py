"""marshmallow fields for user input: bounded, trimmed, free of control characters."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import marshmallow as ma

from server.common.time import LocalDateTime

__all__ = ["Handle", "Integer", "LocalDateTime", "Text", "WebURL"]

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


class Handle(ma.fields.String):
    """A member's @handle: 3–30 ASCII letters, digits or _, starting with a letter; lower-cased."""

    PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,29}$")

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not self.PATTERN.match(text):
            raise ma.ValidationError(
                "Use 3 to 30 letters, digits or underscores, starting with a letter."
            )
        return text.lower()


class WebURL(ma.fields.Url):
    """An http(s) URL of at most 500 characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schemes={"http", "https"}, validate=ma.validate.Length(max=500), **kwargs)
