"""A synthetic fleet for the benchmarks: a site configuration with N meters in a CSV inventory,
and, for a format other than the native one, its feed as `levy-monitor simulate` records it."""

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from collector.archive import Record
from collector.feed import FeedLine, read_feed
from levy.tools.simulate.fleet import synthetic_meters

NATIVE = "native"
"""The benchmarks' own fleet (`bench/rig-NNNNN`, the native payload); any other format is
`simulate`'s."""
SIMULATED_PREFIX = "sim/site"
"""Where a simulated fleet's topics begin."""

SIMULATED_COLUMNS = ("component", "channel", "measure")
"""What a simulated meter says besides its id, topic, format and rating."""
SITE = """
[site]
id = "bench"
inventory = "meters.csv"

[ledger]
path = "{ledger}"
accounting_start = {start}
"""


def write_fleet(
    folder: Path, meters: int, start_iso: str, extra: str = "", fmt: str = NATIVE
) -> Path:
    """`extra`: more TOML for the site (an [mqtt] or [influx] section, say). The ledger's path is
    absolute: a relative one would be read from the TOML's folder. `fmt`: `native` (the
    benchmarks' own `bench/rig-NNNNN` topics), or another of `simulate`'s formats, whose
    synthetic fleet `simulate -c` then publishes or records."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == NATIVE:
        rows = ["id,topic,format,rated_kw"]
        rows += [f"rig-{n:05d},bench/rig-{n:05d},native,3.6" for n in range(meters)]
    else:
        rows = [f"id,topic,format,rated_kw,{','.join(SIMULATED_COLUMNS)}"]
        for meter in synthetic_meters(meters, fmt, Decimal("3.6"), SIMULATED_PREFIX):
            cells = [getattr(meter, column) for column in SIMULATED_COLUMNS]
            shown = ",".join("" if cell is None else str(cell) for cell in cells)
            rows.append(f"{meter.id},{meter.topic},{meter.format},{meter.rated_kw},{shown}")
    (folder / "meters.csv").write_text("\n".join(rows) + "\n")
    config = folder / "site.toml"
    config.write_text(SITE.format(ledger=folder / "ledger.sqlite", start=start_iso) + extra)
    return config


def simulate_feed(config: Path, path: Path, start_iso: str, seconds: int) -> None:
    """The fleet's formats as `levy-monitor simulate` records them: one reading per meter every
    10 s from `start_iso` for `seconds` (a format may send more than one message a reading)."""
    command = [sys.executable, "-m", "levy", "simulate", "-c", str(config), "--output", str(path)]
    command += ["--start", start_iso, "--duration", f"{seconds}s", "--interval", "10"]
    subprocess.run(command, check=True, capture_output=True)


def recorded(path: Path) -> Iterator[Record]:
    for line in read_feed(path):
        assert isinstance(line, FeedLine), line
        yield line.received_ms, line.topic, line.payload
