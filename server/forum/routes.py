"""``/api/v1/forum``: categories, threads, posts, reading state, reactions, flags, moderation
and search. Thin views: decorators (posting limits from ``limits``), then one verb of
``categories``, ``threads``, ``posts``, ``reading``, ``moderation`` or ``search``."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from server.api import Blueprint, current_member
from server.auth.limits import member_key
from server.common.pagination import PageArgs, page_schema, whole
from server.extensions import limiter
from server.forum import categories, limits, moderation, posts, reading, threads
from server.forum import search as forum_search
from server.forum.schemas import (
    REACTION_NAMES,
    AuditArgs,
    AuditEntrySchema,
    CategoryCreateSchema,
    CategoryFields,
    CategorySchema,
    FlagCreateSchema,
    FlagResultSchema,
    LevelSchema,
    MemberModerationSchema,
    ModeratedPostSchema,
    ModeratedThreadSchema,
    PostCreateSchema,
    PostEditSchema,
    PostListArgs,
    PostModerationSchema,
    PostSchema,
    QueueItemSchema,
    ReadSchema,
    RevisionSchema,
    SearchArgs,
    SearchResultSchema,
    SilenceSchema,
    ThreadCreateSchema,
    ThreadDetailSchema,
    ThreadItemSchema,
    ThreadListArgs,
    ThreadModerationSchema,
    ThreadStateSchema,
    ThreadUpdateSchema,
)

blp = Blueprint("forum", __name__, url_prefix="/api/v1/forum", description="微論壇 forum")


def _created(response: Response) -> bool:
    return response.status_code == 201


# --- categories -----------------------------------------------------------------------------


@blp.route("/categories")
class Categories(MethodView):
    @blp.doc(operationId="listForumCategories")
    @blp.auth()
    @blp.response(200, page_schema(CategorySchema))
    def get(self) -> Any:
        """Every category, in order, each with its subcategories and whether the caller may post"""
        return whole(categories.list_categories(current_member()))

    @blp.doc(operationId="createForumCategory")
    @blp.auth()
    @blp.arguments(CategoryCreateSchema)
    @blp.response(201, CategorySchema)
    @blp.alt_response(403, response="FORBIDDEN")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a category (organisers)"""
        return categories.create_category(current_member(), data)


@blp.route("/categories/<id:category_id>")
class Category(MethodView):
    @blp.doc(operationId="getForumCategory")
    @blp.auth()
    @blp.response(200, CategorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, category_id: int) -> Any:
        """One category and its subcategories"""
        return categories.get_category(current_member(), category_id)

    @blp.doc(operationId="updateForumCategory")
    @blp.auth()
    @blp.arguments(CategoryFields)
    @blp.response(200, CategorySchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes: dict[str, Any], category_id: int) -> Any:
        """Change a category (organisers)"""
        return categories.update_category(current_member(), category_id, changes)

    @blp.doc(operationId="deleteForumCategory")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, category_id: int) -> None:
        """Remove an empty category (organisers)"""
        categories.delete_category(current_member(), category_id)


# --- threads --------------------------------------------------------------------------------


@blp.route("/threads")
class Threads(MethodView):
    decorators = [
        limiter.limit(
            limits.thread_limit,
            key_func=member_key,
            methods=["POST"],
            deduct_when=_created,
            scope="forum-thread",
        )
    ]

    @blp.doc(operationId="listForumThreads")
    @blp.auth()
    @blp.arguments(ThreadListArgs, location="query")
    @blp.response(200, page_schema(ThreadItemSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Threads: latest, newest or top; by category, tag or author; unanswered; or the
        caller's new, unread, bookmarked or watched threads. Each with counts and the caller's
        state."""
        return threads.list_threads(current_member(), **args)

    @blp.doc(operationId="createForumThread")
    @blp.auth()
    @blp.arguments(ThreadCreateSchema)
    @blp.response(201, ThreadDetailSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any]) -> Any:
        """Start a thread (rate-limited, stricter for new accounts)"""
        return threads.create_thread(current_member(), data)


@blp.route("/threads/<id:thread_id>")
class Thread(MethodView):
    @blp.doc(operationId="getForumThread")
    @blp.auth()
    @blp.response(200, ThreadDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, thread_id: int) -> Any:
        """A thread: counts, the caller's state, where to start reading, what the caller may do"""
        return threads.get_thread(current_member(), thread_id)

    @blp.doc(operationId="updateForumThread")
    @blp.auth()
    @blp.arguments(ThreadUpdateSchema)
    @blp.response(200, ThreadDetailSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes: dict[str, Any], thread_id: int) -> Any:
        """Change the title or tags (the author within the edit window, or moderators)"""
        return threads.update_thread(current_member(), thread_id, changes)

    @blp.doc(operationId="deleteForumThread")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, thread_id: int) -> None:
        """Delete a thread (its author while nobody else has replied; moderators)"""
        threads.delete_thread(current_member(), thread_id)


@blp.route("/threads/<id:thread_id>/posts")
class ThreadPosts(MethodView):
    decorators = [
        limiter.limit(
            limits.reply_limit,
            key_func=member_key,
            methods=["POST"],
            deduct_when=_created,
            scope="forum-reply",
        )
    ]

    @blp.doc(operationId="listForumPosts")
    @blp.auth()
    @blp.arguments(PostListArgs, location="query")
    @blp.response(200, page_schema(PostSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], thread_id: int) -> Any:
        """The thread's posts in order, from ``from_number`` on"""
        return posts.list_posts(current_member(), thread_id, **args)

    @blp.doc(operationId="createForumPost")
    @blp.auth()
    @blp.arguments(PostCreateSchema)
    @blp.response(201, PostSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], thread_id: int) -> Any:
        """Reply (rate-limited, stricter for new accounts); mentions and watchers are notified"""
        return posts.create_post(current_member(), thread_id, data)


@blp.route("/threads/<id:thread_id>/read")
class ThreadRead(MethodView):
    @blp.doc(operationId="markForumThreadRead")
    @blp.auth()
    @blp.arguments(ReadSchema)
    @blp.response(200, ThreadStateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], thread_id: int) -> Any:
        """The caller has read up to post ``number`` (never moves back)"""
        return reading.mark_read(current_member(), thread_id, data["number"])


@blp.route("/threads/<id:thread_id>/bookmark")
class ThreadBookmark(MethodView):
    @blp.doc(operationId="bookmarkForumThread")
    @blp.auth()
    @blp.response(200, ThreadStateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, thread_id: int) -> Any:
        """Bookmark the thread"""
        return reading.set_bookmark(current_member(), thread_id, True)

    @blp.doc(operationId="unbookmarkForumThread")
    @blp.auth()
    @blp.response(200, ThreadStateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, thread_id: int) -> Any:
        """Remove the bookmark"""
        return reading.set_bookmark(current_member(), thread_id, False)


@blp.route("/threads/<id:thread_id>/notification-level")
class ThreadLevel(MethodView):
    @blp.doc(operationId="setForumThreadNotificationLevel")
    @blp.auth()
    @blp.arguments(LevelSchema)
    @blp.response(200, ThreadStateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data: dict[str, Any], thread_id: int) -> Any:
        """watching (every reply), normal (replies to me, mentions) or muted"""
        return reading.set_level(current_member(), thread_id, data["level"])


@blp.route("/threads/<id:thread_id>/moderation")
class ThreadModeration(MethodView):
    @blp.doc(operationId="moderateForumThread")
    @blp.auth()
    @blp.arguments(ThreadModerationSchema)
    @blp.response(200, ModeratedThreadSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any], thread_id: int) -> Any:
        """Lock, unlock, pin, unpin, move, delete or restore a thread (moderators; logged)"""
        return moderation.moderate_thread(current_member(), thread_id, data)


# --- posts ----------------------------------------------------------------------------------


@blp.route("/posts/<id:post_id>")
class Post(MethodView):
    decorators = [limiter.limit("30/hour", key_func=member_key, methods=["PATCH"])]

    @blp.doc(operationId="updateForumPost")
    @blp.auth()
    @blp.arguments(PostEditSchema)
    @blp.response(200, PostSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data: dict[str, Any], post_id: int) -> Any:
        """Edit a post (its author within the edit window, or moderators); a revision is kept"""
        return posts.update_post(current_member(), post_id, data)

    @blp.doc(operationId="deleteForumPost")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, post_id: int) -> None:
        """Delete a post (its author; moderators through moderation)"""
        posts.delete_post(current_member(), post_id)


@blp.route("/posts/<id:post_id>/revisions")
class PostRevisions(MethodView):
    @blp.doc(operationId="listForumPostRevisions")
    @blp.auth()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(RevisionSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], post_id: int) -> Any:
        """Earlier versions of a post, newest first (its author and moderators)"""
        return posts.list_revisions(current_member(), post_id, **args)


# Any name reaches ``posts.react_to_post``, which answers an unknown one with
# ``forum_reaction_not_found`` (a route that did not match would be a bare ``not_found``); the
# document lists the names.
_REACTION = {
    "in": "path",
    "name": "reaction",
    "required": True,
    "schema": {"type": "string", "enum": list(REACTION_NAMES)},
}


@blp.route("/posts/<id:post_id>/reactions/<reaction>")
class PostReaction(MethodView):
    decorators = [limiter.limit("120/hour", key_func=member_key, methods=["PUT"])]

    @blp.doc(operationId="addForumPostReaction", parameters=[_REACTION])
    @blp.auth()
    @blp.response(200, PostSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, post_id: int, reaction: str) -> Any:
        """React to a post (like 👍, heart ❤️, laugh 😂, wow 😮, sad 😢, thanks 🙏)"""
        return posts.react_to_post(current_member(), post_id, reaction, True)

    @blp.doc(operationId="removeForumPostReaction", parameters=[_REACTION])
    @blp.auth()
    @blp.response(200, PostSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, post_id: int, reaction: str) -> Any:
        """Take a reaction back"""
        return posts.react_to_post(current_member(), post_id, reaction, False)


@blp.route("/posts/<id:post_id>/flags")
class PostFlags(MethodView):
    decorators = [limiter.limit("20/hour", key_func=member_key, methods=["POST"])]

    @blp.doc(operationId="flagForumPost")
    @blp.auth()
    @blp.arguments(FlagCreateSchema)
    @blp.response(201, FlagResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any], post_id: int) -> Any:
        """Flag a post for moderators; enough flags hide it pending review"""
        return moderation.flag_post(current_member(), post_id, data)


@blp.route("/posts/<id:post_id>/moderation")
class PostModeration(MethodView):
    @blp.doc(operationId="moderateForumPost")
    @blp.auth()
    @blp.arguments(PostModerationSchema)
    @blp.response(200, ModeratedPostSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any], post_id: int) -> Any:
        """Hide, restore or delete a post (moderators; logged, the author is told)"""
        return moderation.moderate_post(current_member(), post_id, data)


# --- moderation -----------------------------------------------------------------------------


@blp.route("/members/<id:member_id>/moderation")
class MemberModeration(MethodView):
    @blp.doc(operationId="moderateForumMember")
    @blp.auth()
    @blp.arguments(MemberModerationSchema)
    @blp.response(200, SilenceSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any], member_id: int) -> Any:
        """Silence a member for some hours, or lift it (moderators; logged)"""
        return moderation.moderate_member(current_member(), member_id, data)


@blp.route("/moderation/queue")
class ReviewQueue(MethodView):
    @blp.doc(operationId="listForumModerationQueue")
    @blp.auth()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(QueueItemSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    def get(self, args: dict[str, Any]) -> Any:
        """Posts with open flags, most recently flagged first (moderators)"""
        return moderation.list_queue_items(current_member(), **args)


@blp.route("/moderation/log")
class AuditLog(MethodView):
    @blp.doc(operationId="listForumModerationLog")
    @blp.auth()
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, page_schema(AuditEntrySchema))
    @blp.alt_response(403, response="FORBIDDEN")
    def get(self, args: dict[str, Any]) -> Any:
        """Every moderation action with who, what and why, newest first (moderators)"""
        return moderation.list_log_entries(current_member(), **args)


# --- search ---------------------------------------------------------------------------------


@blp.route("/search")
class Search(MethodView):
    decorators = [
        limiter.limit(lambda: current_app.config["FORUM_SEARCH_LIMIT"], key_func=member_key)
    ]

    @blp.doc(operationId="searchForum")
    @blp.auth()
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, page_schema(SearchResultSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Search titles and posts; 繁/简 alike, words segmented; snippets with matches marked"""
        return forum_search.search_posts(current_member(), **args)
