"""What erasure tests look through: every value the database holds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.extensions import db


def all_text_in_database(app: Any) -> str:
    """Every value of every row of every table, as one string."""
    with app.app_context():
        chunks = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).all():
                chunks.extend(str(v) for v in row)
        return "\n".join(chunks)
