"""Settings, read from the environment once, when the app is created.

Development needs nothing set: it keeps an SQLite database and generated secrets in
``instance/``. Production (``JIAYUAN_ENV=production``) refuses to start without real secrets,
and refuses SQLite unless ``ALLOW_SQLITE_IN_PRODUCTION=1`` says that is intended.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """The environment does not describe a server that may start."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whichever spelling the URL came in."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _jobs_file(instance: Path, database_url: str) -> str:
    """The job queue's SQLite file beside the database it serves (``app.db`` → ``app.jobs.db``),
    so that two servers on two databases never share one queue; ``instance/jobs.db`` for the
    default database, and one file per PostgreSQL URL."""
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        path = Path(database_url.removeprefix("sqlite:///").split("?", 1)[0])
        if not path.is_absolute():
            path = instance / path  # Flask-SQLAlchemy resolves relative paths in instance/
        if path.resolve() != (instance / "jiayuan.db").resolve():
            return str(path.with_suffix(".jobs.db").resolve())
    elif not database_url.startswith("sqlite"):
        digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
        return str(instance.resolve() / f"jobs-{digest}.db")
    return str(instance.resolve() / "jobs.db")


def _dev_secrets(instance_path: Path) -> dict[str, str]:
    """Secrets generated on the first development run and kept in instance/."""
    path = instance_path / "secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())  # noqa: TID251 (our own file)
        return stored
    values = {"SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET_KEY": secrets.token_urlsafe(48)}
    instance_path.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def load_config(
    instance_path: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the Flask config from the environment; ``overrides`` (tests) win over both."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    instance = Path(instance_path)
    mode = overrides.get("JIAYUAN_ENV") or env.get("JIAYUAN_ENV", "development")
    if mode not in {"development", "production", "test"}:
        raise ConfigError(f"JIAYUAN_ENV must be development, production or test, not {mode!r}")
    production = mode == "production"

    def setting(name: str, default: Any = None) -> Any:
        if name in overrides:
            return overrides[name]
        return env.get(name, default)

    secret_key = setting("SECRET_KEY")
    jwt_secret = setting("JWT_SECRET_KEY")
    if production:
        missing = [
            n for n, v in (("SECRET_KEY", secret_key), ("JWT_SECRET_KEY", jwt_secret)) if not v
        ]
        if missing:
            raise ConfigError("production needs " + " and ".join(missing) + " set")
        if min(len(secret_key), len(jwt_secret)) < 32:
            raise ConfigError("SECRET_KEY and JWT_SECRET_KEY must be at least 32 characters")
    elif not (secret_key and jwt_secret):
        generated = _dev_secrets(instance)
        secret_key = secret_key or generated["SECRET_KEY"]
        jwt_secret = jwt_secret or generated["JWT_SECRET_KEY"]

    database_url = normalise_database_url(
        setting("DATABASE_URL") or f"sqlite:///{instance.resolve() / 'jiayuan.db'}"
    )
    if (
        production
        and database_url.startswith("sqlite")
        and not _bool(setting("ALLOW_SQLITE_IN_PRODUCTION"))
    ):
        raise ConfigError(
            "production refuses SQLite; set DATABASE_URL to PostgreSQL "
            "or ALLOW_SQLITE_IN_PRODUCTION=1"
        )
    redis_url = setting("REDIS_URL") or None
    if setting("PUSH_PROVIDER") == "fcm" and not setting("FCM_CREDENTIALS"):
        raise ConfigError("PUSH_PROVIDER=fcm needs FCM_CREDENTIALS (a service-account JSON file)")
    mail_backend = setting("MAIL_BACKEND") or ("smtp" if production else "console")
    if production and mail_backend != "smtp":
        # The console backend logs reset links: anyone reading logs could take over accounts.
        raise ConfigError("production sends mail by SMTP: set MAIL_BACKEND=smtp and SMTP_*")

    engine_options: dict[str, Any] = {}
    if database_url.startswith("postgresql"):
        # a connection the server closed (a restart) is noticed before use, not by the request
        # (server/__init__.py checks each before use: pool_pre_ping's round trip only when it
        # is needed); a database that does not answer fails the request in seconds (503)
        engine_options = {
            "pool_size": 10,
            "max_overflow": 10,
            "pool_recycle": 1800,
            "pool_timeout": 10,
            "connect_args": {"connect_timeout": 5},
        }

    cors = setting("CORS_ORIGINS", "" if production else "*")
    config: dict[str, Any] = {
        "JIAYUAN_ENV": mode,
        "TESTING": mode == "test",
        "SECRET_KEY": secret_key,
        "JWT_SECRET_KEY": jwt_secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "REDIS_URL": redis_url,
        # PostgreSQL: a statement running longer is cancelled (503); 0 turns it off.
        "DATABASE_STATEMENT_TIMEOUT_MS": _int(env, "DATABASE_STATEMENT_TIMEOUT_MS", 30000),
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", 1024 * 1024),
        # Tokens: short-lived access, rotated refresh (see server/auth/tokens.py).
        "JWT_ACCESS_TOKEN_EXPIRES": _int(env, "JWT_ACCESS_TOKEN_EXPIRES", 15 * 60),
        "JWT_REFRESH_TOKEN_EXPIRES": _int(env, "JWT_REFRESH_TOKEN_EXPIRES", 30 * 24 * 3600),
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_ERROR_MESSAGE_KEY": "message",
        # Passwords: argon2id; tests lower the cost, production keeps the library defaults.
        "ARGON2_TIME_COST": _int(env, "ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_COST": _int(env, "ARGON2_MEMORY_COST", 65536),
        "ARGON2_PARALLELISM": _int(env, "ARGON2_PARALLELISM", 4),
        "PRIVACY_POLICY_VERSION": setting("PRIVACY_POLICY_VERSION", "2026-11-01"),
        "PRIVACY_POLICY_URL": setting("PRIVACY_POLICY_URL") or None,
        # The oldest app version still served per platform (GET /meta): older apps ask to update.
        "MIN_APP_VERSION_ANDROID": setting("MIN_APP_VERSION_ANDROID") or None,
        "MIN_APP_VERSION_IOS": setting("MIN_APP_VERSION_IOS") or None,
        "MIN_APP_VERSION_WEB": setting("MIN_APP_VERSION_WEB") or None,
        "PASSWORD_RESET_URL": setting(
            "PASSWORD_RESET_URL", "jiayuan://reset-password?token={token}"
        ),
        "PASSWORD_RESET_TTL": _int(env, "PASSWORD_RESET_TTL", 3600),
        "DEFAULT_TIME_ZONE": setting("DEFAULT_TIME_ZONE", "Asia/Shanghai"),
        # Rate limits (Flask-Limiter): memory for one process, Redis when several share.
        # Redis down must not take sign-in down: with Redis, limits count in this process while
        # it does not answer (server/common/ratelimit.py)
        "RATELIMIT_STORAGE_URI": setting("RATELIMIT_STORAGE_URI")
        or (f"fallback+{redis_url}" if redis_url else "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # A limiter that fails (a storage error the fallback does not catch) logs and lets the
        # request through: counting after a commit must never turn a success into an error.
        "RATELIMIT_SWALLOW_ERRORS": _bool(setting("RATELIMIT_SWALLOW_ERRORS"), True),
        "RATELIMIT_ENABLED": _bool(setting("RATELIMIT_ENABLED"), True),
        "LOGIN_FAILURE_LIMIT_ACCOUNT_IP": setting(
            "LOGIN_FAILURE_LIMIT_ACCOUNT_IP", "10/minute;30/hour"
        ),
        "LOGIN_FAILURE_LIMIT_ACCOUNT": setting("LOGIN_FAILURE_LIMIT_ACCOUNT", "100/hour"),
        # How many reverse proxies in front of us set X-Forwarded-For (0: trust none).
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        "MAX_SESSIONS_PER_MEMBER": _int(env, "MAX_SESSIONS_PER_MEMBER", 20),
        "LOGIN_FAILURE_LIMIT_IP": setting("LOGIN_FAILURE_LIMIT_IP", "50/minute"),
        # Per address (members behind a carrier's NAT share one: raise these there).
        "REGISTER_LIMIT": setting("REGISTER_LIMIT", "20/hour;5/minute"),
        "REFRESH_LIMIT": setting("REFRESH_LIMIT", "60/minute"),
        # Jobs (Huey): immediate in tests, SQLite file by default, Redis when configured.
        "JOBS_BACKEND": setting("JOBS_BACKEND") or ("redis" if redis_url else "sqlite"),
        "JOBS_SQLITE_PATH": setting("JOBS_SQLITE_PATH") or _jobs_file(instance, database_url),
        "JOBS_IN_PROCESS": _bool(setting("JOBS_IN_PROCESS"), not production),
        # A stopping worker waits this long for its running tasks (server/common/jobs.py).
        "JOBS_SHUTDOWN_SECONDS": _int(env, "JOBS_SHUTDOWN_SECONDS", 30),
        # Work that must happen (server/common/owed.py): a worker holds a piece of it this long
        # past its last step (one that dies loses it then), and a fan-out tells this many
        # members per step.
        "OWED_LEASE_SECONDS": _int(env, "OWED_LEASE_SECONDS", 60),
        "FANOUT_CHUNK": _int(env, "FANOUT_CHUNK", 1000),
        # How long a write's Idempotency-Key and its answer are kept (server/common/idempotency).
        "IDEMPOTENCY_TTL_HOURS": _int(env, "IDEMPOTENCY_TTL_HOURS", 24),
        # Mail: the console backend logs; smtp sends; memory keeps an outbox (tests).
        "MAIL_BACKEND": mail_backend,
        "MAIL_FROM": setting("MAIL_FROM", "家園 Jiayuan <no-reply@jiayuan.local>"),
        "SMTP_HOST": setting("SMTP_HOST", "localhost"),
        "SMTP_PORT": _int(env, "SMTP_PORT", 587),
        "SMTP_USERNAME": setting("SMTP_USERNAME"),
        "SMTP_PASSWORD": setting("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _bool(setting("SMTP_STARTTLS"), True),
        # Push (push/): the log provider by default; FCM HTTP v1 with a service-account key.
        "PUSH_PROVIDER": setting("PUSH_PROVIDER", "log"),
        "FCM_CREDENTIALS": setting("FCM_CREDENTIALS"),
        "FCM_PROJECT_ID": setting("FCM_PROJECT_ID"),
        "FCM_ENDPOINT": setting("FCM_ENDPOINT"),
        "FCM_CONCURRENCY": _int(env, "FCM_CONCURRENCY", 64),
        "PUSH_BATCH_SIZE": _int(env, "PUSH_BATCH_SIZE", 500),
        "PUSH_LEASE_SECONDS": _int(env, "PUSH_LEASE_SECONDS", 120),
        # Devices per member (one more signs out the least recently seen), how long a device
        # counts as live since it last registered (Firebase's advice for stale tokens), and
        # how long after an alerting push further ones on the same subject update silently.
        "PUSH_DEVICES_PER_MEMBER": _int(env, "PUSH_DEVICES_PER_MEMBER", 10),
        "PUSH_DEVICE_LIVE_DAYS": _int(env, "PUSH_DEVICE_LIVE_DAYS", 60),
        "PUSH_BURST_SECONDS": _int(env, "PUSH_BURST_SECONDS", 120),
        "CORS_ORIGINS": (
            list(cors)
            if isinstance(cors, list | tuple)
            else [o.strip() for o in cors.split(",") if o.strip()]
        ),
        # Forum (server/forum): edit window, flags that hide a post, posting limits per member.
        "FORUM_EDIT_WINDOW_MINUTES": _int(env, "FORUM_EDIT_WINDOW_MINUTES", 24 * 60),
        "FORUM_FLAG_THRESHOLD": _int(env, "FORUM_FLAG_THRESHOLD", 3),
        # The shortest post: 4 characters let 「同意，學到了」 through and stop "ok" and "+1".
        "FORUM_MIN_POST_CHARS": _int(env, "FORUM_MIN_POST_CHARS", 4),
        "FORUM_NEW_ACCOUNT_HOURS": _int(env, "FORUM_NEW_ACCOUNT_HOURS", 72),
        "FORUM_THREAD_LIMIT": setting("FORUM_THREAD_LIMIT", "10/hour;30/day"),
        "FORUM_THREAD_LIMIT_NEW": setting("FORUM_THREAD_LIMIT_NEW", "3/hour;5/day"),
        "FORUM_REPLY_LIMIT": setting("FORUM_REPLY_LIMIT", "6/minute;120/hour"),
        "FORUM_REPLY_LIMIT_NEW": setting("FORUM_REPLY_LIMIT_NEW", "3/minute;20/hour"),
        "FORUM_SEARCH_LIMIT": setting("FORUM_SEARCH_LIMIT", "60/minute"),
        # Alliances: who may start one, organisers (and admins) or any member.
        "ALLIANCE_CREATORS": setting("ALLIANCE_CREATORS", "organisers"),
        # Chat: presence events go to conversations up to this size; clients of larger ones poll
        # GET /chat/presence with their heartbeat (Zulip's limit: pushing every arrival to
        # every member is quadratic work when a big channel comes online together).
        "CHAT_PRESENCE_PUSH_LIMIT": _int(env, "CHAT_PRESENCE_PUSH_LIMIT", 100),
        # Read receipts (who read how far; live `read` events to the others) in conversations up
        # to this size; in bigger ones a member's reading goes to their own devices only.
        "CHAT_RECEIPTS_LIMIT": _int(env, "CHAT_RECEIPTS_LIMIT", 100),
        # Per member, one counter for REST and Socket.IO alike (server/chat/limits.py). Typing
        # past its limit is dropped silently; the others answer rate_limited.
        "CHAT_SEND_LIMIT": setting("CHAT_SEND_LIMIT", "30/minute;600/hour"),
        "CHAT_EDIT_LIMIT": setting("CHAT_EDIT_LIMIT", "20/minute;200/hour"),
        "CHAT_REACTION_LIMIT": setting("CHAT_REACTION_LIMIT", "60/minute;600/hour"),
        "CHAT_READ_LIMIT": setting("CHAT_READ_LIMIT", "120/minute"),
        "CHAT_TYPING_LIMIT": setting("CHAT_TYPING_LIMIT", "30/minute"),
        "CHAT_PRESENCE_LIMIT": setting("CHAT_PRESENCE_LIMIT", "60/minute"),  # all devices
        "CHAT_JOIN_LIMIT": setting("CHAT_JOIN_LIMIT", "60/minute;600/hour"),  # socket join
        # New direct conversations one may open (reopening an existing one does not count).
        "CHAT_DIRECT_OPEN_LIMIT": setting("CHAT_DIRECT_OPEN_LIMIT", "20/hour;100/day"),
        # Media (server/media): local files under MEDIA_ROOT, or S3-compatible storage when
        # MEDIA_S3_BUCKET is set; answers link MEDIA_PUBLIC_URL + name when something else
        # (a CDN, a public bucket, nginx) serves the files, else this server's /media/.
        "MEDIA_ROOT": setting("MEDIA_ROOT") or str(instance.resolve() / "media"),
        "MEDIA_PUBLIC_URL": setting("MEDIA_PUBLIC_URL") or None,
        "MEDIA_MAX_BYTES": _int(env, "MEDIA_MAX_BYTES", 10 * 1024 * 1024),
        "MEDIA_MAX_PIXELS": _int(env, "MEDIA_MAX_PIXELS", 40_000_000),
        # an animation past these is kept as its first frame (every frame is decoded in the
        # request: bench/README.md, "Media")
        "MEDIA_MAX_FRAMES": _int(env, "MEDIA_MAX_FRAMES", 100),
        "MEDIA_MAX_ANIMATION_PIXELS": _int(env, "MEDIA_MAX_ANIMATION_PIXELS", 8_000_000),
        "MEDIA_UPLOAD_LIMIT": setting("MEDIA_UPLOAD_LIMIT", "30/minute;300/hour"),
        "MEDIA_DAILY_UPLOADS": _int(env, "MEDIA_DAILY_UPLOADS", 200),
        "MEDIA_DAILY_BYTES": _int(env, "MEDIA_DAILY_BYTES", 500 * 1024 * 1024),
        "MEDIA_UNATTACHED_HOURS": _int(env, "MEDIA_UNATTACHED_HOURS", 24),
        "MEDIA_S3_BUCKET": setting("MEDIA_S3_BUCKET") or None,
        "MEDIA_S3_ENDPOINT_URL": setting("MEDIA_S3_ENDPOINT_URL") or None,
        "MEDIA_S3_REGION": setting("MEDIA_S3_REGION") or None,
        "MEDIA_S3_ACCESS_KEY_ID": setting("MEDIA_S3_ACCESS_KEY_ID") or None,
        "MEDIA_S3_SECRET_ACCESS_KEY": setting("MEDIA_S3_SECRET_ACCESS_KEY") or None,
        "MEDIA_S3_PREFIX": setting("MEDIA_S3_PREFIX", ""),
        "MEDIA_S3_ADDRESSING_STYLE": setting("MEDIA_S3_ADDRESSING_STYLE", "auto"),
        "MEDIA_S3_ACL": setting("MEDIA_S3_ACL") or None,
        "MEDIA_S3_URL_TTL": _int(env, "MEDIA_S3_URL_TTL", 6 * 3600),
        "SOCKETIO_ASYNC_MODE": setting("SOCKETIO_ASYNC_MODE", "threading"),
        "LOG_LEVEL": setting("LOG_LEVEL", "INFO"),
        "LOG_FORMAT": setting("LOG_FORMAT", "json" if production else "text"),
        # Without a token, /metrics is open in development and absent (404) in production.
        "METRICS_TOKEN": setting("METRICS_TOKEN"),
        "METRICS_OPEN": not production,
        # OpenAPI (flask-smorest)
        # ASCII: client generators name packages after the title
        "API_TITLE": "Jiayuan API",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": "家園 Jiayuan: the API of a member community for independent "
                "professionals. Errors share one shape (`Error`); lists are cursor pages."
            }
        },
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # served by the app from swagger-ui-bundle (server/common/http.py): a CDN is blocked in
        # places, and unreachable offline
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
    }
    for key, value in overrides.items():
        config[key] = value
    return config
