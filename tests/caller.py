"""The one HTTP helper of the tests: each call says who calls, what, and the status it must get.

``Caller(client, auth_headers, "/api/v1/forum").call(member, "POST", "/threads", 201, json=…)``
signs ``member`` in (a fresh session, as ``auth_headers`` does), sends the request under the
caller's URL prefix, asserts the status and returns the JSON body (``None`` when empty).
``member=None`` sends only the ``headers`` given (a prepared session, or nobody signed in);
``headers`` with a member are added to its Authorization (``{"Accept-Language": "en"}``).
Features wrap it for their own conveniences (``tests/forum/helpers.py``'s ``Forum``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask.testing import FlaskClient


class Caller:
    def __init__(
        self, client: FlaskClient, auth_headers: Callable[..., dict[str, str]], prefix: str = ""
    ) -> None:
        self.client = client
        self.auth_headers = auth_headers
        self.prefix = prefix

    def at(self, prefix: str) -> Caller:
        """The same caller under another URL prefix (from the root, not under this one)."""
        return Caller(self.client, self.auth_headers, prefix)

    def call(
        self,
        member: Any,
        method: str,
        path: str,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        sent = dict(headers or {})
        if member is not None:
            sent = self.auth_headers(member, **sent)
        r = self.client.open(self.prefix + path, method=method, headers=sent, **kwargs)
        assert r.status_code == status, (
            method,
            self.prefix + path,
            r.status_code,
            r.get_data(as_text=True),
        )
        return r.get_json() if r.data else None
