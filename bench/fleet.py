"""A synthetic fleet for the benchmarks: a site configuration with N meters in a CSV inventory."""

from pathlib import Path

SITE = """
[site]
id = "bench"
inventory = "meters.csv"

[ledger]
path = "{ledger}"
accounting_start = {start}
"""


def write_fleet(folder: Path, meters: int, start_iso: str, extra: str = "") -> Path:
    """`extra`: more TOML for the site (an [mqtt] or [influx] section, say). The ledger's path is
    absolute: a relative one would be read from the TOML's folder."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["id,topic,format,rated_kw"]
    rows += [f"rig-{n:05d},bench/rig-{n:05d},native,3.6" for n in range(meters)]
    (folder / "meters.csv").write_text("\n".join(rows) + "\n")
    config = folder / "site.toml"
    config.write_text(SITE.format(ledger=folder / "ledger.sqlite", start=start_iso) + extra)
    return config
