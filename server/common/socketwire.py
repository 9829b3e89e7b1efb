"""Socket.IO packets read with the same strict JSON reader as REST bodies.

python-socketio decodes each packet with the standard ``json`` module before any handler
runs: a 50,000-deep ``[`` is a ``RecursionError`` in the server's thread, a lone surrogate
(``"\\udc00"``) reaches the database write, and a packet that is not ``["event", …]`` fails in
the library with no acknowledgement. ``StrictPacket`` reads with ``server.common.jsonio``; an
event packet whose arguments it refuses is still delivered, as ``[event, INVALID]`` (its ack id
kept), so that the namespace answers it with an error ack in the one error shape. An event
whose name cannot be read arrives as ``invalid_payload``; a connect packet whose ``auth`` cannot
be read connects without one (and is refused as ``authentication_required``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from socketio import packet

from server.common import jsonio

INVALID_EVENT = "invalid_payload"


class _Invalid:
    """The one argument of an event whose payload was refused."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_EVENT_NAME = re.compile(r'\[\s*"(' + _NAME.pattern + ')"')
_RESERVED = {"connect", "disconnect", "connect_error"}


class _StrictJSON:
    """What python-socketio calls as ``json``: our reader in, the standard writer out."""

    @staticmethod
    def loads(text: str | bytes) -> Any:
        return jsonio.loads(text)

    @staticmethod
    def dumps(value: Any, **kwargs: Any) -> str:
        return json.dumps(value, **kwargs)


class StrictPacket(packet.Packet):
    json = _StrictJSON
    data: Any

    def decode(self, encoded_packet: Any) -> int:
        try:
            count = super().decode(encoded_packet)
        except ValueError:
            self.attachment_count = 0
            if self.packet_type in (packet.EVENT, packet.BINARY_EVENT):
                self.data = [_event_name(encoded_packet), INVALID]
            elif self.packet_type == packet.CONNECT:
                self.data = None  # no readable auth: refused as authentication_required
            elif self.packet_type in (packet.ACK, packet.BINARY_ACK):
                self.data = [INVALID]
            else:
                raise
            return 0
        if self.packet_type in (packet.EVENT, packet.BINARY_EVENT):
            self.data = _checked_event(self.data, jsonio.may_hold_nul(encoded_packet))
        return int(count)


def _event_name(encoded: Any) -> str:
    match = _EVENT_NAME.search(encoded[:200]) if isinstance(encoded, str) else None
    name = match.group(1) if match else INVALID_EVENT
    return INVALID_EVENT if name in _RESERVED else name


def _checked_event(data: Any, may_hold_nul: bool = True) -> list[Any]:
    """``[name, *args]`` with a plain name and arguments we accept, else ``[name, INVALID]``.
    Clients cannot send the lifecycle events (``connect``, ``disconnect``) as events."""
    if (
        not isinstance(data, list)
        or not data
        or not isinstance(data[0], str)
        or not _NAME.fullmatch(data[0])
        or data[0] in _RESERVED
    ):
        return [INVALID_EVENT, INVALID]
    if may_hold_nul and jsonio.has_nul(data[1:]):
        return [data[0], INVALID]
    return data
