"""Posting rate limits, for the views of ``routes``: stricter for new accounts.

A member whose account is younger than ``FORUM_NEW_ACCOUNT_HOURS`` may start threads at
``FORUM_THREAD_LIMIT_NEW`` and reply at ``FORUM_REPLY_LIMIT_NEW``; everyone else (and an
anonymous request, which the view refuses anyway) at ``FORUM_THREAD_LIMIT`` and
``FORUM_REPLY_LIMIT`` (Flask-Limiter's notation). Who is asking is read from the request's
token, which is route work: the verbs never see it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_jwt_extended import get_current_user, get_jwt_identity, verify_jwt_in_request

from server.common.time import utcnow


def _new_account() -> bool:
    """The request is signed in by an account younger than ``FORUM_NEW_ACCOUNT_HOURS``."""
    verify_jwt_in_request(optional=True)
    member = get_current_user() if get_jwt_identity() else None
    hours = current_app.config["FORUM_NEW_ACCOUNT_HOURS"]
    return member is not None and member.created_at > utcnow() - timedelta(hours=hours)


def thread_limit() -> str:
    """How many threads the signed-in member may start (a Flask-Limiter limit string)."""
    new = _new_account()
    return str(current_app.config["FORUM_THREAD_LIMIT_NEW" if new else "FORUM_THREAD_LIMIT"])


def reply_limit() -> str:
    """How many replies the signed-in member may post (a Flask-Limiter limit string)."""
    new = _new_account()
    return str(current_app.config["FORUM_REPLY_LIMIT_NEW" if new else "FORUM_REPLY_LIMIT"])
