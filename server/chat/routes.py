"""``/api/v1/chat``: conversations, history, sending, read state. Every write here broadcasts
the same Socket.IO event as its Socket.IO counterpart (``server/chat/sockets.py``)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.api import Blueprint, current_member
from server.auth.limits import member_key
from server.chat import channels, conversations, direct, messages, moderation, reading, rooms
from server.chat.limits import limited
from server.chat.schemas import (
    ChannelCreateSchema,
    ChatChannelArgs,
    ChatChannelSchema,
    ChatHistoryArgs,
    ChatHistorySchema,
    ChatLogEntrySchema,
    ChatMembersAddSchema,
    ChatReactionSchema,
    ChatReadSchema,
    ChatReadStateSchema,
    ChatReceiptSchema,
    ConversationSchema,
    CreatedConversationSchema,
    DirectCreateSchema,
    MessageEditSchema,
    MessageSchema,
    MessageSendSchema,
    MuteSchema,
    PresenceArgs,
    PresenceSchema,
    ReportSchema,
)
from server.common.pagination import PageArgs, page_schema, whole
from server.common.reactions import REACTION_NAMES
from server.extensions import limiter

blp = Blueprint("chat", __name__, url_prefix="/api/v1/chat", description="Chat")


@blp.route("/conversations")
class Conversations(MethodView):
    @blp.doc(operationId="listChatConversations")
    @blp.auth()
    @blp.response(200, page_schema(ConversationSchema))
    def get(self) -> Any:
        """The conversations the caller follows, most recently active first, with unread and
        mention counts: what a client loads at launch.

        One page, bounded: at most the 500 most recently active (`next_cursor` is always null).
        Past them, a conversation is reached with getChatConversation, and live changes arrive
        as `conversation_added` events."""
        return conversations.list_conversations(current_member())


@blp.route("/conversations/<id:conversation_id>")
class ConversationItem(MethodView):
    @blp.doc(operationId="getChatConversation")
    @blp.auth()
    @blp.response(200, ConversationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, conversation_id: int) -> Any:
        """One conversation the caller may read — its name, members' cards and the caller's
        unread count (`joined` false for a public channel they have not joined)"""
        return conversations.get_conversation(current_member(), conversation_id)


@blp.route("/channels")
class Channels(MethodView):
    @blp.doc(operationId="listChatChannels")
    @blp.auth()
    @blp.arguments(ChatChannelArgs, location="query")
    @blp.response(200, page_schema(ChatChannelSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Channels of the caller's alliances: `joined=false` lists the ones they could join"""
        return channels.list_channels(current_member(), **args)

    @blp.doc(operationId="createChatChannel")
    @blp.auth()
    @blp.arguments(ChannelCreateSchema)
    @blp.response(201, CreatedConversationSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a channel in an alliance (its owner and admins)"""
        return channels.create_channel(current_member(), data)


@blp.route("/direct")
class Direct(MethodView):
    @blp.doc(operationId="openDirectConversation")
    @blp.auth()
    @blp.arguments(DirectCreateSchema)
    @blp.response(200, CreatedConversationSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any]) -> Any:
        """Open a direct conversation with 1–8 members, if they accept one from the caller;
        the one with exactly these members is reused (new ones are rate-limited)"""
        return direct.open_direct(current_member(), data["member_ids"])


@blp.route("/conversations/<id:conversation_id>/join")
class Join(MethodView):
    @blp.doc(operationId="joinChatConversation")
    @blp.auth()
    @blp.response(200, CreatedConversationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, conversation_id: int) -> Any:
        """Follow a public channel of one's alliance"""
        return channels.join_conversation(current_member(), conversation_id)


@blp.route("/conversations/<id:conversation_id>/members")
class ChannelMembers(MethodView):
    @blp.doc(operationId="addChatChannelMembers")
    @blp.auth()
    @blp.arguments(ChatMembersAddSchema)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], conversation_id: int) -> None:
        """Put members of the alliance in a channel, private ones included (owner and admins)"""
        channels.add_members(current_member(), conversation_id, data["member_ids"])


@blp.route("/conversations/<id:conversation_id>/members/<id:member_id>")
class ChannelMember(MethodView):
    @blp.doc(operationId="removeChatChannelMember")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, conversation_id: int, member_id: int) -> None:
        """Take a member out of a channel (owner and admins)"""
        channels.remove_member(current_member(), conversation_id, member_id)


@blp.route("/conversations/<id:conversation_id>/leave")
class Leave(MethodView):
    @blp.doc(operationId="leaveChatConversation")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, conversation_id: int) -> None:
        """Stop following a conversation"""
        channels.leave_conversation(current_member(), conversation_id)


@blp.route("/conversations/<id:conversation_id>/messages")
class Messages(MethodView):
    @blp.doc(operationId="listChatMessages")
    @blp.auth()
    @blp.arguments(ChatHistoryArgs, location="query")
    @blp.response(200, ChatHistorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], conversation_id: int) -> Any:
        """History around an anchor: num_before older and num_after newer messages"""
        return messages.history(current_member(), conversation_id, **args)

    @blp.doc(operationId="sendChatMessage")
    @blp.auth()
    @limited("send")
    @blp.arguments(MessageSendSchema)
    @blp.response(201, MessageSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any], conversation_id: int) -> Any:
        """Send a message (rate-limited; shared with Socket.IO sends)"""
        return messages.send_message(current_member(), conversation_id, data)


@blp.route("/conversations/<id:conversation_id>/read")
class Read(MethodView):
    @blp.doc(operationId="markChatConversationRead")
    @blp.auth()
    @limited("read")
    @blp.arguments(ChatReadSchema)
    @blp.response(200, ChatReadStateSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any], conversation_id: int) -> Any:
        """Read up to a message (never moves back)"""
        last = reading.mark_read(current_member(), conversation_id, data["message_id"])
        return {"last_read_id": last}


@blp.route("/conversations/<id:conversation_id>/receipts")
class Receipts(MethodView):
    @blp.doc(operationId="listChatReadReceipts")
    @blp.auth()
    @blp.response(200, page_schema(ChatReceiptSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def get(self, conversation_id: int) -> Any:
        """Read receipts: how far each other member has read (conversations of up to
        `CHAT_RECEIPTS_LIMIT` members, 100 by default; live as `read` events)"""
        return whole(reading.list_receipts(current_member(), conversation_id))


@blp.route("/messages/<id:message_id>")
class MessageItem(MethodView):
    @blp.doc(operationId="editChatMessage")
    @blp.auth()
    @limited("edit")
    @blp.arguments(MessageEditSchema)
    @blp.response(200, MessageSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def patch(self, data: dict[str, Any], message_id: int) -> Any:
        """Edit one's message (not while muted; rate-limited)"""
        return messages.update_message(current_member(), message_id, data["body"])

    @blp.doc(operationId="deleteChatMessage")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, message_id: int) -> None:
        """Delete a message (its sender, or an admin of the alliance): a tombstone stays"""
        messages.delete_message(current_member(), message_id)


# Any name reaches ``messages.react_to_message``, which answers an unknown one with
# ``chat_reaction_not_found`` (a route that did not match would be a bare ``not_found``); the
# document lists the names.
_REACTION = {
    "in": "path",
    "name": "reaction",
    "required": True,
    "schema": {"type": "string", "enum": list(REACTION_NAMES)},
}


@blp.route("/messages/<id:message_id>/reactions/<reaction>")
class Reaction(MethodView):
    @blp.doc(operationId="addChatMessageReaction", parameters=[_REACTION])
    @blp.auth()
    @limited("react")
    @blp.response(200, ChatReactionSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def put(self, message_id: int, reaction: str) -> Any:
        """React to a message (not while muted; rate-limited)"""
        return messages.react_to_message(current_member(), message_id, reaction, True)

    @blp.doc(operationId="removeChatMessageReaction", parameters=[_REACTION])
    @blp.auth()
    @limited("react")
    @blp.response(200, ChatReactionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def delete(self, message_id: int, reaction: str) -> Any:
        """Take a reaction back"""
        return messages.react_to_message(current_member(), message_id, reaction, False)


@blp.route("/presence")
class Presence(MethodView):
    @blp.doc(operationId="getChatPresence")
    @blp.auth()
    @blp.arguments(PresenceArgs, location="query")
    @blp.response(200, page_schema(PresenceSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """online / away / offline of members who share an alliance with the caller, or a
        direct conversation they accepted (opened or wrote in)"""
        return whole(rooms.get_presence(current_member(), args["member_ids"]))


@blp.route("/messages/<id:message_id>/reports")
class Reports(MethodView):
    decorators = [limiter.limit("20/hour", key_func=member_key)]

    @blp.doc(operationId="reportChatMessage")
    @blp.auth()
    @blp.arguments(ReportSchema)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], message_id: int) -> None:
        """Report a message of an alliance channel to its admins (the chat audit log)"""
        moderation.report_message(current_member(), message_id, data["reason"])


@blp.route("/alliances/<id:alliance_id>/mutes")
class Mutes(MethodView):
    @blp.doc(operationId="muteChatMember")
    @blp.auth()
    @blp.arguments(MuteSchema)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], alliance_id: int) -> None:
        """Mute a member in the alliance's chat for some hours (owner and admins; logged)"""
        moderation.mute_member(current_member(), alliance_id, data)


@blp.route("/alliances/<id:alliance_id>/mutes/<id:member_id>")
class Mute(MethodView):
    @blp.doc(operationId="unmuteChatMember")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, alliance_id: int, member_id: int) -> None:
        """Lift a mute (logged): by someone who outranks the muted member and holds at least
        the rank of whoever muted them"""
        moderation.unmute_member(current_member(), alliance_id, member_id)


@blp.route("/alliances/<id:alliance_id>/log")
class ChatLog(MethodView):
    @blp.doc(operationId="listChatModerationLog")
    @blp.auth()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ChatLogEntrySchema))
    @blp.alt_response(403, response="FORBIDDEN")
    def get(self, args: dict[str, Any], alliance_id: int) -> Any:
        """The alliance's chat audit log: reports, deletions, mutes (owner and admins)"""
        return moderation.list_log_entries(current_member(), alliance_id, **args)
