"""Lists read plain rows and serialise them without marshmallow's per-field dispatch.

A list endpoint (the README's "list rule") selects exactly the columns its item schema shows
with one SQLAlchemy Core ``select`` over table columns (no ORM entities), pages it with
``keyset_page(…, rows=True)``, and answers through the same documented
``page_schema(ItemSchema)``: a ``RowPage`` is dumped by the item schema's ``RowSerialiser``,
compiled once from the schema itself, so the marshmallow schema stays the contract (its
OpenAPI, its field names and order, its nesting) and a test holds the two to the same output.

How a row fills a schema (``serialiser(ItemSchema, computed=…)``, next to the schema):

- a plain field reads the column named after its ``attribute``'s last part, else its name
  (``attribute="thread.highest_number"`` reads ``highest_number``; ``joined_at =
  LocalDateTime(attribute="created_at")`` reads ``created_at``);
- a ``LocalDateTime`` is written as ``time.local_iso`` writes it, in the caller's time zone;
- a ``Nested(Card)`` reads the card's columns from the same row under the prefix
  ``<source>__`` (``author__id``, ``author__display_name``…; see ``prefixed``), ``None`` when
  its ``id`` is null; the card schema needs a serialiser of its own;
- a ``List(Nested(Card))`` reads a column holding a list of rows of the card (a one-to-many the
  list fetched in one more query for the whole page);
- ``Method``, ``Function`` and any field reading more than a column is ``computed``: the
  field's name → (the columns it reads, a function of their values); fields made together
  (a notification's title and body) are one entry, named by a tuple, whose function returns
  a tuple.

Anything else the compiler cannot fill is an error when the first page is dumped, never a
silently missing key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
import sqlalchemy as sa

from server.common.pagination import ROW_SERIALISERS
from server.common.time import LocalDateTime, display_zone

Computed = Mapping[str | tuple[str, ...], tuple[Sequence[str], Callable[..., Any]]]
_Fill = Callable[[Sequence[Any], ZoneInfo], Any]  # (row, the caller's time zone) → a value

SERIALISERS: dict[type[ma.Schema], RowSerialiser] = {}
"""Every schema with a compiled serialiser (the contract test walks them all)."""


def prefixed(prefix: str, *columns: sa.ColumnElement[Any]) -> list[sa.Label[Any]]:
    """``columns`` labelled ``<prefix>__<column>``: how a nested card's columns are named."""
    return [column.label(f"{prefix}__{column.key}") for column in columns]


def _iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat(timespec="seconds")


class RowSerialiser:
    """A marshmallow schema compiled into a function of a row: one plan per column layout."""

    def __init__(self, schema: type[ma.Schema], computed: Computed) -> None:
        self.schema = schema
        self.computed: dict[str, tuple[Sequence[str], Callable[..., Any]]] = {}
        self.together: list[tuple[str, ...]] = []  # fields one function makes at once
        for names, how in computed.items():
            if isinstance(names, tuple):
                self.together.append(names)
                self.computed[names[0]] = how
                self.computed.update(dict.fromkeys(names[1:], ((), lambda: None)))
            else:
                self.computed[names] = how
        self._fills: dict[tuple[str, ...], _Fill] = {}

    def dump(
        self,
        rows: Sequence[Any],
        fields: tuple[str, ...] | None = None,
        tz: ZoneInfo | None = None,
    ) -> list[dict[str, Any]]:
        """Each row as the schema would dump it, times in ``tz`` (the caller's zone by
        default). Rows share one layout: ``fields``, else the first row's ``_fields``."""
        if not rows:
            return []
        fill = self.filler(fields or tuple(rows[0]._fields))
        tz = tz or display_zone()
        return [fill(row, tz) for row in rows]

    def filler(self, fields: tuple[str, ...], prefix: str = "") -> _Fill:
        """The function making the schema's dict from a row with these columns (cached)."""
        cache_key = (prefix, *fields)
        fill = self._fills.get(cache_key)
        if fill is None:
            fill = self._fills[cache_key] = self._compile(fields, prefix)
        return fill

    def _compile(self, fields: tuple[str, ...], prefix: str) -> _Fill:
        """Plain fields are copied from the row by one ``itemgetter`` into a dict in the
        schema's order; the others (times, cards, computed) then replace their placeholder."""
        index = {name: i for i, name in enumerate(fields)}
        dumped = self.schema().dump_fields
        keys, columns, special = [], [], []
        for name, field in dumped.items():
            key = field.data_key or name
            step = self._step(name, field, index, prefix)
            keys.append(key)
            columns.append(step if isinstance(step, int) else 0)
            if not isinstance(step, int):
                special.append((key, step))
        copy = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
        together = [tuple(dumped[n].data_key or n for n in names) for names in self.together]

        def fill(row: Sequence[Any], tz: ZoneInfo) -> dict[str, Any]:
            item = dict(zip(keys, copy(row), strict=True))
            for key, step in special:
                item[key] = step(row, tz)
            for made in together:  # the first of the fields made together holds them all
                item.update(zip(made, item[made[0]], strict=True))
            return item

        return fill

    def _column(self, index: Mapping[str, int], name: str, where: str) -> int:
        try:
            return index[name]
        except KeyError:
            raise LookupError(f"{where} reads the column {name!r}: not selected") from None

    def _step(
        self, name: str, field: ma.fields.Field[Any], index: Mapping[str, int], prefix: str
    ) -> int | _Fill:
        """The column a plain field copies, or the function making the field's value."""
        where = f"{self.schema.__name__}.{name}"
        if name in self.computed:
            sources, fn = self.computed[name]
            at = [self._column(index, prefix + s, where) for s in sources]
            if not at:
                return lambda _row, _tz: fn()
            if len(at) == 1:
                (i,) = at
                return lambda row, _tz: fn(row[i])
            return lambda row, _tz: fn(*[row[i] for i in at])
        if isinstance(field, ma.fields.Method | ma.fields.Function):
            raise LookupError(f"{where} is computed: give it in the serialiser's ``computed``")
        if isinstance(field, ma.fields.DateTime) and not isinstance(field, LocalDateTime):
            raise LookupError(f"{where}: times leave the server as LocalDateTime")
        source = prefix + (field.attribute or name).rpartition(".")[2]
        if isinstance(field, ma.fields.Nested):
            fill = _registered(type(field.schema), where).filler(tuple(index), source + "__")
            key = self._column(index, f"{source}__id", where)
            return lambda row, tz: None if row[key] is None else fill(row, tz)
        i = self._column(index, source, where)
        if isinstance(field, ma.fields.List) and isinstance(field.inner, ma.fields.Nested):
            inner = _registered(type(field.inner.schema), where)
            return lambda row, tz: inner.dump(row[i], tz=tz)
        if isinstance(field, LocalDateTime):
            return lambda row, tz: _iso(row[i], tz)
        return i


def _registered(schema: type[ma.Schema], where: str) -> RowSerialiser:
    found = SERIALISERS.get(schema)
    if found is None:
        raise LookupError(f"{where} nests {schema.__name__}, which has no serialiser")
    return found


def serialiser(schema: type[ma.Schema], computed: Computed | None = None) -> RowSerialiser:
    """Compile ``schema`` for rows (``computed``: field → (columns it reads, function)) and
    let ``page_schema(schema)`` dump a ``RowPage`` with it."""
    compiled = SERIALISERS[schema] = RowSerialiser(schema, computed or {})
    ROW_SERIALISERS[schema] = compiled.dump
    return compiled
