"""The export process's entry point: `python -m levy.export.child ANSWERS_FD ASKS_FD`, a plain
interpreter (see `collector.child`). Its setup: the site's configuration, the output, the
export's start and the log format; then one pass per request, each answered with the export's
state, until the daemon closes the pipe or is gone."""

import logging
import os
import signal
import sys

from collector.child import parent_pipes

NICENESS = 10
"""The export yields the processor to the daemon's ingest: on a host busy with a backlog the
ledger goes first, and the export catches up from its cursor once the host has room."""


def main(argv: list[str]) -> None:
    os.nice(NICENESS)
    # imported once niced: loading them takes a few tenths of a second of the processor
    from levy.app.site import Site
    from levy.app.worker import wall_clock_ms
    from levy.export.exporter import Exporter

    answers, asks = parent_pipes(argv)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the daemon stops it, after its last pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config, output, started_ms, log_format = asks.recv()
    logging.basicConfig(level=logging.INFO, format=log_format)
    exporter = Exporter(Site.from_config(config), output, wall_clock_ms, started_ms)
    try:
        while True:
            exporter.reported, exporter.catching_up = asks.recv()
            outcome = exporter.tick()
            answers.send((exporter.state, outcome))
    except (EOFError, OSError):
        pass
    finally:
        exporter.close()


if __name__ == "__main__":
    main(sys.argv[1:])
