"""The benchmark suite: every figure of the README's table, each beside its ceiling measured in
the same run, printed as one Markdown table with the machine and the date.

    python -m bench [--quick] [--only drain,replay,scale,report,export]

`--quick` runs every benchmark at a tenth of its size (a check that the suite works, not figures
to record).
"""

import argparse
import os
import platform
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench import drain, export_throughput, month_report, replay_throughput, scale
from bench.table import Figure, render

OUT = Path("bench/out")
NAMES = ("drain", "replay", "scale", "report", "export")


def suite(quick: bool) -> dict[str, Callable[[], list[Figure]]]:
    def size(full: int) -> int:
        return full // 10 if quick else full

    return {
        "drain": lambda: drain.measure(size(10_000), 12, OUT / "drain"),
        "replay": lambda: replay_throughput.measure(size(1_000_000), size(10_000), OUT / "replay"),
        "scale": lambda: scale.measure(size(100_000), OUT / "scale"),
        "report": lambda: month_report.measure(size(10_000), "2026-10", OUT / "month"),
        "export": lambda: export_throughput.measure(size(1000), 7, OUT / "export"),
    }


def machine() -> str:
    cpu = "unknown processor"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (
        f"{date.today().isoformat()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(NAMES))
    args = parser.parse_args()
    benchmarks = suite(args.quick)
    figures: list[Figure] = []
    for name in args.only.split(","):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        figures += benchmarks[name]()
        print(render(figures), file=sys.stderr, flush=True)  # so far, should a later one fail
    print(machine())
    print()
    print(render(figures))


if __name__ == "__main__":
    main()
