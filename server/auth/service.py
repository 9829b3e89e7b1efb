"""Sign-up, sign-in, token refresh with rotation, sign-out, and passwords."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from server.auth.models import AuthSession, PasswordResetToken
from server.auth.passwords import hash_password, needs_rehash, verify_password
from server.auth.tokens import TokenPair, issue_tokens
from server.common import privacy
from server.common.i18n import pick
from server.common.mail import send_mail
from server.common.time import utcnow
from server.common.tx import commit, on_commit
from server.errors import Conflict, DomainError, Forbidden, register_messages
from server.extensions import db, jobs
from server.members.models import Member, PrivacyConsent
from server.members.service import (
    check_policy_version,
    check_username_free,
    generate_username,
    name_key,
)

register_messages(
    {
        "invalid_credentials": {
            "zh-Hans": "邮箱或密码不正确。",
            "zh-Hant": "電子郵件或密碼不正確。",
            "en": "Wrong e-mail address or password.",
        },
        "wrong_password": {
            "zh-Hans": "密码不正确。",
            "zh-Hant": "密碼不正確。",
            "en": "The password is wrong.",
        },
        "refresh_token_reused": {
            "zh-Hans": "登录凭证已被使用过，为安全起见该设备已退出登录。",
            "zh-Hant": "登入憑證已被使用過，為安全起見該裝置已登出。",
            "en": "This refresh token was already used; the session has been signed out.",
        },
        "reset_token_invalid": {
            "zh-Hans": "重置链接无效或已过期。",
            "zh-Hant": "重設連結無效或已過期。",
            "en": "The reset link is invalid or has expired.",
        },
        "password_unchanged": {
            "zh-Hans": "新密码不能与旧密码相同。",
            "zh-Hant": "新密碼不能與舊密碼相同。",
            "en": "The new password must differ from the old one.",
        },
    }
)

RESET_MAIL = {
    "subject": {
        "zh-Hans": "重置你的家园密码",
        "zh-Hant": "重設你的家園密碼",
        "en": "Reset your Jiayuan password",
    },
    "body": {
        "zh-Hans": "{name}，你好：\n\n请在 {minutes} 分钟内打开下面的链接重置密码：\n{url}\n\n"
        "如果这不是你本人的操作，请忽略本邮件。",
        "zh-Hant": "{name}，你好：\n\n請在 {minutes} 分鐘內開啟下面的連結重設密碼：\n{url}\n\n"
        "如果這不是你本人的操作，請忽略本郵件。",
        "en": "Hello {name},\n\nOpen this link within {minutes} minutes to reset your password:\n"
        "{url}\n\nIf you did not ask for this, ignore this message.",
    },
}


_REVOKED_HOOKS: dict[str, Callable[[int, list[str]], None]] = {}


def on_sessions_revoked(name: str, hook: Callable[[int, list[str]], None]) -> None:
    """``hook(member_id, session_ids)`` runs in the transaction that revokes sessions of a
    member (sign-out, sign-out everywhere, a new password, a reused refresh token, the session
    cap): features close what those sessions opened (chat: their sockets, told why)."""
    _REVOKED_HOOKS[name] = hook


def _revoked(member_id: int, session_ids: list[str]) -> None:
    if not session_ids:
        return
    for hook in _REVOKED_HOOKS.values():
        hook(member_id, session_ids)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _new_session(member: Member, user_agent: str) -> tuple[AuthSession, TokenPair]:
    _cap_sessions(member.id)
    session = AuthSession(id=uuid.uuid4().hex, member_id=member.id, user_agent=user_agent[:200])
    session.member = member
    tokens = issue_tokens(session)
    db.session.add(session)
    return session, tokens


def _cap_sessions(member_id: int) -> None:
    """Keep a member's live sessions below the cap: the least recently used one signs out."""
    cap = current_app.config["MAX_SESSIONS_PER_MEMBER"]
    live = (
        db.session.execute(
            sa.select(AuthSession.id)
            .where(AuthSession.member_id == member_id, AuthSession.revoked_at.is_(None))
            .order_by(AuthSession.refreshed_at.desc(), AuthSession.id.desc())
            .offset(cap - 1)
        )
        .scalars()
        .all()
    )
    if live:
        db.session.execute(
            sa.update(AuthSession)
            .where(AuthSession.id.in_(live))
            .values(revoked_at=utcnow(), revoked_reason="too_many_sessions")
        )
        _revoked(member_id, list(live))


def sign_in(member: Member, user_agent: str = "") -> TokenPair:
    """Open a new session for a member whose identity is already proven."""
    _session, tokens = _new_session(member, user_agent)
    commit()
    return tokens


def sign_up(data: dict[str, Any], user_agent: str = "") -> tuple[Member, TokenPair]:
    """Create an account with the consent it was given, and sign it in."""
    check_policy_version(data["privacy_policy_version"])
    email = normalise_email(data["email"])
    if db.session.execute(sa.select(Member.id).where(Member.email == email)).first():
        raise Conflict("email_taken")
    username = data.get("username")
    if username:
        check_username_free(username)
    else:
        username = generate_username()
    now = utcnow()
    member = Member(
        email=email,
        username=username,
        password_hash=hash_password(data["password"]),
        display_name=data["display_name"],
        name_key=name_key(data["display_name"], username),
        locale=data.get("locale") or "zh-Hans",
        privacy_policy_version=data["privacy_policy_version"],
        time_zone=data.get("time_zone") or current_app.config["DEFAULT_TIME_ZONE"],
        created_at=now,
        updated_at=now,
    )
    member.consents.append(
        PrivacyConsent(policy_version=data["privacy_policy_version"], accepted_at=now)
    )
    db.session.add(member)
    try:
        db.session.flush()
        _session, tokens = _new_session(member, user_agent)
        commit()
    except IntegrityError as exc:  # a concurrent sign-up took the address or handle
        db.session.rollback()
        raise Conflict("email_taken") from exc
    return member, tokens


def sign_in_with_password(email: str, password: str, user_agent: str = "") -> TokenPair:
    """Exchange e-mail and password for tokens on a new session."""
    member = db.session.execute(
        sa.select(Member).where(Member.email == normalise_email(email), Member.deleted_at.is_(None))
    ).scalar_one_or_none()
    if not verify_password(member.password_hash if member else None, password):
        raise DomainError("invalid_credentials", 401)
    assert member is not None
    if needs_rehash(member.password_hash or ""):
        member.password_hash = hash_password(password)
    return sign_in(member, user_agent)


def refresh_tokens(claims: dict[str, Any]) -> TokenPair:
    """Rotate: the presented refresh token is spent and a new pair issued.

    A spent token presented again means it was copied: the session (family) is revoked.
    """
    session = db.session.execute(
        sa.select(AuthSession)
        .where(AuthSession.id == claims["fam"])
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if session is None or session.revoked_at is not None:
        raise DomainError("token_revoked", 401)
    if claims["jti"] != session.refresh_jti:
        session.revoked_at = utcnow()
        session.revoked_reason = "refresh_reused"
        _revoked(session.member_id, [session.id])
        commit()
        raise DomainError("refresh_token_reused", 401)
    tokens = issue_tokens(session)
    session.refreshed_at = utcnow()
    commit()
    return tokens


def sign_out(session_id: str) -> None:
    """Revoke the caller's session: its access and refresh tokens stop working now."""
    revoked = db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="logout")
        .returning(AuthSession.member_id)
    ).scalar_one_or_none()
    if revoked is not None:
        _revoked(revoked, [session_id])
    commit()


def _revoke_all(member_id: int, reason: str, *, keep: str | None = None) -> None:
    stmt = (
        sa.update(AuthSession)
        .where(AuthSession.member_id == member_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .returning(AuthSession.id)
    )
    if keep:
        stmt = stmt.where(AuthSession.id != keep)
    _revoked(member_id, list(db.session.execute(stmt).scalars()))


def _spend_reset_tokens(member_id: int) -> None:
    """A new password makes every outstanding reset link useless."""
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.member_id == member_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def change_password(member: Member, session_id: str, current: str, new: str) -> None:
    """Change the password; every other session of the member is signed out."""
    if not verify_password(member.password_hash, current):
        raise Forbidden("wrong_password")
    if current == new:
        raise DomainError("password_unchanged", 422, errors={"new_password": ["unchanged"]})
    member.password_hash = hash_password(new)
    _revoke_all(member.id, "password_changed", keep=session_id)
    _spend_reset_tokens(member.id)
    commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address belongs to a member; say nothing either way.

    The request only queues the job, whatever the address: the lookup, the token and the mail
    happen in the job, so the answer takes as long for a member's address as for a stranger's
    (before, 12.7 ms against 1.5 ms told them apart)."""
    reset_link_job(normalise_email(email))


@jobs.task(retries=3, retry_delay=30)
def reset_link_job(email: str) -> None:
    member = db.session.execute(
        sa.select(Member).where(Member.email == email, Member.deleted_at.is_(None))
    ).scalar_one_or_none()
    if member is None:
        return
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["PASSWORD_RESET_TTL"]
    now = utcnow()
    db.session.add(
        PasswordResetToken(
            member_id=member.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    url = current_app.config["PASSWORD_RESET_URL"].format(token=token)
    subject = pick(RESET_MAIL["subject"], member.locale)
    body = pick(RESET_MAIL["body"], member.locale).format(
        name=member.display_name, minutes=ttl // 60, url=url
    )
    to = member.email
    on_commit(lambda: send_mail(to, subject, body))
    commit()


def reset_password(token: str, new_password: str) -> None:
    """Set a new password with a mailed token; all sessions are signed out."""
    row = db.session.execute(
        sa.select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == _token_hash(token))
        .with_for_update()
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise DomainError("reset_token_invalid", 400)
    member = db.session.get(Member, row.member_id)
    if member is None or member.deleted_at is not None:
        raise DomainError("reset_token_invalid", 400)
    member.password_hash = hash_password(new_password)
    _revoke_all(member.id, "password_reset")
    _spend_reset_tokens(member.id)
    commit()


def delete_account(member: Member, password: str) -> None:
    """Erase the member's personal data everywhere and anonymise what they wrote (PIPL)."""
    if not verify_password(member.password_hash, password):
        raise Forbidden("wrong_password")
    privacy.erase_member(member.id)
    commit()


def export_personal_data(member_id: int) -> dict[str, Any]:
    """The member's sessions, for their export (``privacy``)."""
    sessions = db.session.execute(
        sa.select(AuthSession)
        .where(AuthSession.member_id == member_id)
        .order_by(AuthSession.created_at)
    ).scalars()
    return {
        "sessions": [
            {
                "created_at": s.created_at,
                "refreshed_at": s.refreshed_at,
                "revoked_at": s.revoked_at,
                "user_agent": s.user_agent,
            }
            for s in sessions
        ]
    }


def erase_personal_data(member_id: int) -> None:
    """The member's sessions and password reset tokens go (``privacy``)."""
    db.session.execute(sa.delete(AuthSession).where(AuthSession.member_id == member_id))
    db.session.execute(
        sa.delete(PasswordResetToken).where(PasswordResetToken.member_id == member_id)
    )
