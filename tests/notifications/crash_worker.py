"""A delivery worker in its own process, for the crash test: ``python -m
tests.notifications.crash_worker setup|deliver``. Settings come from the environment."""

from __future__ import annotations

import sys
from pathlib import Path

from flask_migrate import upgrade

from server import create_app
from server.common.tx import commit
from server.notifications import delivery, service
from tests.factories import insert_devices, insert_members

DEVICES = 1200


def setup() -> None:
    upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
    ids = insert_members(DEVICES, prefix="crash")
    insert_devices(ids, prefix="crash-token")
    service.notify(
        ids,
        "announcement",
        "announcement:1",
        {"title": "停电通知", "body": "今晚检修", "announcement_id": 1},
    )
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
