"""The forum tests' fixtures (``forum`` and ``organiser`` are the whole suite's, in
``tests/conftest.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def moderator(make_member):
    return make_member(role="moderator", display_name="版主", username="moderator1")


@pytest.fixture
def category(forum, organiser):
    return forum.category(organiser)
