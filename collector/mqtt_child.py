"""The MQTT process's entry point: `python -m collector.mqtt_child EVENTS_FD ACKS_FD`.

A plain interpreter that imports only the MQTT client. multiprocessing's spawn would also start
its resource tracker (one more interpreter) and, under the `levy-monitor` script, run that script
again in the child, importing the whole command line.
"""

import sys
from multiprocessing.connection import Connection

from collector.mqtt_process import serve


def main(argv: list[str]) -> None:
    """The pipes' ends are inherited by number; the settings come first on the acknowledgement
    pipe, so that no secret is on the command line."""
    events = Connection(int(argv[0]), readable=False)
    acks = Connection(int(argv[1]), writable=False)
    settings, log_format, timeout_s = acks.recv()
    serve(settings, events, acks, log_format, timeout_s)


if __name__ == "__main__":
    main(sys.argv[1:])
