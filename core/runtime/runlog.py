"""Per-step-run log files under `.sagewiz/logs/` and the index that `sagewiz logs` lists."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.runtime.events import Event, LogLine, Progress, ResourceChanged, StepFailed, StepFinished, StepStarted

INDEX = "index.jsonl"


def _stamp(at: float) -> str:
    return dt.datetime.fromtimestamp(at).isoformat(timespec="milliseconds")


def format_event(event: Event) -> str:
    """One log file line per event; text has already been redacted by the bus."""
    when = _stamp(event.at)
    if isinstance(event, LogLine):
        return f"{when} {event.level.upper():5} [{event.source}] {event.text}"
    if isinstance(event, StepStarted):
        return f"{when} STEP  started {event.step}"
    if isinstance(event, StepFinished):
        return (f"{when} STEP  finished {event.step} in {event.duration:.1f}s "
                f"outputs={json.dumps(event.outputs, default=str)}")
    if isinstance(event, StepFailed):
        return f"{when} STEP  failed {event.step} after {event.duration:.1f}s: {event.error}"
    if isinstance(event, Progress):
        total = f"/{event.total:g}" if event.total is not None else ""
        return f"{when} PROG  {event.current:g}{total} {event.label}"
    if isinstance(event, ResourceChanged):
        return f"{when} RSRC  {event.action} {event.kind} {event.id}"
    return f"{when} {event!r}"


class RunLog:
    """Writes one step run's events to its file; opened and closed by the engine around a step."""

    def __init__(self, logs_dir: Path, step: str, started_at: float) -> None:
        self.logs_dir = logs_dir
        self.step = step
        self.started_at = started_at
        self.run_id = dt.datetime.fromtimestamp(started_at).strftime("%Y%m%d-%H%M%S-%f") + f"-{step}"
        self.path = logs_dir / f"{self.run_id}.log"
        self._lock = threading.Lock()
        self._handle = open(self.path, "a", encoding="utf-8", buffering=1)
        self._index({"status": "running"})

    def _index(self, fields: dict[str, Any]) -> None:
        entry = {"id": self.run_id, "step": self.step, "started_at": self.started_at,
                 "log": self.path.name, **fields}
        with open(self.logs_dir / INDEX, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def __call__(self, event: Event) -> None:
        if getattr(event, "step", None) != self.step:
            return
        with self._lock:
            if not self._handle.closed:
                self._handle.write(format_event(event) + "\n")

    def write_text(self, text: str) -> None:
        """Raw text such as a traceback, which users never see on screen."""
        with self._lock:
            self._handle.write(text.rstrip("\n") + "\n")

    def close(self, status: str, finished_at: float) -> None:
        with self._lock:
            self._handle.close()
        self._index({"status": status, "finished_at": finished_at,
                     "duration": round(finished_at - self.started_at, 3)})


def list_runs(logs_dir: Path, step: str | None = None) -> list[dict[str, Any]]:
    """Step runs, oldest first, each the latest index entry for its id."""
    runs: dict[str, dict[str, Any]] = {}
    index = logs_dir / INDEX
    if not index.exists():
        return []
    for line in index.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash
        runs.setdefault(entry["id"], {}).update(entry)
    result = sorted(runs.values(), key=lambda r: r["started_at"])
    return [r for r in result if step is None or r["step"] == step]


def follow(path: Path, stop: threading.Event, poll: float = 0.2) -> Iterator[str]:
    """Yield the lines of a log file, then new lines as they are appended, until `stop` is set."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        pending = ""
        while True:
            chunk = handle.readline()
            if chunk:
                pending += chunk
                if pending.endswith("\n"):
                    yield pending.rstrip("\n")
                    pending = ""
                continue
            if stop.wait(poll):
                return
