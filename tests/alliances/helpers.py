"""Helpers of the alliance tests."""

from __future__ import annotations

from typing import Any

from tests.caller import Caller


def make_alliance(api: Caller, owner: Any, name: str = "杭州设计师联盟", **extra: Any) -> Any:
    """A new alliance in 杭州 (``api`` calls under ``/api/v1/alliances``), ``owner`` its owner."""
    return api.call(owner, "POST", "", 201, json={"name": name, "city": "杭州", **extra})
