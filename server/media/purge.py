"""Files go after the rows that name them, off the request (the job queue).

Deleting a media row (by its owner, an owning object, the sweep or an eraser) queues
``purge_files`` after the commit. The job looks again: files shared by another row of the same
owner (the same bytes sent twice: ``names.digest``) stay, so a picture still attached
somewhere never loses its files, whatever order the deletes and uploads commit in. A storage
that does not answer is tried again later.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa

from server.common.tx import on_commit
from server.extensions import db, jobs
from server.media import names, storage
from server.media.models import Media


@jobs.task(retries=5, retry_delay=60)
def purge_files(owner_id: int, digest: str, extension: str) -> None:
    """Remove the files of ``digest`` unless a row of ``owner_id`` still names them."""
    named = db.session.execute(
        sa.select(Media.id).where(Media.owner_id == owner_id, Media.digest == digest).limit(1)
    ).first()
    db.session.rollback()  # nothing to write here: end the read before the storage calls
    if named is None:
        storage.current().delete(names.keys(digest, extension))


def after_commit(rows: list[tuple[int, str, str]]) -> None:
    """Purge the files of these (owner id, digest, extension) once the deletes commit."""
    for owner_id, digest, extension in dict.fromkeys(rows):
        on_commit(functools.partial(purge_files, owner_id, digest, extension))
