"""The alliance tests' fixtures: ``api`` calls under ``/api/v1/alliances``; a ``team`` is an
alliance with its owner, two admins and two members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.alliances.helpers import make_alliance
from tests.caller import Caller


@pytest.fixture
def api(caller: Caller) -> Caller:
    return caller.at("/api/v1/alliances")


@dataclass(frozen=True)
class Team:
    alliance_id: int
    owner: Any
    admin: Any
    admin2: Any
    member: Any
    member2: Any


@pytest.fixture
def team(api: Caller, make_member: Any) -> Team:
    owner = make_member(role="organiser", display_name="盟主")
    aid = make_alliance(api, owner, "等级联盟")["id"]
    admin, admin2, member, member2 = (make_member() for _ in range(4))
    for m in (admin, admin2, member, member2):
        api.call(m, "POST", f"/{aid}/join", 200, json={})
    for m in (admin, admin2):
        api.call(owner, "PATCH", f"/{aid}/members/{m.id}", 200, json={"role": "admin"})
    return Team(alliance_id=aid, owner=owner, admin=admin, admin2=admin2, member=member,
                member2=member2)  # fmt: skip
