"""The list rule's contract check, for every list's tests (``server/common/rows.py``).

``same_as_marshmallow(ItemSchema, page, objects_for)`` dumps a list's page as its route does
(``page_schema`` → the compiled serialiser of plain rows) and asserts it equals marshmallow's
dump of the same items loaded as the objects the schema reads (``objects_for(items)``), inside
``signed_in(…)``: the caller's language and time zone, as a real request has them.
``tests/common/test_rows.py`` requires one such call, somewhere under ``tests/``, for every
compiled serialiser (``nested=`` names the card schemas a comparison covers too).
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Flask

from server.common.pagination import RowPage, page_schema

TESTS = Path(__file__).parent


@contextlib.contextmanager
def signed_in(app: Flask, auth_headers: Any, member: Any, lang: str) -> Iterator[Any]:
    """A request context of ``member``'s as it is after ``@blp.auth()``: yields the member."""
    from server.api import AUTHENTICATE, current_member

    headers = {**auth_headers(member), "Accept-Language": lang}
    with app.test_request_context("/api/v1/", headers=headers):
        app.extensions[AUTHENTICATE]()
        yield current_member()


def same_as_marshmallow(
    schema: type[ma.Schema],
    page: Any,
    objects_for: Callable[[list[dict[str, Any]]], list[Any]],
    *,
    nested: tuple[type[ma.Schema], ...] = (),
) -> list[dict[str, Any]]:
    """The page's items as the list answers them, asserted equal to marshmallow's dump of
    ``objects_for(items)``; ``nested``: the schemas of cards inside the items, covered too."""
    assert isinstance(page, RowPage), "a list reads plain rows (keyset_page(…, rows=True))"
    assert all(n.__name__ for n in nested)
    items: list[dict[str, Any]] = page_schema(schema)().dump(page)["items"]
    expected = [schema().dump(obj) for obj in objects_for(items)]
    assert items == expected
    return items


def compared_schemas() -> set[str]:
    """The schema names the tests compare with ``same_as_marshmallow`` (read from the code,
    so that a test left out by ``-k`` still counts)."""
    found: set[str] = set()
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == same_as_marshmallow.__name__
                and node.args
            ):
                continue
            named = [node.args[0]]
            for keyword in node.keywords:
                if keyword.arg == "nested" and isinstance(keyword.value, ast.Tuple):
                    named += keyword.value.elts
            found |= {n.id for n in named if isinstance(n, ast.Name)}
    return found
