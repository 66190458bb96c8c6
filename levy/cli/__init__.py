"""The `levy-monitor` command line (see main.py)."""

from levy.cli.common import parse_time
from levy.cli.main import main

__all__ = ["main", "parse_time"]
