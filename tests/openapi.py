"""Walking the OpenAPI document, for the tests that hold every operation to the contract
(``test_api_contract.py``, ``test_hostile_input.py``, ``test_error_contract.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from server.errors import MESSAGES

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class AdminHeaders:
    """What the walks send as: a site admin's headers (answers in zh-TW), and the id of another
    member to put in ``{member_id}`` paths."""

    headers: dict[str, str]
    member_id: int


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every documented operation."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def takes_json(op: dict[str, Any]) -> bool:
    """The operation takes a JSON body (an upload takes ``multipart/form-data`` instead)."""
    return "application/json" in op.get("requestBody", {}).get("content", {})


def body_operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, method) of the operations that take a JSON request body."""
    return [(p, m) for p, m, op in operations(spec) if takes_json(op)]


def concrete_url(path: str, member_id: int) -> str:
    """A concrete URL for a documented path: the given id for members, 1 for other ids
    (bodies are checked before any object is looked up), a valid name for enumerations."""
    path = path.replace("{member_id}", str(member_id)).replace("{reaction}", "like")
    return re.sub(r"\{[a-z_]+_id\}", "1", path)


def assert_error_shape(response: Any, status: int, locale: str = "zh-Hant") -> Any:
    """The response is the error shape with ``status`` and the registered message: its body."""
    assert response.status_code == status, (response.status_code, response.get_json())
    body = response.get_json()
    assert set(body) <= {"code", "status", "message", "errors"}
    assert body["status"] == status
    assert body["message"] == MESSAGES[body["code"]][locale]
    return body


def send_to_every_body(
    client: Any, spec: dict[str, Any], admin: AdminHeaders, **request: Any
) -> Iterator[tuple[str, Any]]:
    """The same request body to every operation that takes one: (path, response) pairs."""
    for path, method in body_operations(spec):
        url = concrete_url(path, admin.member_id)
        yield path, client.open(url, method=method.upper(), headers=admin.headers, **request)
