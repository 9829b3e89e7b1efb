"""PIPL: a member can see everything held about them, and have it erased.

Each feature registers an exporter (what it holds about a member, as JSON-ready data) and an
eraser (delete the member's personal data, anonymise what they wrote for others). ``DELETE /me``
runs every eraser in one transaction; ``GET /me/export`` gathers every exporter's section.
Exporters give times as ``datetime``s: the export shows them as the API does (``local_iso``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from server.common.time import local_iso

Exporter = Callable[[int], Any]
Eraser = Callable[[int], None]

_exporters: dict[str, Exporter] = {}
_erasers: dict[str, tuple[int, Eraser]] = {}


def register(section: str, *, exporter: Exporter, eraser: Eraser, order: int = 100) -> None:
    """Plug a feature in: ``section`` names its part of the export; erasers run by ``order``
    (the member's own account erases last, after features have anonymised its content)."""
    _exporters[section] = exporter
    _erasers[section] = (order, eraser)


def export_member(member_id: int) -> dict[str, Any]:
    return {
        section: _times_shown(export(member_id)) for section, export in sorted(_exporters.items())
    }


def _times_shown(value: Any) -> Any:
    """Every ``datetime`` in an exporter's data as the API shows times (one rule)."""
    if isinstance(value, datetime):
        return local_iso(value)
    if isinstance(value, dict):
        return {k: _times_shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_times_shown(v) for v in value]
    return value


def erase_member(member_id: int) -> None:
    """Run every feature's eraser; the caller owns the transaction."""
    for _order, erase in sorted(_erasers.values(), key=lambda item: item[0]):
        erase(member_id)


def sections() -> list[str]:
    return sorted(_exporters)
