"""The MQTT process's entry point: `python -m collector.mqtt_child EVENTS_FD ACKS_FD`, a plain
interpreter that imports only the MQTT client (see `collector.child`)."""

import sys

from collector.child import parent_pipes
from collector.mqtt_process import serve


def main(argv: list[str]) -> None:
    events, acks = parent_pipes(argv)
    settings, log_format, timeout_s = acks.recv()
    serve(settings, events, acks, log_format, timeout_s)


if __name__ == "__main__":
    main(sys.argv[1:])
