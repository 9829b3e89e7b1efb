from __future__ import annotations

import pytest

from tests.forum.helpers import Forum


@pytest.fixture
def forum(client, auth_headers):
    return Forum(client, auth_headers)


@pytest.fixture
def organiser(make_member):
    return make_member(role="organiser", display_name="组织者", username="organiser1")


@pytest.fixture
def moderator(make_member):
    return make_member(role="moderator", display_name="版主", username="moderator1")


@pytest.fixture
def category(forum, organiser):
    return forum.category(organiser)
