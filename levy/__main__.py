"""`python -m levy`: the same as the `levy-monitor` console script."""

import sys

from levy.cli import main

sys.exit(main())
