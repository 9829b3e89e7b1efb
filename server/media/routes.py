"""``/api/v1/media``: upload a picture, list, read and delete one's own. Thin views; the upload
body is received before anything else runs (``_receive_upload``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView

from server.api import Blueprint, current_member
from server.auth.limits import member_key
from server.common.pagination import page_schema
from server.errors import DomainError
from server.extensions import limiter
from server.media import service
from server.media.schemas import MediaListArgs, MediaSchema, UploadSchema

blp = Blueprint(
    "media", __name__, url_prefix="/api/v1/media", description="圖片 media: pictures for features"
)

MULTIPART_SLACK = 64 * 1024  # the form's boundaries and headers around the file


@blp.url_value_preprocessor
def _receive_upload(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """An upload may be ``MEDIA_MAX_BYTES`` (not the app's ``MAX_CONTENT_LENGTH``); one that
    says it is larger is refused before a byte is read, and a body that is not a form is 415,
    as a form sent to a JSON operation is. URL preprocessors run before every
    ``before_request`` hook: the body of a signed-in upload is read here, before the limiter's
    and the token's look-ups begin the request's transaction, so that a phone sending 10 MiB
    slowly holds no lock meanwhile (SQLite's write lock is taken as a POST's transaction
    begins). Read with ``cache=True``: ``Idempotency-Key`` fingerprints the same bytes."""
    if request.method != "POST" or endpoint != "media.Uploads":
        return
    if request.mimetype != "multipart/form-data":
        raise DomainError("unsupported_media_type", 415)  # as JSON operations refuse a form
    limit = current_app.config["MEDIA_MAX_BYTES"] + MULTIPART_SLACK
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise service.too_large()
    if request.headers.get("Authorization", "").startswith("Bearer "):
        request.get_data(cache=True)


@blp.route("")
class Uploads(MethodView):
    decorators = [
        limiter.limit(
            lambda: current_app.config["MEDIA_UPLOAD_LIMIT"],
            key_func=member_key,
            methods=["POST"],
            scope="media-upload",
        )
    ]

    @blp.doc(operationId="listMedia")
    @blp.auth()
    @blp.arguments(MediaListArgs, location="query")
    @blp.response(200, page_schema(MediaSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Your uploads, newest first (attached=true|false: in use or not)"""
        return service.list_media(current_member(), **args)

    @blp.doc(operationId="uploadMedia")
    @blp.auth()
    @blp.arguments(UploadSchema, location="files")
    @blp.response(201, MediaSchema)
    def post(self, files: dict[str, Any]) -> Any:
        """Upload a picture (multipart, field `file`): re-encoded without its metadata; the
        answer has its id and its variants' URLs and sizes"""
        return service.upload_media(current_member(), files["file"].stream)


@blp.route("/<id:media_id>")
class OneMedia(MethodView):
    @blp.doc(operationId="getMedia")
    @blp.auth()
    @blp.response(200, MediaSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, media_id: int) -> Any:
        """One of your uploads"""
        return service.get_media(current_member(), media_id)

    @blp.doc(operationId="deleteMedia")
    @blp.auth()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, media_id: int) -> None:
        """Delete one of your uploads that nothing uses; its files go too"""
        service.delete_media(current_member(), media_id)
