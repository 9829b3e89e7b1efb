"""``GET /api/v1/meta``: the privacy policy to accept, the locales, the public limits, push, and
the oldest app version still supported — read once at launch, before sign-up, and cached.

It reads the features' own limits (their schemas' constants and the settings), so it says
what the server enforces, not a copy that drifts."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import marshmallow as ma
from flask import Response, current_app, make_response
from flask.views import MethodView

from server.api import Blueprint
from server.chat.schemas import MAX_MESSAGE_CHARS
from server.common.fields import Integer
from server.common.i18n import LOCALES
from server.forum.schemas import MAX_POST_CHARS, TITLE

blp = Blueprint("meta", __name__, url_prefix="/api/v1", description="Before sign-in")

PLATFORMS = ("android", "ios", "web")


class PrivacyPolicySchema(ma.Schema):
    version = ma.fields.String(metadata={"description": "Send it as privacy_policy_version"})
    url = ma.fields.String(allow_none=True, metadata={"description": "Where to read it"})


class LimitsSchema(ma.Schema):
    max_body_bytes = Integer(metadata={"description": "The largest request body"})
    forum_post_min_chars = Integer()
    forum_post_max_chars = Integer()
    forum_title_min_chars = Integer()
    forum_title_max_chars = Integer()
    forum_edit_window_minutes = Integer()
    chat_message_max_chars = Integer()


class PushSchema(ma.Schema):
    enabled = ma.fields.Boolean(metadata={"description": "Whether pushes reach phones"})
    provider = ma.fields.String(metadata={"description": "fcm, or log (development)"})


class MetaSchema(ma.Schema):
    api_version = ma.fields.String()
    server_version = ma.fields.String()
    privacy_policy = ma.fields.Nested(PrivacyPolicySchema)
    locales = ma.fields.List(ma.fields.String())
    default_time_zone = ma.fields.String()
    limits = ma.fields.Nested(LimitsSchema)
    push = ma.fields.Nested(PushSchema)
    min_app_version = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(allow_none=True),
        metadata={"description": "Per platform (android, ios, web): older apps ask to update"},
    )


def _server_version() -> str:
    try:
        return version("jiayuan")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without installing
        return "unknown"


def meta() -> dict[str, Any]:
    config = current_app.config
    return {
        "api_version": config["API_VERSION"],
        "server_version": _server_version(),
        "privacy_policy": {
            "version": config["PRIVACY_POLICY_VERSION"],
            "url": config["PRIVACY_POLICY_URL"],
        },
        "locales": list(LOCALES),
        "default_time_zone": config["DEFAULT_TIME_ZONE"],
        "limits": {
            "max_body_bytes": config["MAX_CONTENT_LENGTH"],
            "forum_post_min_chars": config["FORUM_MIN_POST_CHARS"],
            "forum_post_max_chars": MAX_POST_CHARS,
            "forum_title_min_chars": TITLE["min_length"],
            "forum_title_max_chars": TITLE["max_length"],
            "forum_edit_window_minutes": config["FORUM_EDIT_WINDOW_MINUTES"],
            "chat_message_max_chars": MAX_MESSAGE_CHARS,
        },
        "push": {
            "enabled": config["PUSH_PROVIDER"] == "fcm",
            "provider": config["PUSH_PROVIDER"],
        },
        "min_app_version": {p: config[f"MIN_APP_VERSION_{p.upper()}"] for p in PLATFORMS},
    }


@blp.route("/meta")
class Meta(MethodView):
    @blp.doc(operationId="getMeta", security=[])
    @blp.response(200, MetaSchema)
    def get(self) -> Response:
        """The privacy-policy version to accept, locales, public limits, push and the oldest
        supported app version (no sign-in; cacheable for five minutes)"""
        response = make_response(MetaSchema().dump(meta()))
        response.headers["Cache-Control"] = "public, max-age=300"
        return response
