"""A delivery worker in its own process, for the crash test: ``python -m
tests.notifications.crash_worker setup|deliver``. Settings come from the environment."""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from server import create_app
from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db
from server.members.models import Member
from server.notifications import delivery, service
from server.notifications.models import Device

DEVICES = 1200


def setup() -> None:
    upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
    now = utcnow()
    ids = (
        db.session.execute(
            sa.insert(Member).returning(Member.id),
            [
                {
                    "email": f"crash{i}@example.com",
                    "username": f"crash{i}",
                    "display_name": f"成员{i}",
                    "name_key": "",
                    "bio": "",
                    "locale": "zh-Hans",
                    "time_zone": "Asia/Shanghai",
                    "profile_visibility": "members",
                    "role": "member",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(DEVICES)
            ],
        )
        .scalars()
        .all()
    )
    db.session.execute(
        sa.insert(Device),
        [{"member_id": m, "token": f"crash-token-{m}", "platform": "android"} for m in ids],
    )
    service.notify(ids, "announcement", "announcement:1", {"title": "停电通知", "body": "今晚检修"})
    commit()  # the jobs backend is "memory": nothing is delivered yet


def main() -> None:
    app = create_app({"JIAYUAN_ENV": "test", "JOBS_BACKEND": "memory", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        if sys.argv[1] == "setup":
            setup()
        else:
            print(dict(delivery.deliver_due()), flush=True)


if __name__ == "__main__":
    main()
