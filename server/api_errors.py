"""Which error ``code``s each operation can answer: the table behind the OpenAPI document's
error responses (``server.api`` puts them in the document).

An operation's errors are of two kinds:

- **generic** ones, which follow from what the operation is (``generic_errors``): signed in
  (the bearer security requirement) → 401 token errors; takes a JSON body → 400/413/415; takes
  arguments → 422 ``validation_error``; pages with ``?cursor=`` → 400 ``invalid_cursor``;
  rate-limited (a Flask-Limiter limit on its method) → 429; a write → the ``Idempotency-Key``
  errors (``server.common.idempotency``); every operation → 500 and 503;
- **operation-specific** ones, in ``OPERATION_ERRORS``, keyed by ``operationId``: reviewed by
  reading each view's call path, and checked against the code by ``tests/test_error_contract.py``,
  which records every error the app sends while the whole suite runs.

Typos fail loudly, not in a client: a code that is not registered (``server.errors.MESSAGES``)
fails the spec build (``create_app``) as its operation enters the spec, and an ``operationId``
that is not in the document fails serving the document (``check_table``) and the tests.
"""

from __future__ import annotations

import http
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from server.errors import MESSAGES, message_for

Errors = Mapping[int, tuple[str, ...]]

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

# --- generic answers --------------------------------------------------------------------------

EVERY_OPERATION: Errors = {500: ("internal_error",), 503: ("service_unavailable",)}
SIGNED_IN: Errors = {
    401: ("authentication_required", "invalid_token", "token_expired", "token_revoked")
}
JSON_BODY: Errors = {
    400: ("invalid_json",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
}
ARGUMENTS: Errors = {422: ("validation_error",)}
PAGINATED: Errors = {400: ("invalid_cursor",)}  # server/common/pagination.py
RATE_LIMITED: Errors = {429: ("rate_limited",)}
# Idempotency-Key (server/common/idempotency.py): a malformed key is refused on every write;
# a key is honoured whenever the request carries a live access token, whatever the operation
# (then the body is read for its fingerprint, so a body past the limit is 413 there too)
ANY_WRITE: Errors = {400: ("invalid_idempotency_key",)}
ACCESS_TOKEN_WRITE: Errors = {
    409: ("idempotency_key_in_progress",),
    413: ("payload_too_large",),
    422: ("idempotency_key_reused",),
}


@dataclass(frozen=True)
class Shape:
    """What an operation is, as far as its generic answers go."""

    method: str  # lower case
    signed_in: bool  # the bearer security requirement
    json_body: bool  # a JSON request body
    arguments: bool  # a body or query parameters (webargs validates them: 422)
    paginated: bool  # a ``cursor`` query parameter
    rate_limited: bool  # a Flask-Limiter limit applies to this method
    refresh_token: bool = False  # takes the refresh token: no access token, no idempotency


def generic_errors(shape: Shape) -> dict[int, tuple[str, ...]]:
    """The answers an operation has because of what it is (not what its service does)."""
    parts: list[Errors] = [EVERY_OPERATION]
    if shape.signed_in:
        parts.append(SIGNED_IN)
    if shape.json_body:
        parts.append(JSON_BODY)
    if shape.arguments:
        parts.append(ARGUMENTS)
    if shape.paginated:
        parts.append(PAGINATED)
    if shape.rate_limited:
        parts.append(RATE_LIMITED)
    if shape.method in WRITE_METHODS:
        parts.append(ANY_WRITE)
        if not shape.refresh_token:
            parts.append(ACCESS_TOKEN_WRITE)
    return merge(*parts)


def merge(*parts: Errors) -> dict[int, tuple[str, ...]]:
    """Statuses in order, each with its codes in first-seen order and without repeats."""
    merged: dict[int, dict[str, None]] = {}
    for part in parts:
        for status, codes in part.items():
            merged.setdefault(status, {}).update(dict.fromkeys(codes))
    return {status: tuple(merged[status]) for status in sorted(merged)}


# --- operation-specific answers ---------------------------------------------------------------

# Every operation of the document has an entry (``{}``: only generic answers), so that a new
# operation is reviewed here. Read along each view's call path (routes → service → access
# checks); the comments say where a less obvious code comes from.
_THREAD = ("forum_thread_not_found",)
_POST = ("forum_post_not_found", "forum_thread_not_found")  # a post's thread is loaded too
_ALLIANCE = ("alliance_not_found",)
_CONVERSATION = ("chat_conversation_not_found",)
_MESSAGE = ("chat_message_not_found", "chat_conversation_not_found")
_MAY_WRITE = ("chat_muted", "chat_member_blocked", "chat_direct_not_allowed")

OPERATION_ERRORS: dict[str, dict[int, tuple[str, ...]]] = {
    # --- auth (server/auth/) ---
    "signUp": {
        409: ("email_taken", "username_taken"),
        422: ("privacy_policy_outdated",),
    },
    "signIn": {401: ("invalid_credentials",)},
    "refreshTokens": {401: ("refresh_token_reused",)},
    "signOut": {},
    "changePassword": {403: ("wrong_password",), 422: ("password_unchanged",)},
    "requestPasswordReset": {},  # answers alike for any address; the mail is a job
    "confirmPasswordReset": {400: ("reset_token_invalid",)},
    # --- members (server/members/) ---
    "getMe": {},
    "updateMe": {409: ("username_taken",)},
    "deleteMe": {403: ("wrong_password",)},
    "exportMe": {},
    "acceptPrivacyPolicy": {422: ("privacy_policy_outdated",)},
    "listBlockedMembers": {},
    "blockMember": {404: ("member_not_found",), 422: ("cannot_block_self",)},
    "unblockMember": {},
    "listMembers": {},
    "getMember": {404: ("member_not_found",)},
    "setMemberRole": {
        403: ("forbidden",),  # admins only (Blueprint.auth roles)
        404: ("member_not_found",),
        409: ("cannot_change_own_role",),
    },
    "listOccupations": {},
    # --- notifications (server/notifications/) ---
    "listNotifications": {},
    "getUnreadNotificationCount": {},
    "markNotificationRead": {404: ("notification_not_found",)},
    "markAllNotificationsRead": {},
    "getNotificationPreferences": {},
    "updateNotificationPreferences": {},
    "listDevices": {},
    "registerDevice": {},
    "deleteDevice": {404: ("device_not_found",)},
    "createAnnouncement": {403: ("forbidden",)},  # organisers and admins (Blueprint.auth roles)
    # --- forum (server/forum/) ---
    "listForumCategories": {},
    "createForumCategory": {
        403: ("forbidden",),
        404: ("forum_category_not_found",),  # the parent
        409: ("forum_category_exists", "forum_too_many_categories"),
        422: ("forum_category_too_deep", "forum_group_required", "forum_group_not_found"),
    },
    "getForumCategory": {404: ("forum_category_not_found",)},
    "updateForumCategory": {
        403: ("forbidden",),
        404: ("forum_category_not_found",),
        409: ("forum_category_exists",),
        422: ("forum_category_too_deep", "forum_group_required", "forum_group_not_found"),
    },
    "deleteForumCategory": {
        403: ("forbidden",),
        404: ("forum_category_not_found",),
        409: ("forum_category_not_empty",),
    },
    "listForumThreads": {404: ("forum_category_not_found",)},  # ?category_id=
    "createForumThread": {
        403: ("forum_category_read_only", "forum_posting_not_allowed", "forum_silenced"),
        404: ("forum_category_not_found",),
    },
    "getForumThread": {404: _THREAD},
    "updateForumThread": {
        403: ("forbidden", "forum_thread_locked", "forum_edit_window_passed", "forum_silenced"),
        404: _THREAD,
    },
    "deleteForumThread": {
        # another's thread goes through moderation (moderators only)
        403: ("forbidden",),
        404: _THREAD,
        409: ("forum_thread_has_replies", "forum_action_not_applicable"),
    },
    "listForumPosts": {404: _THREAD},
    "createForumPost": {
        403: (
            "forum_category_read_only",
            "forum_thread_locked",
            "forum_posting_not_allowed",
            "forum_silenced",
            "reply_not_allowed",  # the author of the post replied to blocked the caller
        ),
        404: _THREAD,
        422: ("forum_reply_to_invalid",),
    },
    "markForumThreadRead": {404: _THREAD},
    "bookmarkForumThread": {404: _THREAD},
    "unbookmarkForumThread": {404: _THREAD},
    "setForumThreadNotificationLevel": {404: _THREAD},
    "moderateForumThread": {
        403: ("forbidden", "forum_pin_site_staff_only"),
        404: (*_THREAD, "forum_category_not_found"),  # move: the target category
        409: ("forum_action_not_applicable",),
    },
    "updateForumPost": {
        403: ("forbidden", "forum_thread_locked", "forum_edit_window_passed", "forum_silenced"),
        404: _POST,
    },
    "deleteForumPost": {
        # a first post deletes its thread; another's post goes through moderation
        403: ("forbidden",),
        404: _POST,
        409: ("forum_thread_has_replies", "forum_action_not_applicable"),
    },
    "listForumPostRevisions": {403: ("forbidden",), 404: _POST},
    "addForumPostReaction": {
        403: ("forum_silenced",),
        404: ("forum_reaction_not_found", *_POST),
        422: ("forum_cannot_react_to_own_post",),
    },
    "removeForumPostReaction": {
        403: ("forum_silenced",),
        404: ("forum_reaction_not_found", *_POST),
        422: ("forum_cannot_react_to_own_post",),
    },
    "flagForumPost": {
        403: ("forum_silenced",),
        404: _POST,
        409: ("forum_already_flagged",),
        422: ("forum_cannot_flag_own_post",),
    },
    "moderateForumPost": {
        403: ("forbidden",),
        404: _POST,
        409: ("forum_action_not_applicable",),
    },
    "moderateForumMember": {
        403: ("forbidden", "forum_cannot_silence_staff"),
        404: ("member_not_found",),
        409: ("forum_action_not_applicable",),
    },
    "listForumModerationQueue": {403: ("forbidden",)},
    "listForumModerationLog": {403: ("forbidden",)},
    "searchForum": {404: ("forum_category_not_found",)},  # ?category_id=
    # --- alliances (server/alliances/) ---
    "listAlliances": {},
    "createAlliance": {403: ("forbidden",)},  # ALLIANCE_CREATORS
    "getAlliance": {404: _ALLIANCE},
    "updateAlliance": {403: ("forbidden",), 404: _ALLIANCE},
    "joinAlliance": {
        403: ("alliance_banned",),
        404: _ALLIANCE,  # a secret alliance too: invite only
        409: ("alliance_already_member", "alliance_request_pending"),
    },
    "leaveAlliance": {
        404: (*_ALLIANCE, "alliance_member_not_found"),
        409: ("alliance_owner_must_transfer",),
    },
    "listAllianceJoinRequests": {403: ("forbidden",), 404: _ALLIANCE},
    # (not alliance_banned: a ban rejects the member's pending request, under the same lock)
    "decideAllianceJoinRequest": {
        403: ("forbidden",),
        404: (*_ALLIANCE, "alliance_request_not_found"),
    },
    "listAllianceInvites": {403: ("forbidden",), 404: _ALLIANCE},
    "createAllianceInvite": {403: ("forbidden",), 404: _ALLIANCE},
    "revokeAllianceInvite": {
        403: ("forbidden",),
        404: (*_ALLIANCE, "alliance_invite_not_found"),
    },
    "acceptAllianceInvite": {
        403: ("alliance_banned",),
        404: ("alliance_invite_not_found",),
        409: ("alliance_already_member",),
    },
    "listAllianceMembers": {403: ("forbidden",), 404: _ALLIANCE},
    "setAllianceMemberRole": {
        403: ("forbidden",),
        404: (*_ALLIANCE, "alliance_member_not_found"),
        409: ("alliance_owner_must_transfer",),
    },
    "removeAllianceMember": {
        403: ("forbidden",),
        404: (*_ALLIANCE, "alliance_member_not_found"),
    },
    "banAllianceMember": {
        403: ("forbidden",),
        404: (*_ALLIANCE, "alliance_ban_target_not_found"),
    },
    "unbanAllianceMember": {
        403: ("forbidden",),
        404: (*_ALLIANCE, "alliance_ban_not_found"),
    },
    # --- chat (server/chat/) ---
    # ``limited(...)`` on a view and ``limits.check`` in a service answer 429 ``rate_limited``
    # themselves (not Flask-Limiter): listed here.
    "listChatConversations": {},
    "getChatConversation": {404: _CONVERSATION},
    "listChatChannels": {},
    "createChatChannel": {403: ("forbidden",)},  # not an admin of the alliance (or none)
    "openDirectConversation": {
        403: ("chat_member_blocked", "chat_direct_not_allowed"),
        422: ("chat_invalid_members",),
        429: ("rate_limited",),  # a new conversation: limits.check("open")
    },
    "joinChatConversation": {404: _CONVERSATION},
    "addChatChannelMembers": {
        403: ("forbidden",),
        404: _CONVERSATION,
        422: ("chat_invalid_members",),
    },
    "removeChatChannelMember": {
        403: ("forbidden",),
        404: ("chat_conversation_not_found", "chat_member_not_found"),
    },
    "leaveChatConversation": {404: _CONVERSATION, 409: ("chat_not_following",)},
    "listChatMessages": {404: _CONVERSATION},
    "sendChatMessage": {
        403: ("chat_not_joined", *_MAY_WRITE, "reply_not_allowed"),
        404: _CONVERSATION,
        409: ("chat_client_id_reused",),
        422: ("chat_reply_to_invalid",),
        429: ("rate_limited",),
    },
    "markChatConversationRead": {
        403: ("chat_not_joined",),
        404: _CONVERSATION,
        429: ("rate_limited",),
    },
    "listChatReadReceipts": {
        403: ("chat_not_joined",),
        404: _CONVERSATION,
        409: ("chat_receipts_unavailable",),
    },
    "editChatMessage": {
        403: ("forbidden", *_MAY_WRITE),
        404: _MESSAGE,
        429: ("rate_limited",),
    },
    "deleteChatMessage": {403: ("forbidden",), 404: _MESSAGE},
    "addChatMessageReaction": {
        403: _MAY_WRITE,
        404: ("chat_reaction_not_found", *_MESSAGE),
        429: ("rate_limited",),
    },
    "removeChatMessageReaction": {
        404: ("chat_reaction_not_found", *_MESSAGE),
        429: ("rate_limited",),
    },
    "getChatPresence": {},
    "reportChatMessage": {404: _MESSAGE, 422: ("chat_not_in_alliance",)},
    "muteChatMember": {403: ("forbidden",), 404: ("chat_mute_member_not_found",)},
    "unmuteChatMember": {403: ("forbidden",), 409: ("chat_not_muted",)},
    "listChatModerationLog": {403: ("forbidden",)},
    # --- media (server/media/) ---
    "uploadMedia": {
        413: ("media_too_large",),  # MEDIA_MAX_BYTES (Content-Length, or the file read)
        415: ("media_unsupported_type",),  # not JPEG, PNG, WebP or GIF once decoded
        422: ("media_unreadable", "media_too_many_pixels"),
        429: ("media_quota_exceeded",),  # the day's uploads (quota.spend)
    },
    "listMedia": {},
    "getMedia": {404: ("media_not_found",)},
    "deleteMedia": {404: ("media_not_found",), 409: ("media_in_use",)},
    # --- meta ---
    "getMeta": {},
}


def operation_errors(operation_id: str, shape: Shape) -> dict[int, tuple[str, ...]]:
    """Every status and code the operation can answer: its own first, then the generic ones."""
    own = OPERATION_ERRORS.get(operation_id, {})
    unknown = [code for codes in own.values() for code in codes if code not in MESSAGES]
    if unknown:
        raise ValueError(f"{operation_id}: error codes not registered: {unknown}")
    return merge(own, generic_errors(shape))


def check_table(operation_ids: Iterable[str]) -> None:
    """Refuse a table that names an operation the document does not have, or a code that is
    not registered."""
    known = set(operation_ids)
    missing = sorted(set(OPERATION_ERRORS) - known)
    if missing:
        raise ValueError(f"server.api_errors names operations not in the document: {missing}")
    unknown = sorted(
        {code for e in OPERATION_ERRORS.values() for c in e.values() for code in c} - set(MESSAGES)
    )
    if unknown:
        raise ValueError(f"server.api_errors names error codes not registered: {unknown}")


def example_name(code: str, status: int) -> str:
    """The name of a code's example in ``components/examples`` (a few codes have two statuses)."""
    return f"{code}_{status}"


def example(code: str, status: int) -> dict[str, Any]:
    """An answer with ``code``, its English message as an example of the text."""
    return {
        "summary": code,
        "value": {"code": code, "status": status, "message": message_for(code, "en")},
    }


def response(status: int, codes: Iterable[str]) -> dict[str, Any]:
    """The OpenAPI response object of one error status: the error schema, one example per code
    (defined once in ``components/examples``, see ``example``) and the codes as
    ``x-error-codes``.

    ``code`` gets no ``enum``: a generated client must still parse a code added later.
    """
    codes = list(codes)
    phrase = http.HTTPStatus(status).phrase
    return {
        "description": f"{phrase}; `code` is one of: " + ", ".join(f"`{c}`" for c in codes),
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": {
                    code: {"$ref": f"#/components/examples/{example_name(code, status)}"}
                    for code in codes
                },
            }
        },
        "x-error-codes": codes,
    }
