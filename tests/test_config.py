"""Configuration: development needs nothing; production refuses to start unsafely."""

from __future__ import annotations

import pytest

from server.config import ConfigError, load_config, normalise_database_url

STRONG = "k" * 40


def test_development_generates_and_keeps_secrets(tmp_path):
    first = load_config(tmp_path, env={})
    second = load_config(tmp_path, env={})
    assert len(first["SECRET_KEY"]) >= 32 and first["JWT_SECRET_KEY"] != first["SECRET_KEY"]
    assert (first["SECRET_KEY"], first["JWT_SECRET_KEY"]) == (
        second["SECRET_KEY"],
        second["JWT_SECRET_KEY"],
    )
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path.resolve() / 'jiayuan.db'}"
    assert first["RATELIMIT_STORAGE_URI"] == "memory://"
    assert first["JOBS_BACKEND"] == "sqlite"


def test_production_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path, env={"JIAYUAN_ENV": "production", "DATABASE_URL": "postgresql://x/y"})
    with pytest.raises(ConfigError, match="32"):
        load_config(
            tmp_path,
            env={
                "JIAYUAN_ENV": "production",
                "SECRET_KEY": "short",
                "JWT_SECRET_KEY": STRONG,
                "DATABASE_URL": "postgresql://x/y",
            },
        )
    assert not (tmp_path / "secrets.json").exists()


def test_production_refuses_sqlite_unless_allowed(tmp_path):
    env = {"JIAYUAN_ENV": "production", "SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG + "j"}
    with pytest.raises(ConfigError, match="SQLite"):
        load_config(tmp_path, env=env)
    allowed = load_config(tmp_path, env={**env, "ALLOW_SQLITE_IN_PRODUCTION": "1"})
    assert allowed["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    assert allowed["LOG_FORMAT"] == "json" and allowed["CORS_ORIGINS"] == []


def test_redis_url_moves_limits_and_jobs_to_redis(tmp_path):
    cfg = load_config(tmp_path, env={"REDIS_URL": "redis://127.0.0.1:6379/0"})
    # Redis, counting per process while it does not answer (server/common/ratelimit.py)
    assert cfg["RATELIMIT_STORAGE_URI"] == "fallback+redis://127.0.0.1:6379/0"
    assert cfg["JOBS_BACKEND"] == "redis"


def test_bad_values_are_named(tmp_path):
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH"):
        load_config(tmp_path, env={"MAX_CONTENT_LENGTH": "lots"})
    with pytest.raises(ConfigError, match="JIAYUAN_ENV"):
        load_config(tmp_path, env={"JIAYUAN_ENV": "staging"})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_production_sends_mail_by_smtp_and_hides_metrics(tmp_path):
    env = {
        "JIAYUAN_ENV": "production",
        "SECRET_KEY": STRONG,
        "JWT_SECRET_KEY": STRONG + "j",
        "DATABASE_URL": "postgresql://x/y",
    }
    assert load_config(tmp_path, env=env)["MAIL_BACKEND"] == "smtp"
    with pytest.raises(ConfigError, match="SMTP"):
        load_config(tmp_path, env={**env, "MAIL_BACKEND": "console"})
    assert load_config(tmp_path, env=env)["METRICS_OPEN"] is False
    assert load_config(tmp_path, env={})["METRICS_OPEN"] is True


def test_two_servers_on_two_databases_never_share_a_job_queue(tmp_path):
    """Without Redis the queue is an SQLite file: it follows the database it serves."""
    from server.config import load_config

    def jobs(url: str | None) -> str:
        env = {"DATABASE_URL": url} if url else {}
        return load_config(tmp_path, env=env)["JOBS_SQLITE_PATH"]

    assert jobs(None) == str((tmp_path / "jobs.db").resolve())
    one, two = jobs("sqlite:////srv/a/app.db"), jobs("sqlite:////srv/b/app.db")
    assert one == "/srv/a/app.jobs.db" and two == "/srv/b/app.jobs.db"
    assert jobs("sqlite:///other.db") == str((tmp_path / "other.jobs.db").resolve())
    assert jobs("postgresql://db/one") != jobs("postgresql://db/two")
    assert (
        load_config(tmp_path, env={"JOBS_SQLITE_PATH": "/x/q.db"})["JOBS_SQLITE_PATH"] == "/x/q.db"
    )
