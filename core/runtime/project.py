"""A project directory: its paths, settings, state and lock, and the services started for it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.runtime.lock import ProjectLock
from core.runtime.settings import Settings, load_settings
from core.runtime.state import StateStore

STATE_DIR = ".sagewiz"


class ProjectError(RuntimeError):
    """The project directory cannot be used as given."""


class Project:
    """Opened once per wizard process; `close()` stops what the wizard started and releases the lock."""

    def __init__(self, root: Path, *, overrides: dict[str, Any] | None = None) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ProjectError(f"The project directory {self.root} does not exist or is not a directory; "
                               f"create it or pass an existing one with --project-dir.")
        self.dir = self.root / STATE_DIR
        self.logs_dir = self.dir / "logs"
        self.build_dir = self.dir / "build"
        self.mlflow_dir = self.dir / "mlflow"
        self.settings: Settings = load_settings(self.root)
        for key, value in (overrides or {}).items():
            self.settings.set(key, value)
        self.lock = ProjectLock(self.dir / "lock")
        self._state: StateStore | None = None
        self._on_close: list[Callable[[], None]] = []

    @property
    def state(self) -> StateStore:
        """The project's state; there is none before `open()` or `open_readonly()`."""
        if self._state is None:
            raise ProjectError(f"The project {self.root} is not open, so its state cannot be read.")
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state is not None

    @property
    def sandbox(self) -> bool:
        return bool(self.settings["sandbox.enabled"])

    def open(self) -> Project:
        for directory in (self.dir, self.logs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.lock.acquire()
        try:
            self._state = StateStore(self.dir / "state.json")
        except BaseException:
            self.lock.release()
            raise
        self.state.mark_interrupted()
        return self

    def open_readonly(self) -> Project:
        """Read state without taking the lock, for status and logs while another wizard runs; with no live
        wizard holding the project, a step still marked running was interrupted and is shown so."""
        self._state = StateStore(self.dir / "state.json", readonly=True)
        if not self.lock.held_by_other():
            self.state.mark_interrupted()
        return self

    def on_close(self, callback: Callable[[], None]) -> None:
        """Register a stop action for something this process started (MLflow server, emulator)."""
        self._on_close.append(callback)

    def close(self) -> None:
        while self._on_close:
            callback = self._on_close.pop()
            try:
                callback()
            except Exception:  # a stop action must not keep the others from running
                pass
        self.lock.release()

    def __enter__(self) -> Project:
        return self if self.is_open else self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()
