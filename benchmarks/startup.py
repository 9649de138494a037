"""Median wall time of `sagewiz --help` and of importing core (goals: <= 0.5 s and <= 0.15 s)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

RUNS = 9
CORE_IMPORT = ("import core.engine, core.project, core.steps, core.settings, core.state, core.events, "
               "core.checks, core.secrets, core.aws_keys, core.runlog, core.proc")


def median_seconds(argv: list[str], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure() -> list[tuple[str, float, float]]:
    """(name, seconds, goal) rows."""
    baseline = median_seconds([sys.executable, "-c", "pass"])
    cli = shutil.which("sagewiz") or f"{sys.prefix}/bin/sagewiz"
    return [
        ("python -c pass (baseline)", baseline, float("nan")),
        ("import core (all core modules)", median_seconds([sys.executable, "-c", CORE_IMPORT]), 0.15),
        ("sagewiz --help", median_seconds([cli, "--help"]), 0.5),
    ]


def main() -> None:
    print(f"{'benchmark':40} {'median s':>9} {'goal s':>7}")
    for name, seconds, goal in measure():
        print(f"{name:40} {seconds:9.3f} {goal:7.2f}")


if __name__ == "__main__":
    main()
