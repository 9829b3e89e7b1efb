"""``flask seed-demo``: each feature registers a function that adds its realistic demo content."""

from __future__ import annotations

from collections.abc import Callable

Seeder = Callable[[], None]
_seeders: dict[str, tuple[int, Seeder]] = {}


def register_seeder(name: str, seeder: Seeder, *, order: int = 100) -> None:
    """Members seed first (order 0); content that needs members comes after."""
    _seeders[name] = (order, seeder)


def seeders() -> list[tuple[str, Seeder]]:
    ordered = sorted(_seeders.items(), key=lambda item: (item[1][0], item[0]))
    return [(name, seeder) for name, (_order, seeder) in ordered]
