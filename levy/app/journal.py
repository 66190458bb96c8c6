"""The raw archive as the daemon's journal: besides every received message it records where each
batch ended and when the daemon swept or closed, so a replay of the archive applies the same
inputs in the same batches and rebuilds exactly the ledger the daemon wrote.

Control lines use topics under `$levy/`: a `$` topic is reserved to the broker, so no device can
publish one.
"""

from collector.archive import ArchivePosition
from levy.core.engine import Changes, Engine

CONTROL_PREFIX = "$levy/"
BATCH = "$levy/batch"
SWEEP = "$levy/sweep"
CLOSE = "$levy/close"
START = "$levy/start"
"""Written once, at the accounting start of a ledger the daemon creates: a replay of the archive
then starts its accounts where the daemon did."""


BLIND = "$levy/blind"
"""The daemon cannot hear its meters from the time in the payload (it started: from its ledger
clock; it lost the broker: from then) until the next SEEING line."""
SEEING = "$levy/seeing"
"""The daemon has read the backlog the broker kept for it: it hears its meters again."""


def link_changes(engine: Engine, topic: str, at_ms: int, payload: bytes) -> Changes:
    """A BLIND or SEEING line applied to the engine (rule 6: blind time is nobody's fault)."""
    if topic == BLIND:
        return engine.go_blind(int(payload.decode("ascii")))
    return engine.see_again(at_ms)


def encode_position(position: ArchivePosition | None) -> str | None:
    return None if position is None else f"{position.file}\t{position.offset}"


def decode_position(text: str | None) -> ArchivePosition | None:
    if text is None:
        return None
    file, offset = text.rsplit("\t", 1)
    return ArchivePosition(file, int(offset))
