"""The other side of ``test_owed_faults``: ``python -m tests.common.fanout_cli setup|announce``
migrates the database and makes the members, or announces (the job goes to the Redis queue
that ``REDIS_URL`` names). Settings come from the environment."""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from server import create_app
from server.common.tx import commit
from server.extensions import db
from server.members.models import Member
from tests.factories import insert_members

MEMBERS = 300


def main() -> None:
    app = create_app({"LOG_LEVEL": "WARNING"})
    with app.app_context():
        if sys.argv[1] == "setup":
            upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
            insert_members(MEMBERS + 1, prefix="fanout")
            commit()
        else:
            from server.notifications import announcements as service

            organiser = db.session.scalar(sa.select(Member).order_by(Member.id).limit(1))
            announcement = service.create_announcement(
                organiser, "停电通知", f"第{sys.argv[2]}次检修"
            )
            print(announcement.id, flush=True)


if __name__ == "__main__":
    main()
