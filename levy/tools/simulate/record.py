"""Recorded mode: the stream written as `mosquitto_sub -F '%j'` lines, plain or gzipped.

A `.gz` file is written with a zero modification time in its header, so the same seed and
options give the same bytes: a recorded feed can be regenerated instead of stored.
"""

import gzip
import io
from pathlib import Path
from types import TracebackType
from typing import Self, TextIO

from collector.feed import format_feed_line
from collector.message import Message


class FeedWriter:
    """A sink writing one line per message; the receive time trails the reading by `lag_ms`."""

    def __init__(self, path: Path, lag_ms: int) -> None:
        self._lag_ms = lag_ms
        self._out = _open(path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._out.close()

    def send(self, message: Message) -> None:
        received_ms = message.received_ms + self._lag_ms
        self._out.write(format_feed_line(received_ms, message.topic, message.payload))
        self._out.write("\n")


def _open(path: Path) -> TextIO:
    if path.suffix == ".gz":
        packed = gzip.GzipFile(path, "wb", mtime=0)
        return io.TextIOWrapper(packed, encoding="utf-8", newline="\n")
    return path.open("w", encoding="utf-8", newline="\n")
