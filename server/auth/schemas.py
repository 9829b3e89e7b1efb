"""Request and response bodies of the sign-in endpoints. Token fields use OAuth 2.0 names."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from server.common.fields import Handle, Integer, Name, Text
from server.members.models import LOCALES


def password_field(**kwargs: Any) -> ma.fields.String:
    """8 to 128 characters; long pass-phrases welcome, megabyte ones refused before hashing."""
    return ma.fields.String(
        required=True, validate=ma.validate.Length(min=8, max=128), load_only=True, **kwargs
    )


class RegisterSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    password = password_field()
    display_name = Name(required=True, min_length=1, max_length=50)
    privacy_policy_version = Text(
        required=True,
        min_length=1,
        max_length=32,
        metadata={"description": "The privacy-policy version the member read and accepted"},
    )
    username = Handle(metadata={"description": "@handle; generated when left out"})
    locale = ma.fields.String(validate=ma.validate.OneOf(LOCALES))


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=128)
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = Integer(required=True, metadata={"description": "Seconds the access token lives"})
    refresh_expires_in = Integer(
        required=True, metadata={"description": "Seconds the refresh token lives"}
    )


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=128)
    )
    new_password = password_field()


class PasswordResetRequestSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))


class PasswordResetConfirmSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    new_password = password_field()
