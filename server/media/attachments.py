"""How other features use pictures: by id, the uploader's own, pictures only, one use each.

A feature that takes a picture — an avatar (``avatar_media_id``), a cover
(``cover_media_id``), a post's ``media_ids``, an image in a forum post's or chat message's
Markdown (``![描述](media:42)``, read by ``referenced_ids``) — calls, in its own transaction:

- ``claim(member, media_id, purpose, subject_id)`` → the ``Media``. It must be the member's
  own upload (``404 media_not_found`` otherwise, for another member's too), a picture (``422
  media_not_image``) and not used elsewhere (``409 media_in_use``); claiming it again for the
  same use is no change. ``purpose`` names the use (``member.avatar``, ``alliance.avatar``,
  ``forum.post``, ``chat.message``, ``event.cover``…) and ``subject_id`` the object (the
  member, the alliance, the post…). A claimed picture is no longer swept after a day.
- ``claim_all(member, media_ids, purpose, subject_id)`` → the ``Media`` in the order given
  (a post's pictures, an edited message's): what the subject held before and is no longer
  among them is released.
- ``release(purpose, subject_id, keep=())`` deletes what a subject holds, but ``keep`` (the
  avatar replaced, the post or message deleted); the files go after the commit (``purge``).
- ``images(ids)`` → ``{id: Media}`` to show them (``schemas.ImageSchema`` dumps one; in a
  list, ``image_columns`` and ``schemas.IMAGE_COMPUTED`` do it in the list's one select).

The feature's column is a foreign key to ``media.id`` with ``ondelete="SET NULL"``: erasing a
member deletes their pictures (``personal_data``), and the column empties itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from server.common import rows
from server.common.time import utcnow
from server.errors import Conflict, DomainError, NotFound
from server.extensions import db
from server.media import purge
from server.media.models import Media
from server.members.models import Member

PURPOSE = re.compile(r"[a-z]+\.[a-z_]+")
# ![描述](media:42): how Markdown names an uploaded picture
REFERENCE = re.compile(r"!\[[^\]\n]*\]\(\s*media:([1-9][0-9]{0,9})\s*\)")
# what ImageSchema shows, for a list's select (``image_columns``)
IMAGE_COLUMNS = (
    "id", "animated", "digest", "format", "display_width", "display_height", "thumb_width",
    "thumb_height", "blurhash", "color",
)  # fmt: skip


def _check(media: Media, purpose: str, subject_id: int) -> None:
    if media.kind != "image":
        raise DomainError("media_not_image", 422)
    if media.purpose is not None and (media.purpose, media.subject_id) != (purpose, subject_id):
        raise Conflict("media_in_use")


def _attach(media: Media, purpose: str, subject_id: int) -> None:
    if media.purpose is None:
        media.purpose, media.subject_id, media.attached_at = purpose, subject_id, utcnow()


def _valid_purpose(purpose: str) -> str:
    if len(purpose) > 32 or not PURPOSE.fullmatch(purpose):
        raise ValueError(f"a media purpose is <feature>.<use>, not {purpose!r}")
    return purpose


def claim(member: Member, media_id: int, purpose: str, subject_id: int) -> Media:
    """Attach the member's own upload ``media_id`` to ``subject_id`` for ``purpose``."""
    (media,) = claim_all(member, [media_id], purpose, subject_id, release_others=False)
    return media


def claim_all(
    member: Member,
    media_ids: Sequence[int],
    purpose: str,
    subject_id: int,
    *,
    release_others: bool = True,
) -> list[Media]:
    """Attach these uploads of the member's to ``subject_id`` (in this order); with
    ``release_others``, whatever the subject held for ``purpose`` besides them is released."""
    _valid_purpose(purpose)
    ids = list(dict.fromkeys(media_ids))
    found: dict[int, Media] = {}
    if ids:
        found = {
            media.id: media
            for media in db.session.execute(
                sa.select(Media)
                .where(Media.id.in_(ids), Media.owner_id == member.id)
                .order_by(Media.id)
                .with_for_update()
            ).scalars()
        }
    if len(found) != len(ids):
        raise NotFound("media_not_found")
    for media_id in ids:
        _check(found[media_id], purpose, subject_id)
    for media_id in ids:
        _attach(found[media_id], purpose, subject_id)
    if release_others:
        release(purpose, subject_id, keep=ids)
    return [found[media_id] for media_id in ids]


def release(purpose: str, subject_id: int, *, keep: Iterable[int] = ()) -> int:
    """Delete the pictures ``subject_id`` holds for ``purpose`` (but ``keep``); their files
    go after the commit. How many were released."""
    stmt = sa.select(Media.id, Media.owner_id, Media.digest, Media.format).where(
        Media.purpose == _valid_purpose(purpose), Media.subject_id == subject_id
    )
    kept = list(keep)
    if kept:
        stmt = stmt.where(Media.id.not_in(kept))
    held = db.session.execute(stmt).all()
    if not held:
        return 0
    db.session.execute(
        sa.delete(Media)
        .where(Media.id.in_([row.id for row in held]))
        .execution_options(synchronize_session=False)
    )
    purge.after_commit([(row.owner_id, row.digest, row.format) for row in held])
    return len(held)


def images(media_ids: Iterable[int]) -> dict[int, Media]:
    """The pictures with these ids, to show them (no ownership check: whoever holds the ids
    shows them)."""
    ids = list(dict.fromkeys(media_ids))
    if not ids:
        return {}
    found = db.session.execute(sa.select(Media).where(Media.id.in_(ids))).scalars()
    return {media.id: media for media in found}


def referenced_ids(markdown: str) -> list[int]:
    """The upload ids a Markdown body names as images (``![…](media:42)``), first use first."""
    return list(dict.fromkeys(int(found) for found in REFERENCE.findall(markdown)))


def image_columns(media: sa.FromClause, prefix: str) -> list[sa.Label[Any]]:
    """A picture in another list's row (an outer join to ``media`` or an alias of it): the
    columns ``ImageSchema`` reads, labelled ``<prefix>__<column>``."""
    return rows.prefixed(prefix, *(media.c[name] for name in IMAGE_COLUMNS))
