"""A client generated from the OpenAPI document works against a real server (issue #13).

``openapi-python-client`` generates a package from ``/api/v1/openapi.json``; every operation of
the document must come out of it (an operation a generator skips is a broken contract for the
Kotlin, Swift and Dart generators too). Then a newcomer's story runs through that generated
code only, against a live server (the production command, on the pass's own database): read
the privacy-policy version from ``GET /api/v1/meta``, sign up, sign in, start a thread and find
it in the thread list with the returned bearer token — every answer parsed by the generated
models."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask

from tests.chat.live import BIN, ROOT, LiveServer, environment, migrate
from tests.conftest import _database_url

PASSWORD = "generated-client-password-2026"  # noqa: S105 - throwaway accounts
POLICY = "2027-02-01"  # not the default: the client can only have learnt it from GET /meta
BODY = "这是一条足够长的测试内容，由生成的客户端发出。"


def _module_name(operation_id: str) -> str:
    """The module openapi-python-client writes an operation to: ``listForumThreads`` →
    ``list_forum_threads``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", operation_id).lower()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in methods
    ]


@dataclass
class Generated:
    document: dict[str, Any]
    package: Path
    output: str  # what the generator printed (stdout and stderr)

    def module(self, dotted: str) -> ModuleType:
        return importlib.import_module(f"{self.package.name}.{dotted}")


@pytest.fixture(scope="module")
def generated(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """The document the app serves, and the package generated from it (once per module)."""
    answer = app.test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    tmp = tmp_path_factory.mktemp("generated")
    spec = tmp / "spec.json"
    spec.write_bytes(answer.data)
    package = tmp / f"jiayuan_client_{uuid.uuid4().hex[:8]}"  # a name no other module has
    # the generator's post hooks (`ruff check --fix-only`, `ruff format`) run the venv's ruff
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(spec),
         "--output-path", str(package), "--meta", "none"],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    sys.path.insert(0, str(tmp))
    try:
        yield Generated(json.loads(answer.data), package, output)
    finally:
        sys.path.remove(str(tmp))
        for name in [n for n in sys.modules if n.split(".")[0] == package.name]:
            del sys.modules[name]


def test_every_operation_is_generated_without_warnings(generated: Generated) -> None:
    # the generator reports what it could not generate ("Warning(s) encountered while
    # generating. Client was generated, but some pieces may be missing", then one block per
    # operation, response or schema it left out) and still exits 0
    assert "encountered while generating" not in generated.output, generated.output
    assert "Unable to parse" not in generated.output, generated.output
    assert "Skipping" not in generated.output, generated.output
    operations = _operations(generated.document)
    unnamed = [f"{method} {path}" for method, path, op in operations if "operationId" not in op]
    assert unnamed == []  # a generator would name these from their paths
    expected = {_module_name(op["operationId"]) for _method, _path, op in operations}
    made = {f.stem for f in (generated.package / "api").rglob("*.py") if f.stem != "__init__"}
    assert len(expected) == len(operations)  # operationIds are unique, as modules
    assert expected - made == set(), "operations the generator skipped"
    assert made - expected == set()


@dataclass
class Live:
    server: LiveServer
    env: dict[str, str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A live server on the pass's database (an SQLite file, or a PostgreSQL schema of its
    own), with a privacy-policy version of its own."""
    tmp = tmp_path_factory.mktemp("generated-live")
    url, drop = _database_url(tmp)
    env = environment(url)
    env["PRIVACY_POLICY_VERSION"] = POLICY
    try:
        migrate(env)
        with LiveServer(env, tmp / "server.log") as server:
            yield Live(server, env)
    finally:
        drop()


def _admin(live: Live, email: str) -> None:
    """The first organiser, as the README makes one: ``flask create-admin``."""
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "create-admin", "--email", email,
         "--password", PASSWORD],
        cwd=ROOT, env=live.env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def clients() -> Iterator[contextlib.ExitStack]:
    """The generated clients a test opens (``clients.enter_context``), closed after it."""
    with contextlib.ExitStack() as stack:
        yield stack


@dataclass(frozen=True)
class Story:
    """What a newcomer's story runs through: the generated package against the live server,
    an anonymous client, and signed-in ones opened on demand (closed after the test)."""

    generated: Generated
    live: Live
    clients: contextlib.ExitStack
    anonymous: Any

    def module(self, dotted: str) -> ModuleType:
        return self.generated.module(dotted)

    @property
    def models(self) -> ModuleType:
        return self.module("models")

    def signed_in(self, token: Any) -> Any:
        assert isinstance(token, self.models.Token) and token.token_type == "Bearer"
        return self.clients.enter_context(
            self.module("client").AuthenticatedClient(
                base_url=self.live.server.url,
                token=token.access_token,
                raise_on_unexpected_status=True,
            )
        )

    def policy(self) -> str:
        """The privacy-policy version, as a client learns it: from ``GET /meta``."""
        return self.module("api.meta.get_meta").sync(client=self.anonymous).privacy_policy.version

    def registration(self, policy: str) -> Any:
        handle = f"gen_{uuid.uuid4().hex[:8]}"
        return self.models.Register(
            email=f"{handle}@example.com",
            password=PASSWORD,
            display_name="生成的客户端",
            username=handle,
            privacy_policy_version=policy,
        )

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        login = self.models.Login(email=email, password=password)
        return self.module("api.auth.sign_in").sync(client=self.anonymous, body=login)


@pytest.fixture
def story(generated: Generated, live: Live, clients: contextlib.ExitStack) -> Story:
    # an answer whose status the document does not list raises instead of parsing as None
    anonymous = clients.enter_context(
        generated.module("client").Client(base_url=live.server.url, raise_on_unexpected_status=True)
    )
    return Story(generated=generated, live=live, clients=clients, anonymous=anonymous)


def test_the_generated_client_learns_what_to_accept_from_meta(story: Story) -> None:
    models = story.models
    meta = story.module("api.meta.get_meta").sync(client=story.anonymous)
    assert isinstance(meta, models.Meta)
    assert isinstance(meta.privacy_policy, models.PrivacyPolicy)
    assert meta.privacy_policy.version == POLICY


def test_a_sign_up_consenting_to_another_policy_is_refused_in_the_error_shape(
    story: Story,
) -> None:
    sign_up = story.module("api.auth.sign_up")
    register = story.registration("2020-01-01")
    refused = sign_up.sync_detailed(client=story.anonymous, body=register)
    assert 400 <= refused.status_code < 500
    assert isinstance(refused.parsed, story.models.Error)
    assert refused.parsed.status == refused.status_code and refused.parsed.code


def test_a_newcomer_signs_up_signs_in_and_reads_their_profile(story: Story) -> None:
    models = story.models
    sign_up, sign_in = story.module("api.auth.sign_up"), story.module("api.auth.sign_in")
    policy = story.policy()
    register = story.registration(policy)
    answer = sign_up.sync_detailed(client=story.anonymous, body=register)
    assert answer.status_code == 201, answer.content
    signed_up = answer.parsed
    assert isinstance(signed_up, models.Token)
    assert signed_up.expires_in > 0 and signed_up.refresh_expires_in > signed_up.expires_in

    wrong = sign_in.sync_detailed(
        client=story.anonymous, body=models.Login(email=register.email, password=PASSWORD + "x")
    )
    assert wrong.status_code == 401 and isinstance(wrong.parsed, models.Error)
    tokens = story.sign_in(register.email)
    assert isinstance(tokens, models.Token) and tokens.access_token != signed_up.access_token
    member = story.signed_in(tokens)

    me = story.module("api.members.get_me").sync(client=member)
    assert isinstance(me, models.Me)
    assert (me.email, me.username, me.display_name) == (
        register.email,
        register.username,
        "生成的客户端",
    )
    assert me.role == "member" and me.privacy_policy_version == policy
    assert isinstance(me.id, int)


def test_a_newcomer_starts_a_thread_and_finds_it_in_the_thread_list(story: Story) -> None:
    models = story.models
    create_category = story.module("api.forum.create_forum_category")
    create_thread = story.module("api.forum.create_forum_thread")
    list_threads = story.module("api.forum.list_forum_threads")
    register = story.registration(story.policy())
    story.module("api.auth.sign_up").sync(client=story.anonymous, body=register)
    member = story.signed_in(story.sign_in(register.email))
    me = story.module("api.members.get_me").sync(client=member)
    handle = register.username

    # a category, made by the first organiser (an admin)
    admin_email = f"admin_{handle}@example.com"
    _admin(story.live, admin_email)
    admin = story.signed_in(story.sign_in(admin_email))
    category = create_category.sync(client=admin, body=models.CategoryCreate(name="生成的版块"))
    assert isinstance(category, models.Category) and isinstance(category.id, int)

    title = f"生成的客户端发的主题 {handle}"
    started = create_thread.sync(
        client=member,
        body=models.ThreadCreate(category_id=category.id, title=title, body=BODY, tags=["客户端"]),
    )
    assert isinstance(started, models.ThreadDetail)
    assert started.title == title and started.author.id == me.id

    page = list_threads.sync(client=member)
    assert isinstance(page, models.ThreadItemPage)
    assert isinstance(page.items, list) and all(
        isinstance(item, models.ThreadItem) for item in page.items
    )
    assert page.next_cursor is None or isinstance(page.next_cursor, str)
    [listed] = [item for item in page.items if item.id == started.id]
    assert listed.title == title and listed.category_id == category.id
    assert listed.tags == ["客户端"]
    assert isinstance(listed.author, models.MemberCard)
    assert (listed.author.id, listed.author.username) == (me.id, handle)
    # a nullable nested schema is typed too, not an untyped map (``api.nullable_ref``)
    assert isinstance(listed.last_poster, models.MemberCard)
    assert listed.last_poster.id == me.id
    # the query parameters are typed too
    in_category = list_threads.sync(client=member, category_id=category.id, limit=1)
    assert [item.id for item in in_category.items] == [started.id]


def test_a_bad_token_gets_the_documented_401_parsed_as_an_error(story: Story) -> None:
    stranger = story.clients.enter_context(
        story.module("client").AuthenticatedClient(
            base_url=story.live.server.url, token="not-a-jwt", raise_on_unexpected_status=True
        )
    )
    denied = story.module("api.forum.list_forum_threads").sync_detailed(client=stranger)
    assert denied.status_code == 401 and isinstance(denied.parsed, story.models.Error)
