"""Who may touch a media object: its uploader, and nobody else.

Another member's upload does not exist for the caller (``404 media_not_found``), whether they
try to read its record, delete it or attach it: ids are sequential, and a 403 would confirm
that one is taken. (Its files are still readable by whoever has their URLs: see ``names``.)
"""

from __future__ import annotations

import sqlalchemy as sa

from server.errors import NotFound, register_messages
from server.extensions import db
from server.media.models import Media

register_messages(
    {
        "media_not_found": {
            "zh-Hans": "找不到该图片。",
            "zh-Hant": "找不到該圖片。",
            "en": "No such upload of yours.",
        },
        "media_in_use": {
            "zh-Hans": "该图片已在别处使用。",
            "zh-Hant": "該圖片已在別處使用。",
            "en": "That upload is already used elsewhere.",
        },
        "media_not_image": {
            "zh-Hans": "这里只能使用图片。",
            "zh-Hant": "這裡只能使用圖片。",
            "en": "Only a picture can be used here.",
        },
    }
)


def load_own(owner_id: int, media_id: int, *, for_update: bool = False) -> Media:
    """The member's own upload ``media_id``; 404 ``media_not_found`` for anyone else's."""
    stmt = sa.select(Media).where(Media.id == media_id, Media.owner_id == owner_id)
    if for_update:
        stmt = stmt.with_for_update()
    media = db.session.execute(stmt).scalar_one_or_none()
    if media is None:
        raise NotFound("media_not_found")
    return media
