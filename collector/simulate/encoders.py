"""The simulator's payloads: each device format's own encoding (`collector.formats`), the mirror
image of its decoder, asked by name.

Shapes follow DESIGN.md section 4 and the decoders' own sources, and the topic names come from
the decoders' constants, so an encoder and its decoder cannot drift apart unnoticed (the round
trip tests route every encoder's output through the router). What the encodings share (exact
values, garbling) is `collector.formats.encoding`.
"""

from zoneinfo import ZoneInfo

from collector import formats
from collector.formats.encoding import Json, dump
from collector.formats.shelly import FAULT as SHELLY_FAULT

from .model import Frame, Message

__all__ = ["FORMATS", "SHELLY_FAULT", "Json", "dump", "encode", "reports_faults"]


def encode(frame: Frame, zone: ZoneInfo) -> list[Message]:
    """The messages a device publishes for one frame; `zone` is the site's, for naive times."""
    return formats.get(frame.format).encode(frame, zone)


def reports_faults(fmt: str) -> bool:
    """Whether the format's payload can say the meter itself has failed."""
    return formats.get(fmt).reports_faults


FORMATS = formats.BUILT_IN
"""Every format that ships, in the order `--format mixed` cycles through them."""
