"""A member's own pictures: upload, read, list, delete.

**Upload** (``upload_media``). The body was received before the request's transaction began
(``routes``). Then: the size (``MEDIA_MAX_BYTES``, 413 ``media_too_large``) and the day's
quota (``quota``); the request's reading transaction ends, so that decoding — 0.1–0.4 s for a
12-megapixel photo (bench/README.md, "Media") — holds no lock (SQLite takes its write lock as a
POST's transaction begins); the picture is decoded and re-encoded (``processing``: refusals are
415/422 and store nothing), its variants are stored under their names (``names``), and one
short transaction counts the upload and writes the row. The answer carries the id and every
variant's URL, width and height, the blurhash and the colour: the picture is ready when the
answer arrives. A storage that does not take the files is an outage (503, ``Retry-After``);
a failure after files were written hands them to ``purge``.

**Delete** (``delete_media``): one's own upload, while nothing uses it (409 ``media_in_use``:
take it out of the avatar, post or message first; deleting those releases their pictures).
"""

from __future__ import annotations

import logging
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app, g

from server.common.pagination import Page, SortKey, keyset_page
from server.common.tx import commit
from server.errors import Conflict, DomainError, register_messages
from server.extensions import db
from server.media import names, processing, purge, quota, storage
from server.media.access import load_own
from server.media.models import Media
from server.members.models import Member

log = logging.getLogger(__name__)

register_messages(
    {
        "media_too_large": {
            "zh-Hans": "图片文件过大（最大 {limit} MB）。",
            "zh-Hant": "圖片檔案過大（最大 {limit} MB）。",
            "en": "The picture file is too large (at most {limit} MB).",
        },
    }
)

MEDIA = Media.__table__
# what MediaSchema shows, as columns of one select (the list rule)
_ITEM_COLUMNS = (
    "id", "kind", "animated", "digest", "format", "display_width", "display_height",
    "thumb_width", "thumb_height", "blurhash", "color", "source_format", "size", "purpose",
    "created_at",
)  # fmt: skip


def too_large() -> DomainError:
    limit = current_app.config["MEDIA_MAX_BYTES"] / (1024 * 1024)
    return DomainError("media_too_large", 413, limit=f"{limit:g}")


def limits() -> processing.Limits:
    config = current_app.config
    return processing.Limits(
        max_pixels=config["MEDIA_MAX_PIXELS"],
        max_frames=config["MEDIA_MAX_FRAMES"],
        max_animation_pixels=config["MEDIA_MAX_ANIMATION_PIXELS"],
    )


def upload_media(member: Member, stream: IO[bytes]) -> Media:
    """Check, re-encode and store a picture ``member`` sent; it is theirs and unattached."""
    data = stream.read(current_app.config["MEDIA_MAX_BYTES"] + 1)
    if len(data) > current_app.config["MEDIA_MAX_BYTES"]:
        raise too_large()
    if not data:
        raise DomainError("media_unsupported_type", 415)
    owner_id = member.id
    quota.check(owner_id, len(data))
    _end_reading()
    picture = processing.process(data, limits())
    digest = names.digest(owner_id, data)
    store = storage.current()
    try:
        for variant in picture.variants:
            store.put(names.key(digest, variant.name), variant.data, processing.CONTENT_TYPE)
    except storage.Unavailable as exc:
        log.warning("media storage unavailable: %s", str(exc)[:300])
        _purge_now(owner_id, digest)
        raise DomainError("service_unavailable", 503, headers={"Retry-After": "5"}) from exc
    try:
        quota.spend(owner_id, len(data))
        media = Media(
            owner_id=owner_id,
            digest=digest,
            kind="image",
            source_format=picture.source_format,
            format=processing.FORMAT,
            animated=picture.animated,
            display_width=picture.display.width,
            display_height=picture.display.height,
            thumb_width=picture.thumb.width,
            thumb_height=picture.thumb.height,
            blurhash=picture.blurhash,
            color=picture.color,
            size=sum(len(variant.data) for variant in picture.variants),
        )
        db.session.add(media)
        commit()
    except BaseException:
        db.session.rollback()
        _purge_now(owner_id, digest)
        raise
    return media


def _end_reading() -> None:
    """End the request's transaction before the picture is decoded, unless it already holds
    a write that must commit with the upload (``Idempotency-Key``: the key is taken in the
    request's transaction, ``server.common.idempotency``); then the lock is held meanwhile."""
    if g.get("idempotency_key") is None:
        db.session.commit()


def _purge_now(owner_id: int, digest: str) -> None:
    try:
        purge.purge_files(owner_id, digest, processing.EXTENSION)
    except Exception:  # the sweep of files is a nicety here; the failure itself is what counts
        log.exception("could not queue the purge of an upload that was not stored")


def get_media(member: Member, media_id: int) -> Media:
    """One of the member's own uploads."""
    return load_own(member.id, media_id)


def list_media(
    member: Member, *, attached: bool | None = None, limit: int, cursor: str | None
) -> Page[Any]:
    """The member's own uploads, newest first; ``attached`` keeps those in use (or not)."""
    m = MEDIA.c
    stmt = sa.select(
        *(m[name] for name in _ITEM_COLUMNS), m.purpose.is_not(None).label("attached")
    ).where(m.owner_id == member.id)
    if attached is not None:
        stmt = stmt.where(m.purpose.is_not(None) if attached else m.purpose.is_(None))
    return keyset_page(
        stmt, [SortKey(m.id)], name="media.uploads", limit=limit, cursor=cursor, rows=True
    )


def delete_media(member: Member, media_id: int) -> None:
    """Delete one's own upload and, after the commit, its files (unless still shared)."""
    media = load_own(member.id, media_id, for_update=True)
    if media.attached:
        raise Conflict("media_in_use")
    db.session.delete(media)
    purge.after_commit([(media.owner_id, media.digest, media.format)])
    commit()
