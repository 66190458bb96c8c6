"""Where a report's bytes go: stdout, or with `--output` a file written whole or not at all."""

import os
import sys
import tempfile
from pathlib import Path

from levy.app.errors import UsageError


def refuse_terminal(binary: str, output: Path | None) -> None:
    """A PDF sent to a terminal is noise that can leave it garbled: asked for a file instead."""
    if output is None and sys.stdout.isatty():
        raise UsageError(f"a {binary} is not for a terminal: give --output FILE or redirect stdout")


def refuse_unwritable(output: Path | None) -> None:
    """Said before the work, not after it: the folder a file is to go into must be there."""
    if output is None:
        return
    folder = output.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {output}: there is no folder {folder}")
    if output.is_dir():
        raise UsageError(f"cannot write {output}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write {output}: the folder {folder} is not writable")


def deliver(data: bytes, output: Path | None) -> None:
    if output is None:
        emit(data)
    else:
        write_whole(output, data)


def emit(data: bytes) -> None:
    """The bytes as they are: text comes encoded in UTF-8 whatever the locale, so ids are
    printed as the site wrote them."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def write_whole(path: Path, data: bytes) -> None:
    """Through a temporary file beside it, renamed over it: a reader never sees half a file, and
    a failed write leaves what was there."""
    folder = path.parent
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
