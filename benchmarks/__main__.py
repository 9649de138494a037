"""`python -m benchmarks`: run every benchmark and print one table of figures against their goals.

Each benchmark module exposes `measure() -> list[Row]`; a module whose service is not running reports
that instead of a figure. `python -m benchmarks startup preflight` runs only the named ones.
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
import traceback

ORDER = ("startup", "preflight", "tui", "image", "pipeline")


def main(names: list[str]) -> int:
    rows = []
    for name in names or ORDER:
        started = time.monotonic()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            for row in module.measure():
                rows.append((name, *row))
        except Exception as exc:  # one benchmark's missing service must not hide the others
            traceback.print_exc(file=sys.stderr)
            rows.append((name, "(not measured)", f"{type(exc).__name__}: {exc}", ""))
        print(f"[{name} took {time.monotonic() - started:.0f} s]", file=sys.stderr)
    print(f"machine: {platform.node()} {platform.machine()} python {platform.python_version()} "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"{'bench':10} {'figure':52} {'value':>14} {'goal':>14}")
    for bench, figure, value, goal in rows:
        print(f"{bench:10} {figure:52} {value:>14} {goal:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
