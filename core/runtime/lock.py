"""One wizard per project: a lock file holding the owner's PID; a dead owner's lock is taken over."""

from __future__ import annotations

import errno
import os
from pathlib import Path


class LockedError(RuntimeError):
    """Another live sagewiz process holds the project."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


class ProjectLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._held = False

    def owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (FileNotFoundError, ValueError):
            return None

    def held_by_other(self) -> bool:
        """Another live process holds the lock."""
        pid = self.owner()
        return pid is not None and pid != os.getpid() and _alive(pid)

    def acquire(self) -> None:
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                if self.held_by_other():
                    pid = self.owner()
                    raise LockedError(
                        f"Another sagewiz (PID {pid}) is using this project. Close it first, "
                        f"or if it is stuck stop it with: kill {pid}"
                    ) from None
                # Stale: its owner is gone (or it is ours from a fork). Remove and retry.
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            self._held = True
            return
        raise LockedError(f"Could not take the lock {self.path}; remove it if no sagewiz is running.")

    def release(self) -> None:
        if self._held and self.owner() == os.getpid():
            self.path.unlink(missing_ok=True)
        self._held = False
