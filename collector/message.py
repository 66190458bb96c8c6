"""A message on a topic at a time: what the collector is handed to route (the broker's receive
time) and what a device format's encoding publishes (the time its device sends it)."""

from typing import NamedTuple


class Message(NamedTuple):
    received_ms: int
    topic: str
    payload: bytes
