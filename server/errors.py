"""The one error shape, and the domain errors that services raise.

Every 4xx and 5xx leaves the server as::

    {"code": "validation_error", "status": 422, "message": "请求内容有误。",
     "errors": {"email": ["不是有效的电子邮件地址。"]}}

``code`` is stable snake_case that clients switch on; ``message`` is in the caller's language
(see ``server.common.i18n``); ``errors`` maps fields to messages, for validation failures only.
Features add their own codes with ``register_messages``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from server.common.i18n import get_locale, pick

log = logging.getLogger(__name__)

Messages = Mapping[str, Mapping[str, str]]

MESSAGES: dict[str, Mapping[str, str]] = {}


def register_messages(messages: Messages) -> None:
    """Add ``{code: {locale: text}}``; a code may be registered once."""
    for code, texts in messages.items():
        if code in MESSAGES and MESSAGES[code] != texts:
            raise ValueError(f"error code {code!r} registered twice")
        MESSAGES[code] = texts


register_messages(
    {
        "bad_request": {"zh-Hans": "请求无效。", "zh-Hant": "請求無效。", "en": "Bad request."},
        "invalid_json": {
            "zh-Hans": "请求体不是有效的 JSON。",
            "zh-Hant": "請求內容不是有效的 JSON。",
            "en": "The request body is not valid JSON.",
        },
        "validation_error": {
            "zh-Hans": "请求内容有误。",
            "zh-Hant": "請求內容有誤。",
            "en": "The request has invalid fields.",
        },
        "authentication_required": {
            "zh-Hans": "请先登录。",
            "zh-Hant": "請先登入。",
            "en": "Sign-in is required.",
        },
        "invalid_token": {
            "zh-Hans": "登录凭证无效。",
            "zh-Hant": "登入憑證無效。",
            "en": "The token is invalid.",
        },
        "token_expired": {
            "zh-Hans": "登录凭证已过期。",
            "zh-Hant": "登入憑證已過期。",
            "en": "The token has expired.",
        },
        "token_revoked": {
            "zh-Hans": "登录凭证已失效，请重新登录。",
            "zh-Hant": "登入憑證已失效，請重新登入。",
            "en": "The token has been revoked; please sign in again.",
        },
        "forbidden": {
            "zh-Hans": "你没有权限执行此操作。",
            "zh-Hant": "你沒有權限執行此操作。",
            "en": "You are not allowed to do this.",
        },
        "not_found": {"zh-Hans": "未找到。", "zh-Hant": "找不到。", "en": "Not found."},
        "method_not_allowed": {
            "zh-Hans": "不支持此请求方法。",
            "zh-Hant": "不支援此請求方法。",
            "en": "Method not allowed.",
        },
        "not_acceptable": {
            "zh-Hans": "无法提供所请求的格式。",
            "zh-Hant": "無法提供所請求的格式。",
            "en": "Not acceptable.",
        },
        "conflict": {"zh-Hans": "操作冲突。", "zh-Hant": "操作衝突。", "en": "Conflict."},
        "payload_too_large": {
            "zh-Hans": "请求体过大。",
            "zh-Hant": "請求內容過大。",
            "en": "The request body is too large.",
        },
        "unsupported_media_type": {
            "zh-Hans": "不支持的内容类型。",
            "zh-Hant": "不支援的內容類型。",
            "en": "Unsupported media type.",
        },
        "precondition_failed": {
            "zh-Hans": "前置条件不满足。",
            "zh-Hant": "前置條件不符。",
            "en": "Precondition failed.",
        },
        "rate_limited": {
            "zh-Hans": "操作过于频繁，请稍后再试。",
            "zh-Hant": "操作過於頻繁，請稍後再試。",
            "en": "Too many requests; please try again later.",
        },
        "internal_error": {
            "zh-Hans": "服务器出错了，请稍后再试。",
            "zh-Hant": "伺服器出錯了，請稍後再試。",
            "en": "Something went wrong on our side; please try again later.",
        },
        "service_unavailable": {
            "zh-Hans": "服务暂时不可用。",
            "zh-Hant": "服務暫時無法使用。",
            "en": "The service is temporarily unavailable.",
        },
        "invalid_cursor": {
            "zh-Hans": "分页游标无效。",
            "zh-Hant": "分頁游標無效。",
            "en": "The page cursor is invalid.",
        },
    }
)

# HTTP statuses raised by Flask, werkzeug or an extension, mapped to our codes.
_HTTP_CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_failed",
    429: "rate_limited",
    503: "service_unavailable",
}


class DomainError(Exception):
    """An expected failure with a stable code: raised by services, rendered in the error shape."""

    def __init__(
        self,
        code: str,
        status: int = 400,
        *,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        self.params = params


class NotFound(DomainError):
    def __init__(self, code: str = "not_found") -> None:
        super().__init__(code, 404)


class Forbidden(DomainError):
    def __init__(self, code: str = "forbidden") -> None:
        super().__init__(code, 403)


class Conflict(DomainError):
    def __init__(self, code: str = "conflict", **params: Any) -> None:
        super().__init__(code, 409, **params)


def message_for(code: str, locale: str | None = None, **params: Any) -> str:
    texts = MESSAGES.get(code)
    if texts is None:
        return code.replace("_", " ")
    text = pick(texts, locale)
    return text.format(**params) if params else text


# marshmallow's English messages, in the caller's language. Patterns keep the numbers.
_FIELD_MESSAGES: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(p), t)
    for p, t in [
        (r"^Missing data for required field\.$", {"zh-Hans": "必填。", "zh-Hant": "必填。"}),
        (r"^Field may not be null\.$", {"zh-Hans": "不能为空。", "zh-Hant": "不能為空。"}),
        (r"^Unknown field\.$", {"zh-Hans": "未知字段。", "zh-Hant": "未知欄位。"}),
        (r"^Invalid input type\.$", {"zh-Hans": "输入类型无效。", "zh-Hant": "輸入類型無效。"}),
        (r"^Invalid value\.$", {"zh-Hans": "值无效。", "zh-Hant": "值無效。"}),
        (r"^Invalid type\.$", {"zh-Hans": "类型无效。", "zh-Hant": "類型無效。"}),
        (
            r"^Not a valid string\.$",
            {"zh-Hans": "不是有效的字符串。", "zh-Hant": "不是有效的字串。"},
        ),
        (
            r"^Not a valid integer\.$",
            {"zh-Hans": "不是有效的整数。", "zh-Hant": "不是有效的整數。"},
        ),
        (r"^Not a valid number\.$", {"zh-Hans": "不是有效的数字。", "zh-Hant": "不是有效的數字。"}),
        (
            r"^Not a valid boolean\.$",
            {"zh-Hans": "不是有效的布尔值。", "zh-Hant": "不是有效的布林值。"},
        ),
        (r"^Not a valid list\.$", {"zh-Hans": "不是有效的列表。", "zh-Hant": "不是有效的清單。"}),
        (
            r"^Not a valid mapping type\.$",
            {"zh-Hans": "不是有效的对象。", "zh-Hant": "不是有效的物件。"},
        ),
        (
            r"^Not a valid email address\.$",
            {"zh-Hans": "不是有效的电子邮件地址。", "zh-Hant": "不是有效的電子郵件地址。"},
        ),
        (r"^Not a valid URL\.$", {"zh-Hans": "不是有效的网址。", "zh-Hant": "不是有效的網址。"}),
        (
            r"^Not a valid (date|datetime)\.$",
            {"zh-Hans": "不是有效的日期时间。", "zh-Hant": "不是有效的日期時間。"},
        ),
        (r"^Not a valid UUID\.$", {"zh-Hans": "不是有效的 UUID。", "zh-Hant": "不是有效的 UUID。"}),
        (
            r"^Not a valid utf-8 string\.$",
            {"zh-Hans": "不是有效的 UTF-8 字符串。", "zh-Hant": "不是有效的 UTF-8 字串。"},
        ),
        (r"^Number too large\.$", {"zh-Hans": "数字过大。", "zh-Hant": "數字過大。"}),
        (
            r"^Special numeric values \(nan or infinity\) are not permitted\.$",
            {"zh-Hans": "不允许 NaN 或无穷大。", "zh-Hant": "不允許 NaN 或無窮大。"},
        ),
        (
            r"^Must be one of: (?P<choices>.*)\.$",
            {"zh-Hans": "必须是以下之一：{choices}。", "zh-Hant": "必須是以下之一：{choices}。"},
        ),
        (
            r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$",
            {
                "zh-Hans": "长度须在 {min} 到 {max} 之间。",
                "zh-Hant": "長度須在 {min} 到 {max} 之間。",
            },
        ),
        (
            r"^Shorter than minimum length (?P<min>\d+)\.$",
            {"zh-Hans": "长度不能少于 {min}。", "zh-Hant": "長度不能少於 {min}。"},
        ),
        (
            r"^Longer than maximum length (?P<max>\d+)\.$",
            {"zh-Hans": "长度不能超过 {max}。", "zh-Hant": "長度不能超過 {max}。"},
        ),
        (
            r"^Must be greater than or equal to (?P<min>\S+) "
            r"and less than or equal to (?P<max>\S+)\.$",
            {"zh-Hans": "须在 {min} 到 {max} 之间。", "zh-Hant": "須在 {min} 到 {max} 之間。"},
        ),
        (
            r"^Must be greater than or equal to (?P<min>\S+)\.$",
            {"zh-Hans": "须大于或等于 {min}。", "zh-Hant": "須大於或等於 {min}。"},
        ),
        (
            r"^Must be less than or equal to (?P<max>\S+)\.$",
            {"zh-Hans": "须小于或等于 {max}。", "zh-Hant": "須小於或等於 {max}。"},
        ),
        (r"^Invalid JSON body\.$", {"zh-Hans": "JSON 格式错误。", "zh-Hant": "JSON 格式錯誤。"}),
        (
            r"^Not a valid time zone\.$",
            {"zh-Hans": "不是有效的时区。", "zh-Hant": "不是有效的時區。"},
        ),
        (
            r"^Not a valid phone number\.$",
            {"zh-Hans": "不是有效的电话号码。", "zh-Hant": "不是有效的電話號碼。"},
        ),
        (
            r"^Contains characters that are not allowed\.$",
            {"zh-Hans": "包含不允许的字符。", "zh-Hant": "包含不允許的字元。"},
        ),
        (
            r"^Use 3 to 30 letters, digits or underscores, starting with a letter\.$",
            {
                "zh-Hans": "请使用 3 到 30 个字母、数字或下划线，并以字母开头。",
                "zh-Hant": "請使用 3 到 30 個字母、數字或底線，並以字母開頭。",
            },
        ),
    ]
]


def translate_field_message(message: str, locale: str) -> str:
    """Translate one marshmallow message; our own messages (already localised) pass through."""
    if locale == "en":
        return message
    for pattern, texts in _FIELD_MESSAGES:
        match = pattern.match(message)
        if match:
            return texts[locale].format(**match.groupdict())
    return message


def _translate_errors(errors: Any, locale: str) -> Any:
    if isinstance(errors, dict):
        return {str(k): _translate_errors(v, locale) for k, v in errors.items()}
    if isinstance(errors, list | tuple):
        return [_translate_errors(v, locale) for v in errors]
    if isinstance(errors, str):
        return translate_field_message(errors, locale)
    return errors


def _flatten_locations(messages: Mapping[str, Any]) -> dict[str, Any]:
    """webargs keys errors by location (``json``, ``query``); clients want the fields."""
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def error_body(
    code: str, status: int, *, errors: Mapping[str, Any] | None = None, **params: Any
) -> dict[str, Any]:
    """The one error shape, in the caller's language: over HTTP and in socket acks alike."""
    locale = get_locale()
    body: dict[str, Any] = {
        "code": code,
        "status": status,
        "message": message_for(code, locale, **params),
    }
    if errors:
        body["errors"] = _translate_errors(errors, locale)
    return body


def error_response(
    code: str,
    status: int,
    *,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    **params: Any,
) -> Response:
    response = jsonify(error_body(code, status, errors=errors, **params))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_domain_error(error: DomainError) -> Response:
    return error_response(
        error.code, error.status, errors=error.errors, headers=error.headers, **error.params
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    errors = None
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if isinstance(messages, dict):
        errors = _flatten_locations(messages)
        if status == 400 and "json" in messages:
            code = "invalid_json"
    headers = dict(data.get("headers") or {})
    # Keep what the exception itself says in headers: Allow on 405, WWW-Authenticate on 401.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            headers[name] = value
    return error_response(code, status, errors=errors, headers=headers)


def is_outage(error: BaseException) -> bool:
    """An infrastructure failure rather than a bug: the database or Redis unreachable, the
    connection pool exhausted, a statement or lock timeout."""
    import sqlalchemy.exc

    if isinstance(error, sqlalchemy.exc.OperationalError | sqlalchemy.exc.TimeoutError):
        return True  # unreachable, restarted, timed out, locked (SQLite)
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis is a dependency
        return False
    return isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)


OUTAGE_RETRY_AFTER = "5"


def handle_unexpected(error: Exception) -> Response:
    if is_outage(error):
        # clients retry, and alerting tells an outage from a bug
        log.warning("service unavailable: %s: %s", type(error).__name__, str(error)[:300])
        return error_response(
            "service_unavailable", 503, headers={"Retry-After": OUTAGE_RETRY_AFTER}
        )
    log.exception("unhandled error", exc_info=error)
    return error_response("internal_error", 500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
