"""A child process of the daemon's, spoken to over two pipes: `python -m MODULE OUT_FD IN_FD`.

A plain interpreter that imports only what it runs: multiprocessing's spawn would also start its
resource tracker (one more interpreter) and, under the `levy-monitor` script, run that script
again in the child, importing the whole command line. The pipes' ends are inherited by number,
and the child's setup comes first on the pipe to it, so that no secret is on the command line.
The daemon's children are the MQTT client (`collector.mqtt_child`) and the export
(`levy.export.child`).
"""

import subprocess
import sys
from multiprocessing import Pipe
from multiprocessing.connection import Connection


def spawn(module: str, setup: object) -> tuple[subprocess.Popen[bytes], Connection, Connection]:
    """The child running `module`, given `setup`; and the ends of its pipes: what it sends
    comes in on the first, what the daemon sends it goes out on the second."""
    from_child, child_out = Pipe(duplex=False)
    child_in, to_child = Pipe(duplex=False)
    ends = (child_out.fileno(), child_in.fileno())
    process = subprocess.Popen([sys.executable, "-m", module, *map(str, ends)], pass_fds=ends)
    to_child.send(setup)
    child_out.close()
    child_in.close()
    return process, from_child, to_child


def parent_pipes(argv: list[str]) -> tuple[Connection, Connection]:
    """In the child: the end it sends on, and the end it reads (its setup first)."""
    return Connection(int(argv[0]), readable=False), Connection(int(argv[1]), writable=False)


def wait_or_kill(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Give a child told to stop (its pipe closed) `timeout_s` to exit, then kill it."""
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
