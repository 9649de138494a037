"""The project's `.sagewiz/state.json`: step records and the resource ledger, written atomically."""

from __future__ import annotations

import copy
import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Literal

SCHEMA_VERSION = 1
StepStatus = Literal["pending", "running", "done", "failed", "stale", "skipped"]


class StateError(RuntimeError):
    """State cannot be used as it is; the message says what happened to the file and what to do."""


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Temp file in the same directory, fsync, rename: a crash leaves the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def empty_state() -> dict[str, Any]:
    return {"schema": SCHEMA_VERSION, "steps": {}, "ledger": [], "services": {}}


def empty_record() -> dict[str, Any]:
    return {"status": "pending", "outputs": {}, "started_at": None, "finished_at": None,
            "duration": None, "error": None, "log": None}


class StateStore:
    """Holds the state in memory behind a lock and saves every change to disk."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._lock = threading.RLock()
        self._data = self._load()

    def _set_aside(self, reason: str) -> Path:
        aside = self.path.with_name(f"{self.path.name}.{time.strftime('%Y%m%d-%H%M%S')}.{reason}")
        shutil.copy2(self.path, aside)
        return aside

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return empty_state()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("steps"), dict):
                raise ValueError("not a sagewiz state object")
        except (ValueError, UnicodeDecodeError) as exc:
            aside = self._set_aside("corrupt")
            raise StateError(
                f"{self.path} is not readable state ({exc}). It was kept, and copied to {aside}. "
                f"Fix it, or move it away to start over (the ledger in the copy still lists cloud resources)."
            ) from None
        schema = data.get("schema")
        if not isinstance(schema, int) or schema > SCHEMA_VERSION:
            aside = self._set_aside(f"schema{schema}")
            raise StateError(
                f"{self.path} was written by a newer sagewiz (state schema {schema}, this one reads {SCHEMA_VERSION}). "
                f"It was kept, and copied to {aside}; upgrade sagewiz to use this project."
            )
        data.setdefault("ledger", [])
        data.setdefault("services", {})
        return data

    def save(self) -> None:
        if self.readonly:
            raise StateError("This view of the state is read-only; open the project to change it.")
        with self._lock:
            text = json.dumps(self._data, indent=2, sort_keys=True)
            atomic_write(self.path, text)

    # Steps ---------------------------------------------------------------
    def record(self, step: str) -> dict[str, Any]:
        """A copy of one step's record (pending if never run)."""
        with self._lock:
            return copy.deepcopy(self._data["steps"].get(step, empty_record()))

    def update_record(self, step: str, **fields: Any) -> None:
        with self._lock:
            record = self._data["steps"].setdefault(step, empty_record())
            record.update(fields)
            self.save()

    def status(self, step: str) -> StepStatus:
        status: StepStatus = self.record(step)["status"]
        return status

    def outputs(self, step: str) -> dict[str, Any]:
        outputs: dict[str, Any] = self.record(step)["outputs"]
        return outputs

    def mark_interrupted(self) -> None:
        """Steps left `running` by a wizard that died become failed, so resume starts there (kept in memory
        only on a read-only view)."""
        with self._lock:
            running = [r for r in self._data["steps"].values() if r.get("status") == "running"]
            for record in running:
                record.update(status="failed", finished_at=time.time(),
                              error="Interrupted: the wizard stopped while this step ran. Run it again to resume.")
            if running and not self.readonly:
                self.save()

    # Services (PIDs of things the wizard started) --------------------------
    def service(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            found: dict[str, Any] | None = copy.deepcopy(self._data["services"].get(name))
            return found

    def set_service(self, name: str, info: dict[str, Any] | None) -> None:
        with self._lock:
            if info is None:
                self._data["services"].pop(name, None)
            else:
                self._data["services"][name] = info
            self.save()

    # Ledger ---------------------------------------------------------------
    def ledger(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._data["ledger"])

    def upsert_resource(self, kind: str, rid: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            for entry in self._data["ledger"]:
                if entry["kind"] == kind and entry["id"] == rid:
                    entry.update(fields)
                    break
            else:
                entry = {"kind": kind, "id": rid, **fields}
                self._data["ledger"].append(entry)
            self.save()
            return copy.deepcopy(entry)
