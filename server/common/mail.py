"""Outgoing e-mail behind one small interface.

``MAIL_BACKEND``: ``console`` (default; logs the message), ``smtp`` (``SMTP_*`` settings) or
``memory`` (keeps an outbox in ``app.extensions["mail_outbox"]``, as Django's locmem backend;
the test suite reads it). Mail is sent from a job, after the transaction that caused it.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app

from server.extensions import jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def _send_smtp(mail: Mail) -> None:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=30) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls()
        if cfg["SMTP_USERNAME"]:
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def deliver(mail: Mail) -> None:
    """Hand one message to the configured backend, now."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "smtp":
        _send_smtp(mail)
    elif backend == "memory":
        current_app.extensions.setdefault("mail_outbox", []).append(mail)
    elif backend == "console":
        log.info("mail to=%s subject=%s\n%s", mail.to, mail.subject, mail.body)
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")


@jobs.task(retries=5, retry_delay=30)
def send_mail_job(to: str, subject: str, body: str) -> None:
    deliver(Mail(to, subject, body))


def send_mail(to: str, subject: str, body: str) -> None:
    """Queue a message (call from ``on_commit``)."""
    send_mail_job(to, subject, body)
