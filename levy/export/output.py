"""Where exported points go: one small protocol, so a second output (another database, a file)
is one more class and the exporter does not change."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WriteFailure(Exception):
    """A write that did not land. `reason` is a short label for metrics (unreachable, timeout,
    unauthorized, not_found, rejected, unavailable); `refused` says the database answered and
    will answer the same until someone changes something (a token, a bucket), so retrying soon
    is pointless."""

    reason: str
    message: str
    refused: bool = False

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type["WriteFailure"], tuple[str, str, bool]]:
        """Pickled by its fields: the daemon's export process reports it to the daemon."""
        return WriteFailure, (self.reason, self.message, self.refused)


class Output(Protocol):
    target: str
    """Names where the points go (kind, address, bucket): each target keeps its own cursor, so
    pointing the daemon at a new bucket sends it everything."""

    def write(self, lines: list[str]) -> None:
        """Store the lines (line protocol, millisecond times) or raise WriteFailure. Returns only
        once the database has accepted them all."""

    def close(self) -> None: ...
