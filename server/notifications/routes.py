"""``/api/v1/notifications`` (the inbox and its settings), ``/api/v1/devices`` (push tokens),
``/api/v1/announcements`` (organisers to everyone)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.api import Blueprint, current_member
from server.common.pagination import page_schema, whole
from server.extensions import limiter
from server.members.models import ORGANISER_ROLES
from server.notifications import announcements, devices, inbox, preferences
from server.notifications.schemas import (
    AnnouncementSchema,
    DeviceSchema,
    InboxArgs,
    MarkedSchema,
    NotificationSchema,
    PreferencesSchema,
    UnreadCountSchema,
)

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1", description="Notifications and devices"
)


@blp.route("/notifications")
class Inbox(MethodView):
    @blp.doc(operationId="listNotifications")
    @blp.auth()
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, page_schema(NotificationSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The inbox, most recently updated first (``unread=true`` for unread only)"""
        return inbox.list_notifications(current_member(), **args)


@blp.route("/notifications/unread-count")
class UnreadCount(MethodView):
    @blp.doc(operationId="getUnreadNotificationCount")
    @blp.auth()
    @blp.response(200, UnreadCountSchema)
    def get(self) -> Any:
        """How many notifications are unread (the app badge)"""
        return {"unread": inbox.unread_count(current_member().id)}


@blp.route("/notifications/<id:notification_id>/read")
class MarkRead(MethodView):
    @blp.doc(operationId="markNotificationRead")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, notification_id: int) -> None:
        """Mark one notification read; its pushes are withdrawn from the member's other devices"""
        inbox.mark_read(current_member(), notification_id)


@blp.route("/notifications/read-all")
class MarkAllRead(MethodView):
    @blp.doc(operationId="markAllNotificationsRead")
    @blp.auth()
    @blp.response(200, MarkedSchema)
    def post(self) -> Any:
        """Mark every notification read"""
        return {"marked": inbox.mark_all_read(current_member())}


@blp.route("/notifications/preferences")
class Preferences(MethodView):
    @blp.doc(operationId="getNotificationPreferences")
    @blp.auth()
    @blp.response(200, PreferencesSchema)
    def get(self) -> Any:
        """In-app and push choices per kind, and quiet hours (member's local time)"""
        return preferences.get_preferences(current_member())

    @blp.doc(operationId="updateNotificationPreferences")
    @blp.auth()
    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def patch(self, changes: dict[str, Any]) -> Any:
        """Change choices for some kinds, or quiet hours (``null`` turns them off)"""
        return preferences.update_preferences(current_member(), changes)


@blp.route("/devices")
class Devices(MethodView):
    @blp.doc(operationId="listDevices")
    @blp.auth()
    @blp.response(200, page_schema(DeviceSchema))
    def get(self) -> Any:
        """The member's registered devices, oldest registration first

        One page, bounded: a member keeps at most `PUSH_DEVICES_PER_MEMBER` devices (10 by
        default; see registerDevice), so `next_cursor` is always null."""
        return whole(devices.list_devices(current_member()))

    @blp.doc(operationId="registerDevice")
    @blp.auth()
    @blp.arguments(DeviceSchema)
    @blp.response(200, DeviceSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register or refresh this device's push token (a token moves to the signed-in member)

        Apps call this at every start, and whenever Firebase hands them a new token
        (`onNewToken` on Android, `messaging:didReceiveRegistrationToken:` on iOS), as Firebase
        advises. A device counts as live from its last registration, which sets
        `last_seen_at`: one not registered again within `PUSH_DEVICE_LIVE_DAYS` (60 days by
        default) gets no pushes, and nothing else (signing in, refreshing the session, using
        the API) renews it. A member keeps at most `PUSH_DEVICES_PER_MEMBER` devices (10 by
        default); registering one more forgets the least recently registered."""
        return devices.register_device(current_member(), data)


@blp.route("/devices/<string(maxlength=512):token>")
class DeviceToken(MethodView):
    @blp.doc(operationId="deleteDevice")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, token: str) -> None:
        """Forget one of the member's devices (on sign-out)"""
        devices.unregister_device(current_member(), token)  # a NUL in the path matches nothing


@blp.route("/announcements")
class Announcements(MethodView):
    decorators = [limiter.limit("10/hour", methods=["POST"])]

    @blp.doc(operationId="createAnnouncement")
    @blp.auth(roles=ORGANISER_ROLES)
    @blp.arguments(AnnouncementSchema)
    @blp.response(202, AnnouncementSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Tell every member something (organisers): inbox and push, fanned out in the background"""
        return announcements.create_announcement(current_member(), data["title"], data["body"])
