"""What kinds of notification exist, how each reads in each language, and where it leads.

Features register their kinds at start-up. Texts are ``str.format`` templates over the
notification's ``data`` (a value may be a ``{locale: text}`` map) plus ``actor`` (the actor's
display name) and ``count``; ``many`` is used instead of ``body`` when several events have
collapsed into one entry.

Content that is gone (``retraction.forget``) is not quoted any more: its keys hold ``""`` — a
value keeps its type, for the apps that decode ``data`` — and are listed in ``data["gone"]``;
rendering shows ``GONE`` in the reader's language in their place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from server.common.i18n import pick

Texts = Mapping[str, str]

# What an entry shows in place of quoted text that is gone (the keys in ``data["gone"]``).
GONE: Texts = {
    "zh-Hans": "（内容已不可见）",
    "zh-Hant": "（內容已不可見）",
    "en": "(no longer available)",
}


@dataclass(frozen=True)
class Kind:
    name: str
    label: Texts
    title: Texts
    body: Texts
    many: Texts | None = None
    push_default: bool = True
    android_channel: str = "default"
    # data keys copied into the push payload (the app's deep link); kind and id always are
    link_keys: tuple[str, ...] = field(default_factory=tuple)
    # every key of the entry's ``data`` and its JSON type (``DATA_TYPES``): the contract apps
    # decode; ``notify()`` refuses data that breaks it
    data: Mapping[str, str] = field(default_factory=dict)


# A kind's data values: ids are integers (in the inbox; a push carries every value as a string,
# as FCM's data messages do), quoted words strings, a word in the reader's language an object
# ``{"zh-Hans": …, "zh-Hant": …, "en": …}``.
DATA_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "string": (str,),
    "object": (Mapping,),
}


def check_data(kind: Kind, data: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless ``data`` has exactly the kind's keys, each of its type."""
    if set(data) != set(kind.data):
        raise ValueError(f"{kind.name} data has keys {sorted(data)}, not {sorted(kind.data)}")
    for key, type_name in kind.data.items():
        value = data[key]
        if not isinstance(value, DATA_TYPES[type_name]) or isinstance(value, bool):
            raise ValueError(f"{kind.name} data {key!r} is not {type_name}: {value!r}")


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    KINDS[kind.name] = kind


def get_kind(name: str) -> Kind:
    return KINDS[name]


def _format(template: str, values: Mapping[str, Any]) -> str:
    safe: defaultdict[str, Any] = defaultdict(str, values)
    return template.format_map(safe)


def render(
    kind_name: str, data: Mapping[str, Any], count: int, actor: str, locale: str
) -> tuple[str, str]:
    """(title, body) of a notification in ``locale``."""
    kind = KINDS.get(kind_name)
    if kind is None:
        return kind_name, ""
    # A value may itself be {locale: text} (a word the feature chose): shown in the reader's.
    values = {
        key: pick(value, locale) if isinstance(value, Mapping) else value
        for key, value in data.items()
    }
    values.update(dict.fromkeys(data.get("gone", ()), pick(GONE, locale)))
    values.update(actor=actor, count=count)
    body = kind.many if count > 1 and kind.many else kind.body
    return _format(pick(kind.title, locale), values), _format(pick(body, locale), values)


def announcement_subject(announcement_id: int) -> str:
    return f"announcement:{announcement_id}"


register_kind(
    Kind(
        name="announcement",
        label={"zh-Hans": "组织者公告", "zh-Hant": "組織者公告", "en": "Announcements"},
        title={"zh-Hans": "{title}", "zh-Hant": "{title}", "en": "{title}"},
        body={"zh-Hans": "{body}", "zh-Hant": "{body}", "en": "{body}"},
        android_channel="announcements",
        link_keys=("announcement_id",),
        data={"announcement_id": "integer", "title": "string", "body": "string"},
    )
)
register_kind(
    Kind(
        name="account.password_changed",
        label={"zh-Hans": "账号安全", "zh-Hant": "帳號安全", "en": "Account security"},
        title={"zh-Hans": "密码已修改", "zh-Hant": "密碼已修改", "en": "Password changed"},
        body={
            "zh-Hans": "你的家园账号密码刚刚被修改。如果不是你本人操作，请立即重置密码。",
            "zh-Hant": "你的家園帳號密碼剛剛被修改。如果不是你本人操作，請立即重設密碼。",
            "en": "Your Jiayuan password was just changed. If this was not you, reset it now.",
        },
        android_channel="account",
    )
)
