"""The caller's language: zh-Hans, zh-Hant or en, from ``Accept-Language``.

Simplified covers zh-CN and zh-SG (and a bare ``zh``); Traditional covers zh-TW, zh-HK and
zh-MO. Without a usable header the signed-in member's saved locale is used, then zh-Hans.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import g, has_request_context, request

LOCALES = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LOCALE = "zh-Hans"

_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def match_locale(tag: str) -> str | None:
    """Map one language tag (``zh-TW``, ``zh-Hant-HK``, ``en-GB``) to a supported locale."""
    parts = tag.replace("_", "-").lower().split("-")
    if not parts or not parts[0]:
        return None
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    rest = set(parts[1:])
    if "hant" in rest or rest & _TRADITIONAL_REGIONS:
        return "zh-Hant"
    return "zh-Hans"


def negotiate(header_values: list[tuple[str, float]]) -> str | None:
    for tag, quality in header_values:
        if quality <= 0:
            continue
        locale = match_locale(tag)
        if locale:
            return locale
    return None


def get_locale() -> str:
    """The locale for messages in the current request (cached on ``g``)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    cached: str | None = g.get("locale")
    if cached:
        return cached
    locale: str = (
        negotiate(list(request.accept_languages)) or g.get("member_locale") or DEFAULT_LOCALE
    )
    g.locale = locale
    return locale


def pick(texts: Mapping[str, str], locale: str | None = None) -> str:
    """Choose the text for a locale from ``{"zh-Hans": …, "zh-Hant": …, "en": …}``."""
    locale = locale or get_locale()
    return texts.get(locale) or texts.get(DEFAULT_LOCALE) or next(iter(texts.values()))
