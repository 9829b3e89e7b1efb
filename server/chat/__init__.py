"""Chat: an alliance's channels and direct messages, over REST (``routes``) and Socket.IO
(``sockets``, namespace ``/chat``); both go through ``service``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.alliances import service as alliances
    from server.auth import service as auth
    from server.chat import asyncapi, personal_data, service
    from server.chat.demo import seed_chat
    from server.chat.routes import blp
    from server.chat.sockets import ChatNamespace, on_error
    from server.common import privacy
    from server.common.demo import register_seeder
    from server.extensions import socketio
    from server.notifications.kinds import Kind, register_kind

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
    alliances.on_member_left("chat", service.on_alliance_left)
    auth.on_sessions_revoked("chat", service.sessions_revoked)
    api.register_blueprint(blp)
    app.register_blueprint(asyncapi.blp)  # GET /api/v1/asyncapi.json, not in the OpenAPI
    socketio.on_namespace(ChatNamespace(service.NAMESPACE))
    socketio.on_error(service.NAMESPACE)(on_error)
    privacy.register("chat", exporter=personal_data.export, eraser=personal_data.erase, order=120)
    register_seeder("chat", seed_chat, order=70)  # after the alliances, whose channels these are
