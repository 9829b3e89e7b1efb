"""Chat: an alliance's channels and direct messages, over REST (``routes``) and Socket.IO
(``sockets``, namespace ``/chat``); both call the same verbs, which emit after commit.

Imports flow down this list: a module imports only modules below it (``routes``, ``sockets``
and ``demo`` call the verbs; ``access`` and ``consent`` are the rules every verb asks).

- ``routes``        — the REST views: decorators and one call each
- ``sockets``       — the ``/chat`` namespace: connect, send, typing, read, join, presence
- ``demo``          — the demo seeder's channels, messages, reactions and read state
- ``personal_data`` — a member's chat in an export, and its erasure
- ``asyncapi``      — the AsyncAPI document of ``/chat``, checked against the code
- ``messages``      — send (``check_send`` then ``do_send``), edit, delete, react, typing, history
- ``reading``       — read state (``mark_read``) and read receipts
- ``channels``      — create and list channels; join, leave, add and remove members
- ``direct``        — open (or reopen) a direct conversation, with consent
- ``moderation``    — reports, mutes and the alliance's chat audit log
- ``rooms``         — Socket.IO rooms, emits after commit, sockets kept in step, presence audience
- ``conversations`` — a conversation as a client shows it: the list, one, ``conversation_added``
- ``consent``       — who may open, write in and see presence of a direct conversation
- ``access``        — who may read a conversation or a message, follows it, is muted
- ``presence``      — online / away / offline and each member's open sockets (Redis or local)
- ``limits``        — per-member rate limits, shared by REST and Socket.IO
- ``schemas``       — marshmallow schemas of the API and the events
- ``models``        — conversations, members' read state, messages, mentions, reactions, mutes
- ``kinds``         — the notification kind ``chat.message`` and its subject
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    """The notification kind, the alliance and sign-out hooks, the REST blueprint, the AsyncAPI
    document, the ``/chat`` namespace, the privacy hooks and the demo seeder."""
    from server.alliances import membership as alliances
    from server.auth import service as auth
    from server.chat import asyncapi, channels, kinds, personal_data, rooms
    from server.chat.demo import seed_chat
    from server.chat.routes import blp
    from server.chat.sockets import ChatNamespace, on_error
    from server.common import privacy
    from server.common.demo import register_seeder
    from server.extensions import socketio

    kinds.register()
    alliances.on_member_left("chat", channels.on_alliance_left)
    auth.on_sessions_revoked("chat", rooms.sessions_revoked)
    api.register_blueprint(blp)
    app.register_blueprint(asyncapi.blp)  # GET /api/v1/asyncapi.json, not in the OpenAPI
    socketio.on_namespace(ChatNamespace(rooms.NAMESPACE))
    socketio.on_error(rooms.NAMESPACE)(on_error)
    privacy.register("chat", exporter=personal_data.export, eraser=personal_data.erase, order=120)
    register_seeder("chat", seed_chat, order=70)  # after the alliances, whose channels these are
