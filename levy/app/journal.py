"""The raw archive as the daemon's journal: besides every received message it records where each
batch ended and when the daemon swept or closed, so a replay of the archive applies the same
inputs in the same batches and rebuilds exactly the ledger the daemon wrote.

Control lines use topics under `$levy/`: a `$` topic is reserved to the broker, so no device can
publish one.
"""

from collector.archive import ArchivePosition

CONTROL_PREFIX = "$levy/"
BATCH = "$levy/batch"
SWEEP = "$levy/sweep"
CLOSE = "$levy/close"
START = "$levy/start"
"""Written once, at the accounting start of a ledger the daemon creates: a replay of the archive
then starts its accounts where the daemon did."""


def encode_position(position: ArchivePosition | None) -> str | None:
    return None if position is None else f"{position.file}\t{position.offset}"


def decode_position(text: str | None) -> ArchivePosition | None:
    if text is None:
        return None
    file, offset = text.rsplit("\t", 1)
    return ArchivePosition(file, int(offset))
