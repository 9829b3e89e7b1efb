"""Command-line entry points: ``flask serve``, ``flask worker``, ``flask owed-work``,
``flask create-admin``, ``flask seed-demo``."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"))
    @click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int)
    def serve(host: str, port: int) -> None:
        """Serve HTTP and Socket.IO on one port (development), with an in-process job worker."""
        from server.extensions import jobs, socketio

        if current_app.config["JOBS_IN_PROCESS"] and not jobs.huey.immediate:
            jobs.start_worker()
        click.echo(f"Jiayuan on http://{host}:{port}  (docs: /api/v1/docs)")
        # Flask ignores app.run() inside its CLI unless told this is intended.
        os.environ.pop("FLASK_RUN_FROM_CLI", None)
        try:
            socketio.run(
                current_app._get_current_object(),  # type: ignore[attr-defined]
                host=host,
                port=port,
                allow_unsafe_werkzeug=True,
                use_reloader=False,
            )
        finally:
            jobs.stop_worker()

    @app.cli.command("worker")
    @click.option("--workers", default=2, type=int, help="Worker threads")
    def worker(workers: int) -> None:
        """Run the job consumer (production runs this beside the web processes). SIGTERM stops
        it gracefully: running tasks finish or hand their work back."""
        from server.extensions import jobs

        jobs.consumer(workers=workers).run()

    @app.cli.command("owed-work")
    @click.option("--retry", "retry_id", type=int, help="Try failed work again")
    def owed_work(retry_id: int | None) -> None:
        """List work that must happen and is not done (fan-outs), or retry failed work."""
        import sqlalchemy as sa

        from server.common import owed
        from server.extensions import db

        if retry_id is not None:
            if not owed.retry(retry_id):
                raise click.ClickException(f"no failed work {retry_id}")
            click.echo(f"work {retry_id} will be tried again")
            return
        rows = db.session.execute(
            sa.select(owed.OwedWork)
            .where(owed.OwedWork.done_at.is_(None))
            .order_by(owed.OwedWork.id)
        ).scalars()
        for w in rows:
            state = "failed" if w.failed_at else "leased" if w.lease_owner else "waiting"
            click.echo(
                f"{w.id}\t{w.kind}\t{state}\tsteps={w.steps}\tattempts={w.attempts}\t"
                f"created={w.created_at.isoformat()}\t{w.last_error or ''}"
            )

    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--display-name", default="管理员")
    @click.password_option()
    def create_admin(email: str, display_name: str, password: str) -> None:
        """Create an admin account, or make an existing account admin."""
        from server.members.bootstrap import ensure_member

        member = ensure_member(email, password, display_name, role="admin")
        click.echo(f"admin {member.email} (id {member.id})")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Load realistic Chinese demo content (idempotent); refused in production."""
        from server.common.demo import seeders

        if current_app.config["JIAYUAN_ENV"] == "production":
            raise click.ClickException(
                "demo data (with a published password) is not for production"
            )

        for name, seed in seeders():
            seed()
            click.echo(f"seeded {name}")
        click.echo(
            "demo ready: `make serve`, then sign in with an account above (its job worker "
            "delivers what is queued, such as the announcement to every member)"
        )
