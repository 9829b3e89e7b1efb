"""Uploads nobody used: a picture not attached within ``MEDIA_UNATTACHED_HOURS`` (a day) of its
upload is deleted with its files, by an hourly job, in bounded batches; yesterday's quota
counters go with them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from huey import crontab

from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db, jobs
from server.media import purge, quota
from server.media.models import Media

BATCH = 500


def sweep_unattached() -> int:
    """Delete the unattached uploads older than ``MEDIA_UNATTACHED_HOURS``: how many."""
    cutoff = utcnow() - timedelta(hours=current_app.config["MEDIA_UNATTACHED_HOURS"])
    swept = 0
    while not jobs.stopping.is_set():
        batch = db.session.execute(
            sa.select(Media.id, Media.owner_id, Media.digest, Media.format)
            .where(Media.purpose.is_(None), Media.created_at < cutoff)
            .order_by(Media.id)
            .limit(BATCH)
        ).all()
        if not batch:
            break
        db.session.execute(
            sa.delete(Media)
            .where(Media.id.in_([row.id for row in batch]), Media.purpose.is_(None))
            .execution_options(synchronize_session=False)
        )
        purge.after_commit([(row.owner_id, row.digest, row.format) for row in batch])
        commit()
        swept += len(batch)
    quota.forget_old_days()
    commit()
    return swept


@jobs.periodic_task(crontab(minute="41"))
def sweep_unattached_job() -> int:
    """Hourly: ``sweep_unattached``."""
    return sweep_unattached()
