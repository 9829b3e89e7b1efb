"""Media schemas: a picture as anyone shown it sees it (``ImageSchema``, what features nest
for avatars, covers and post images), and an upload as its owner sees it (``MediaSchema``).

A variant is ``{url, width, height}``, made from the row's ``digest``, ``format`` and sizes
(``VariantField``); the same function fills a list's plain rows (``IMAGE_COMPUTED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload

from server.common import rows
from server.common.fields import Integer, LocalDateTime
from server.common.pagination import PageArgs
from server.media import names


def variant(digest: str, extension: str, name: str, width: int, height: int) -> dict[str, Any]:
    """``{url, width, height}`` of one variant."""
    return {"url": names.url(names.key(digest, name, extension)), "width": width, "height": height}


class VariantSchema(ma.Schema):
    url = ma.fields.String(metadata={"description": "Absolute URL; the file never changes"})
    width = Integer()
    height = Integer()


class VariantField(ma.fields.Nested):
    """One variant of the object dumped (a ``Media`` or a row with its columns)."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(VariantSchema, **kwargs)
        self.variant = name

    def get_value(
        self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing
    ) -> Any:
        if isinstance(obj, Mapping):
            obj = _Attributes(obj)
        name = self.variant
        return variant(
            obj.digest,
            obj.format,
            name,
            getattr(obj, f"{name}_width"),
            getattr(obj, f"{name}_height"),
        )


class _Attributes:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


class ImageSchema(ma.Schema):
    """A picture, as whoever is shown it sees it: the URLs and sizes of its variants, and a
    placeholder to paint while one loads."""

    id = Integer()
    animated = ma.fields.Boolean(metadata={"description": "display is an animated WebP"})
    blurhash = ma.fields.String(metadata={"description": "BlurHash of the picture"})
    color = ma.fields.String(metadata={"description": "Average colour, #rrggbb"})
    display = VariantField(
        "display",
        metadata={"description": "Shorter side at most 1080 px, longer at most 2160 px"},
    )
    thumb = VariantField(
        "thumb", metadata={"description": "Shorter side at most 320 px, longer at most 640 px"}
    )


class MediaSchema(ImageSchema):
    """One of the caller's own uploads."""

    kind = ma.fields.String(metadata={"description": "image"})
    source_format = ma.fields.String(metadata={"description": "jpeg, png, webp or gif: as decoded"})
    size = Integer(metadata={"description": "Bytes stored, every variant together"})
    attached = ma.fields.Boolean(
        metadata={"description": "In use (else deleted a day after the upload)"}
    )
    purpose = ma.fields.String(
        allow_none=True, metadata={"description": "What uses it: member.avatar, forum.post…"}
    )
    created_at = LocalDateTime()


def _variant_of(name: str) -> tuple[tuple[str, ...], Any]:
    columns = ("digest", "format", f"{name}_width", f"{name}_height")
    return columns, lambda digest, extension, width, height: variant(
        digest, extension, name, width, height
    )


# Plain rows (the list rule, server/common/rows.py). A feature showing a picture in its list
# registers ImageSchema with IMAGE_COMPUTED once it nests it (attachments.image_columns).
IMAGE_COMPUTED: rows.Computed = {"display": _variant_of("display"), "thumb": _variant_of("thumb")}
rows.serialiser(MediaSchema, IMAGE_COMPUTED)


class UploadSchema(ma.Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "The picture: JPEG, PNG, WebP or GIF (read from its content, not its "
            "name or type), at most MEDIA_MAX_BYTES (10 MiB) and MEDIA_MAX_PIXELS"
        },
    )


class MediaListArgs(PageArgs):
    attached = ma.fields.Boolean(
        load_default=None, metadata={"description": "Only those in use (true) or not (false)"}
    )
