"""The Flask extensions, created unbound here and bound in ``create_app``.

Every feature imports its ``db``, ``jwt``, ``limiter``, ``socketio`` and ``jobs`` from this module,
so that nothing depends on the app object at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from server.api import Api
from server.auth.claims import verified
from server.common.jobs import JobQueue
from server.common.ratelimit import Limiter  # also registers the fallback+redis storage

# Stable constraint names, so that migrations name the same thing on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# expire_on_commit=False: services commit and then hand the same objects to the response
# schema; expiring them would cost one reload query per object.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# What models subclass. flask-sqlalchemy makes ``db.Model`` at run time from ``Base``; a type
# checker cannot follow a class made on an instance (python/mypy#8603), so it sees ``Base``.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


class JWT(JWTManager):
    """flask-jwt-extended, verifying a token once per process (``server.auth.claims``) wherever
    it decodes one: ``verify_jwt_in_request``, ``decode_token``."""

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        if csrf_value is None and not allow_expired:
            return verified(encoded_token)[1]
        return dict(super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired))


migrate = Migrate()
jwt = JWT()
api = Api()
limiter = Limiter(key_func=get_remote_address)
socketio = SocketIO()
cors = CORS()
jobs = JobQueue()
