"""Median wall time of `sagewiz --help` and of importing core (goals: <= 0.5 s and <= 0.15 s)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

RUNS = 9
CORE_IMPORT = ("import core.runtime.engine, core.runtime.project, core.steps, core.runtime.settings, "
               "core.runtime.state, core.runtime.events, core.runtime.checks, core.runtime.secrets, core.aws.keys, "
               "core.runtime.runlog, core.runtime.proc")


def median_seconds(argv: list[str], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure() -> list[tuple[str, str, str]]:
    """(figure, value, goal) rows."""
    cli = shutil.which("sagewiz") or f"{sys.prefix}/bin/sagewiz"
    return [
        ("python -c pass (baseline), median", f"{median_seconds([sys.executable, '-c', 'pass']):.3f} s", ""),
        ("import core (all core modules), median", f"{median_seconds([sys.executable, '-c', CORE_IMPORT]):.3f} s",
         "<= 0.15 s"),
        ("sagewiz --help, median", f"{median_seconds([cli, '--help']):.3f} s", "<= 0.5 s"),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import main

    main(["startup"])
