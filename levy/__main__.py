"""`python -m levy`: the same as the `levy-monitor` console script."""

import sys

from levy.cli import main

if __name__ == "__main__":  # not when the MQTT process (spawned) imports it
    sys.exit(main())
