"""Cursor pagination over keyset queries: page 10,000 costs what page 1 costs.

A list endpoint takes ``?limit=`` (1–100, default 20) and ``?cursor=`` and answers
``{"items": [...], "next_cursor": "…" | null}``. The cursor is an opaque token holding the sort
key of the last item returned; the next page is ``WHERE (key) < (last key)`` in the same order,
which an index on the key columns answers without counting the rows before it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import marshmallow as ma
import orjson
import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from server.common.fields import Integer
from server.errors import DomainError
from server.extensions import db

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageArgs(ma.Schema):
    limit = Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(1, MAX_LIMIT),
        metadata={"description": f"Items per page (1–{MAX_LIMIT})"},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=512),
        metadata={"description": "`next_cursor` of the previous page"},
    )


_PAGE_SCHEMAS: dict[type[ma.Schema], type[ma.Schema]] = {}

ROW_SERIALISERS: dict[
    type[ma.Schema], Callable[[list[Any], tuple[str, ...] | None], list[dict[str, Any]]]
] = {}
"""Item schema → its compiled serialiser of plain rows (``server.common.rows.serialiser``)."""


class _PageSchema(ma.Schema):
    item_schema: type[ma.Schema]

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """A ``RowPage`` through the item schema's compiled serialiser (``common.rows``);
        anything else through marshmallow."""
        if isinstance(obj, RowPage):
            return {
                "items": ROW_SERIALISERS[self.item_schema](obj.items, obj.fields),
                "next_cursor": obj.next_cursor,
            }
        return super().dump(obj, many=many)


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """``{"items": [item…], "next_cursor": str | null}`` for an item schema (one per item)."""
    cached = _PAGE_SCHEMAS.get(item_schema)
    if cached is None:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        cached = type(
            name,
            (_PageSchema,),
            {
                "item_schema": item_schema,
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "next_cursor": ma.fields.String(required=True, allow_none=True),
            },
        )
        _PAGE_SCHEMAS[item_schema] = cached
    return cached


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass
class RowPage(Page[Any]):
    """A page of plain rows (``keyset_page(…, rows=True)``): ``page_schema`` dumps it with the
    item schema's compiled serialiser (``common.rows``) instead of marshmallow's field-by-field
    dump. ``fields`` names the values of items that are plain tuples, not result rows."""

    fields: tuple[str, ...] | None = None


def whole(items: Iterable[T]) -> Page[T]:
    """A short, bounded collection in the one list shape: every item, ``next_cursor`` null."""
    return Page(list(items), None)


@dataclass(frozen=True)
class SortKey:
    """One column of the sort order; the last key must make the order unique (an id)."""

    column: InstrumentedAttribute[Any] | sa.ColumnElement[Any]
    descending: bool = True

    @property
    def attribute(self) -> str:
        """The name a row or an object holds this column's value under."""
        return str(self.column.key)


def _encode(name: str, values: Sequence[Any]) -> str:
    packed = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = orjson.dumps({"k": name, "v": packed})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(cursor: str, name: str, keys: Sequence[SortKey]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        if not isinstance(data, dict) or data.get("k") != name:
            raise ValueError("cursor of another list")
        packed = data["v"]
        if not isinstance(packed, list) or len(packed) != len(keys):
            raise ValueError("wrong number of values")
        values = []
        for key, value in zip(keys, packed, strict=True):
            expected = key.column.type.python_type
            if isinstance(value, dict) and expected is datetime:
                value = datetime.fromisoformat(value["t"])
                if value.tzinfo is None:
                    raise ValueError("naive time")
                value = value.astimezone(UTC)  # year 1 at +01:00 overflows: not a cursor of ours
            elif expected is int:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError("not an integer")
                bound = 2**63 if isinstance(key.column.type, sa.BigInteger) else 2**31
                if not -bound <= value < bound:
                    raise ValueError("out of range")
            elif not isinstance(value, expected):
                raise ValueError("wrong type")
            values.append(value)
        return values
    except (
        ValueError,
        TypeError,
        KeyError,
        OverflowError,
        binascii.Error,
        orjson.JSONDecodeError,
    ) as exc:
        raise DomainError("invalid_cursor", 400) from exc


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys``."""
    if all(k.descending for k in keys) or not any(k.descending for k in keys):
        row = sa.tuple_(*(k.column for k in keys))
        bound = sa.tuple_(
            *(sa.literal(v, k.column.type) for k, v in zip(keys, values, strict=True))
        )
        return row < bound if keys[0].descending else row > bound
    # Mixed directions: (a after x) or (a = x and b after y) …
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        step = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(sa.and_(*equal, step))
    return sa.or_(*clauses)


def keyset_page(
    stmt: sa.Select[*tuple[Any, ...]],
    keys: Sequence[SortKey],
    *,
    name: str,
    limit: int,
    cursor: str | None,
    key_of: Callable[[Any], Sequence[Any]] | None = None,
    scalars: bool = True,
    rows: bool = False,
    params: Mapping[str, Any] | None = None,
) -> Page[Any]:
    """Run ``stmt`` ordered by ``keys`` from ``cursor`` on; ``name`` ties a cursor to its list.

    ``key_of`` reads the sort values back from an item; by default the attributes of the keys.
    ``rows``: ``stmt`` selects plain columns (the list rule, ``server.common.rows``); the page
    is a ``RowPage`` of its rows, which ``page_schema`` dumps with the compiled serialiser.
    ``params``: values of the bound parameters of a select built once (``sa.bindparam``).
    """
    scalars = scalars and not rows
    if cursor:
        stmt = stmt.where(_after(keys, _decode(cursor, name, keys)))
    stmt = stmt.order_by(*(k.column.desc() if k.descending else k.column.asc() for k in keys))
    result = db.session.execute(stmt.limit(limit + 1), params)
    items = list(result.scalars() if scalars else result)
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        values = key_of(last) if key_of else [getattr(last, k.attribute) for k in keys]
        next_cursor = _encode(name, values)
    return RowPage(items, next_cursor) if rows else Page(items, next_cursor)
