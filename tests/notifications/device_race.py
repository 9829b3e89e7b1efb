"""Many registrations of one member's devices at once, each on its own connection, in a
process of its own (the test suite's connection is one rolled-back transaction, where nothing
can race): ``python -m tests.notifications.device_race``. Settings come from the environment;
prints the member's devices as JSON."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from server import create_app
from server.extensions import db
from server.members.models import Member
from server.notifications import devices
from server.notifications.models import Device
from tests.factories import insert_members

REGISTRATIONS = 24


def main() -> None:
    app = create_app({"JIAYUAN_ENV": "test", "JOBS_BACKEND": "memory", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
        [member_id] = insert_members(1, prefix="racer")
        db.session.commit()
    start = threading.Barrier(REGISTRATIONS)
    errors: list[str] = []

    def register(n: int) -> None:
        with app.app_context():
            member = db.session.get(Member, member_id)
            db.session.commit()  # what the request read before is not part of the race
            start.wait()
            try:
                devices.register_device(
                    member, {"token": f"racing-phone-{n:02d}", "platform": "android"}
                )
            except Exception as exc:  # reported, not hidden: a race must not fail a request
                errors.append(repr(exc))

    threads = [threading.Thread(target=register, args=(n,)) for n in range(REGISTRATIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with app.app_context():
        tokens = list(
            db.session.execute(
                sa.select(Device.token).where(Device.member_id == member_id)
            ).scalars()
        )
    print(json.dumps({"tokens": sorted(tokens), "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
