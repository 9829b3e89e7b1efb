"""Notification kinds of alliances. Subjects: ``alliance:{id}:requests`` (the requests to join
an alliance, as its managers see them: they collapse into one entry) and
``alliance:{id}:request`` (the requester's own request, decided)."""

from __future__ import annotations

from server.notifications.kinds import Kind, register_kind


def join_requests_subject(alliance_id: int) -> str:
    return f"alliance:{alliance_id}:requests"


def join_request_subject(alliance_id: int) -> str:
    return f"alliance:{alliance_id}:request"


def register() -> None:
    register_kind(
        Kind(
            name="alliance.join_request",
            label={"zh-Hans": "加入申请", "zh-Hant": "加入申請", "en": "Requests to join"},
            title={"zh-Hans": "{name}", "zh-Hant": "{name}", "en": "{name}"},
            body={
                "zh-Hans": "{actor} 申请加入联盟",
                "zh-Hant": "{actor} 申請加入聯盟",
                "en": "{actor} asks to join",
            },
            many={
                "zh-Hans": "有 {count} 个新的加入申请",
                "zh-Hant": "有 {count} 個新的加入申請",
                "en": "{count} new requests to join",
            },
            android_channel="alliances",
            link_keys=("alliance_id", "request_id"),
            data={"alliance_id": "integer", "name": "string", "request_id": "integer"},
        )
    )
    register_kind(
        Kind(
            name="alliance.request_decided",
            label={"zh-Hans": "申请结果", "zh-Hant": "申請結果", "en": "Answers to my requests"},
            title={"zh-Hans": "{name}", "zh-Hant": "{name}", "en": "{name}"},
            body={
                "zh-Hans": "你的加入申请{outcome}",
                "zh-Hant": "你的加入申請{outcome}",
                "en": "Your request to join {outcome}",
            },
            android_channel="alliances",
            link_keys=("alliance_id",),
            data={"alliance_id": "integer", "name": "string", "outcome": "object"},
        )
    )
