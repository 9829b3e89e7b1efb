"""Reading state: how far a member has read a thread, their bookmarks, and how much they hear
about it (watching, normal, muted).

Anyone who can see a thread keeps their own state of it (``access.load_thread``), one row per
member and thread made on first use (``state.state_of``); nobody else's is ever touched here.
Reading up to a post reads the notifications about posts up to it too.
"""

from __future__ import annotations

from server.common.time import utcnow
from server.common.tx import commit
from server.forum import access, notices
from server.forum.state import state_of
from server.forum.threads import ThreadItem
from server.members.models import Member


def mark_read(member: Member, thread_id: int, number: int) -> ThreadItem:
    """The caller has read up to post ``number``; notifications about posts up to it are read
    too (and their pushes withdrawn from the member's other devices)."""
    thread, _category = access.load_thread(member, thread_id)
    state = state_of(member.id, thread.id)
    state.last_read_number = max(state.last_read_number, min(number, thread.highest_number))
    notices.read_up_to(member, thread, state.last_read_number)
    commit()
    return ThreadItem(thread, state.last_read_number, state.level, state.bookmarked_at)


def set_bookmark(member: Member, thread_id: int, on: bool) -> ThreadItem:
    """Bookmark the thread (keeping the first bookmark's time), or remove the bookmark."""
    thread, _category = access.load_thread(member, thread_id)
    state = state_of(member.id, thread.id)
    state.bookmarked_at = (state.bookmarked_at or utcnow()) if on else None
    commit()
    return ThreadItem(thread, state.last_read_number, state.level, state.bookmarked_at)


def set_level(member: Member, thread_id: int, level: str) -> ThreadItem:
    """watching (every reply), normal (replies to me and mentions), muted (nothing)."""
    thread, _category = access.load_thread(member, thread_id)
    state = state_of(member.id, thread.id)
    state.level, state.level_chosen = level, True
    commit()
    return ThreadItem(thread, state.last_read_number, state.level, state.bookmarked_at)
