"""The chat tests' shared fixtures: a ``chat`` caller (paths from the root, ``/api/v1/…``) and
a ``world``: an alliance with an owner, a member and a channel both follow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.caller import Caller


@pytest.fixture
def chat(caller: Caller) -> Caller:
    return caller


@dataclass(frozen=True)
class World:
    owner: Any  # the alliance's owner, who made the channel
    member: Any  # a member of the alliance who joined the channel
    alliance_id: int
    channel: int  # the channel's conversation id


@pytest.fixture
def world(chat: Caller, make_member: Any) -> World:
    owner = make_member(role="organiser", display_name="盟主")
    aid = chat.call(owner, "POST", "/api/v1/alliances", 201, json={"name": "摄影师联盟"})["id"]
    member = make_member(display_name="阿杰")
    chat.call(member, "POST", f"/api/v1/alliances/{aid}/join", 200, json={})
    channel = chat.call(owner, "POST", "/api/v1/chat/channels", 201,
                        json={"alliance_id": aid, "name": "外拍"})["id"]  # fmt: skip
    chat.call(member, "POST", f"/api/v1/chat/conversations/{channel}/join", 200)
    return World(owner=owner, member=member, alliance_id=aid, channel=channel)
