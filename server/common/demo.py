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


class Added:
    """What a seeder found or made, by kind, and how many of them it made: its report line."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}

    def count(self, what: str, created: bool) -> None:
        """One more ``what`` found or, if ``created``, made."""
        seen = self.counts.setdefault(what, [0, 0])
        seen[0] += 1
        seen[1] += int(created)

    def summary(self) -> str:
        """``categories 6, threads 4 (2 new)``; ``(already there)`` when nothing was made."""
        parts = ", ".join(f"{what} {total}" for what, (total, _new) in self.counts.items())
        new = sum(n for _total, n in self.counts.values())
        return f"{parts} ({new} new)" if new else f"{parts} (already there)"
