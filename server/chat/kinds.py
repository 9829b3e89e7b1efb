"""The chat's notification kind. Subject: ``chat:{conversation_id}`` (a conversation's new
messages collapse into one entry; reading the conversation marks it read)."""

from __future__ import annotations

from server.notifications.kinds import Kind, register_kind


def conversation_subject(conversation_id: int) -> str:
    return f"chat:{conversation_id}"


def register() -> None:
    register_kind(
        Kind(
            name="chat.message",
            label={"zh-Hans": "私信与提到我", "zh-Hant": "私訊與提及我", "en": "Messages"},
            title={"zh-Hans": "{name}", "zh-Hant": "{name}", "en": "{name}"},
            body={
                "zh-Hans": "{actor}：{excerpt}",
                "zh-Hant": "{actor}：{excerpt}",
                "en": "{actor}: {excerpt}",
            },  # fmt: skip
            many={
                "zh-Hans": "{count} 条新消息",
                "zh-Hant": "{count} 則新訊息",
                "en": "{count} new messages",
            },  # fmt: skip
            android_channel="chat",
            link_keys=("conversation_id", "message_id"),
            data={
                "conversation_id": "integer",
                "message_id": "integer",
                "name": "string",
                "excerpt": "string",
            },
        )
    )
