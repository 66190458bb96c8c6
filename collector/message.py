"""A message on a topic at a time: what the collector is handed to route (the broker's receive
time) and what a device format's encoding publishes (the time its device sends it)."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Message:
    received_ms: int
    topic: str
    payload: bytes
