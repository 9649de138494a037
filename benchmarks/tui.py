"""Figures for the Textual wizard (not pass/fail).

  .venv/bin/python -m benchmarks tui

1. Time from process start to the first interactive screen, and peak RSS at that point (a child process
   runs the real app headless; the parent stamps the time just before starting it).
2. A test-only step emitting 200,000 log lines (swapped into the registry here, never in the product):
   key-press latency p95 while it streams, RSS growth, and that every line reached the log file on disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LINES = 200_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_startup(project_dir: str, started: float) -> None:
    """Runs in the child: open the real app and report when it is ready for keys."""
    from core.runtime.project import Project
    from tui.app import WizardApp

    project = Project(Path(project_dir)).open()
    app = WizardApp(project)
    figures = {}

    async def ready(pilot) -> None:
        figures["seconds"] = time.time() - started
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        app.exit()

    app.run(headless=True, size=(120, 40), auto_pilot=ready)
    project.close()
    print(json.dumps(figures))


def startup(runs: int = 5) -> list[tuple[str, str, str]]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as project_dir:
            started = time.time()
            out = subprocess.run([sys.executable, __file__, "--child", project_dir, repr(started)],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    seconds = sorted(r["seconds"] for r in results)
    return [(f"start to first interactive screen, median of {runs}", f"{statistics.median(seconds):.3f} s",
             "<= 0.45 s"),
            ("peak RSS at start", f"{statistics.median(r['peak_rss_mb'] for r in results):.0f} MB", "")]


async def streaming() -> list[tuple[str, str, str]]:
    from textual.events import Key

    from core.runtime.outputs import StepOutputs
    from core.runtime.project import Project
    from core.runtime.step import Step
    from core.steps import STEPS
    from tui.app import WizardApp

    class FloodStep(Step):  # test-only, lives in this benchmark
        id, title, group = "environment", "Environment", "Local"
        explanation, manual = "Benchmark step.", ""

        def run(self, ctx):
            for i in range(LINES):
                ctx.log(f"benchmark line {i} with some typical build output text sha256:{i:064x}")
            return StepOutputs()

    with tempfile.TemporaryDirectory() as project_dir, STEPS.swapped(FloodStep()):
        project = Project(Path(project_dir)).open()
        try:
            app = WizardApp(project)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                before = rss_mb()
                peak = before
                latencies = []
                started = time.perf_counter()
                await pilot.press("r")
                while app.running_step is None:
                    await pilot.pause(0.01)
                while app.running_step is not None or app._step_worker_busy():
                    target, key = ("preflight", "n") if app.selected == "environment" else ("environment", "p")
                    t0 = time.perf_counter()
                    event = Key(key, key)
                    event.set_sender(app)
                    app._driver.send_message(event)  # the path a real key press takes from the terminal
                    while app.selected != target and time.perf_counter() - t0 < 10:
                        await asyncio.sleep(0.001)
                    latencies.append(time.perf_counter() - t0)
                    peak = max(peak, rss_mb())
                    await pilot.pause(0.05)
                elapsed = time.perf_counter() - started
                await pilot.pause(0.2)
                record = project.state.record("environment")
            log_file = project.logs_dir / record["log"]
            on_disk = sum(1 for line in open(log_file) if "benchmark line" in line)
        finally:
            project.close()
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    return [(f"stream {LINES:,} log lines through the wizard", f"{elapsed:.1f} s", ""),
            (f"key-press latency p95 while streaming ({len(latencies)} presses)", f"{p95 * 1000:.0f} ms", "< 100 ms"),
            ("RSS growth while streaming", f"{peak - before:.1f} MB", "< 50 MB"),
            ("log lines on disk", f"{on_disk:,}/{LINES:,}", "all")]


def measure() -> list[tuple[str, str, str]]:
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    return startup() + asyncio.run(streaming())


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child_startup(sys.argv[2], float(sys.argv[3]))
    else:
        from benchmarks.__main__ import main

        main(["tui"])
