"""paho's client, reading a backlog without going back to select() after every packet.

paho's network loop reads one packet per turn: a select(), three `recv` calls or more (the
packet's type, its length byte by byte, the rest), then its keepalive bookkeeping. Draining a
backlog of small messages, those turns were about a third of a bare client's CPU. Here the
broker's socket is read 64 KiB at a time, paho's small reads come from that buffer, and a turn
reads on while bytes wait in it. paho already asks a socket for `pending()` bytes (a TLS
socket's decrypted ones) and skips the select's wait while there are any; the buffer answers
the same.

The other way, the daemon acknowledges a committed batch at once (`ack_many`): paho's `ack`
queues each PUBACK alone, which costs a wake-up of its network thread and a `send` each.
"""

import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

READ_BYTES = 65_536
"""Bytes asked of the kernel at a time: some hundreds of readings."""

PACKETS_PER_TURN = 1_000
"""Packets read before paho's loop gets its turn again (to send the acknowledgements queued
meanwhile and keep the connection alive)."""

PUBACK_PACKET = struct.Struct("!BBH")
"""A PUBACK as paho sends one: its type, remaining length 2 and the message id; in MQTT v5 a
remaining length of 2 means reason code 0 (success) and no properties."""


class BufferedSocket:
    """A connected socket (or a TLS one) whose reads come from a buffer filled a chunk at a
    time; everything else is the socket's own."""

    def __init__(self, sock: "SocketLike") -> None:
        self._sock = sock
        self._buffer = b""
        self._at = 0

    def recv(self, size: int) -> bytes:
        """As `socket.recv`: up to `size` bytes, b"" at the end, BlockingIOError (or TLS's
        want-read) when nothing is there."""
        if self._at >= len(self._buffer):
            self._buffer = self._sock.recv(READ_BYTES)
            self._at = 0
        start = self._at
        self._at = min(start + size, len(self._buffer))
        return self._buffer[start : self._at]

    def pending(self) -> int:
        """Bytes read and not yet taken, here or in the TLS layer."""
        inner = getattr(self._sock, "pending", None)
        return len(self._buffer) - self._at + (inner() if inner is not None else 0)

    def send(self, data: bytes | bytearray) -> int:
        return self._sock.send(data)

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)


class Client(mqtt.Client):
    """`paho.mqtt.client.Client` reading through a `BufferedSocket`, on for as long as bytes
    wait (`PACKETS_PER_TURN` at the most), and acknowledging many QoS 1 messages at once."""

    def ack_many(self, mids: Iterable[int]) -> None:
        """The PUBACKs of QoS 1 messages `mids` (of the connection now up, as for `ack`),
        queued as one write, the bytes paho's `ack` would send one by one. Like those, they are
        dropped if the connection goes before they are sent."""
        packet = b"".join([PUBACK_PACKET.pack(mqtt.PUBACK, 2, mid) for mid in mids])
        if packet:
            self._packet_queue(mqtt.PUBACK, packet, 0, 1)

    def _create_socket(self) -> BufferedSocket:
        return BufferedSocket(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        code = super().loop_read(max_packets)
        for _ in range(PACKETS_PER_TURN):
            sock = self._sock
            if code != MQTTErrorCode.MQTT_ERR_SUCCESS or not isinstance(sock, BufferedSocket):
                break
            if not sock.pending():
                break
            code = super().loop_read(max_packets)
        return code
