"""圖片 media: the pictures every feature uses (avatars, covers, images in posts and messages),
uploaded once, checked by decoding, re-encoded without their metadata, stored on local disk or
S3-compatible object storage, and attached by id. Other features use ``attachments``
(``claim``, ``claim_all``, ``release``, ``images``) and nest ``schemas.ImageSchema``.

Modules, lowest first; each imports only those above it:

- ``models`` — uploads (owner, what uses them, their variants' sizes) and daily counters.
- ``processing`` — Pillow: decode or refuse, orientation, sRGB, variants, placeholders.
- ``names`` — files' names (content-addressed under a secret) and their URLs.
- ``storage`` — local disk or S3 (boto3), behind one small interface.
- ``access`` — one's own uploads only (``media_not_found`` for anyone else's).
- ``quota`` — uploads per member per day.
- ``purge`` — files removed after the rows naming them are gone (a job).
- ``service`` — upload, read, list and delete one's own uploads.
- ``attachments`` — what other features call: claim by id, release, show.
- ``sweep`` — the hourly job deleting uploads unattached after a day.
- ``personal_data`` — uploads in the export (with URLs), and their erasure.
- ``schemas`` — request and response schemas; a picture as others see it.
- ``routes`` — ``/api/v1/media``.
- ``files`` — ``GET /media/<key>``: the files themselves (local disk, or a redirect to S3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from PIL import Image

    from server.common import privacy
    from server.media import files, personal_data, sweep  # noqa: F401  (sweep: its job)
    from server.media.routes import blp

    # Pillow's own guard against decompression bombs, behind ours (processing._open): it
    # refuses at twice this many pixels whatever MEDIA_MAX_PIXELS says
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, app.config["MEDIA_MAX_PIXELS"])
    api.register_blueprint(blp)
    files.install(app)
    # after the features whose content holds pictures, before the account itself
    privacy.register("media", exporter=personal_data.export, eraser=personal_data.erase, order=900)
