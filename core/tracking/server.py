"""The embedded `mlflow server` child: start it, wait for /health, follow its log, supervise and stop it.

The server writes to a log file (not a pipe), so it outlives the wizard when `tracking.keep_running` is set;
its PID goes into state, so the next wizard finds it and reuses it while it answers.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.runtime.errors import Cancelled, StepError
from core.runtime.proc import env_without_aws, pid_alive

if TYPE_CHECKING:
    from core.runtime.project import Project

SERVICE = "mlflow"
START_TIMEOUT = 90.0


def probe(url: str, timeout: float = 1.0) -> str | None:
    """The MLflow version when `url` is an MLflow server that answers /health, else None."""
    import urllib.request  # here, not at import: it pulls in http.client and ssl, which start-up does not need

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout) as response:
            if response.status != 200 or response.read(16).strip() != b"OK":
                return None
        with urllib.request.urlopen(url.rstrip("/") + "/version", timeout=timeout) as response:
            version = response.read(64).decode("ascii", "replace").strip()
    except (OSError, ValueError):  # urllib.error.URLError and HTTPError are OSErrors
        return None
    return version if version[:1].isdigit() else None


def ui_address(project: Project) -> tuple[str, bool]:
    """The MLflow UI's address, and whether the tracking step has connected to it (else the settings' guess)."""
    settings = project.settings
    known = project.state.outputs("tracking").get("ui_url") or ""
    guess = settings["tracking.uri"] or f"http://{settings['tracking.host']}:{settings['tracking.port']}"
    return known or guess, bool(known)


def alive(pid: int) -> bool:
    """True while `pid` runs and is an mlflow process (a recycled PID is not our server)."""
    return pid_alive(pid, b"mlflow")


def argv(project: Project, host: str, port: int) -> list[str]:
    """The server command: sqlite store and artifact directory under `.sagewiz/mlflow`, one worker."""
    store = project.mlflow_dir
    return [sys.executable, "-m", "mlflow", "server", "--host", host, "--port", str(port),
            "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
            "--artifacts-destination", str(store / "artifacts"), "--workers", "1"]


def running_for(project: Project) -> list[dict[str, Any]]:
    """Live servers on this project's store, whoever started them: a wizard killed just as it started one
    may not have recorded it. Each as {pid, host, port, url}, read from its command line."""
    store = f"sqlite:///{project.mlflow_dir / 'mlflow.db'}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not pid_alive(int(entry.name), store):
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if "server" in args and "--host" in args and "--port" in args:
            host, port = args[args.index("--host") + 1], int(args[args.index("--port") + 1])
            found.append({"pid": int(entry.name), "host": host, "port": port, "url": f"http://{host}:{port}"})
    return found


def start(project: Project, host: str, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the server in its own session, output appended to `.sagewiz/logs/mlflow-server.log`."""
    project.mlflow_dir.mkdir(parents=True, exist_ok=True)
    project.logs_dir.mkdir(parents=True, exist_ok=True)
    log_path = project.logs_dir / "mlflow-server.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv(project, host, port), cwd=project.mlflow_dir, env=env_without_aws(),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return proc, log_path


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path, cancel: threading.Event,
                 timeout: float = START_TIMEOUT) -> str:
    """Poll /health until it answers; the server exiting, the timeout or a cancel end the wait with a sentence."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StepError(f"The MLflow server exited while starting (code {proc.returncode}): "
                            f"{tail(log_path)}. The full output is in {log_path}.")
        version = probe(url)
        if version:
            return version
        if cancel.wait(0.25):
            raise Cancelled("The step was cancelled while the MLflow server started.")
    raise StepError(f"The MLflow server did not answer {url}/health within {timeout:.0f} s; "
                    f"see {log_path} for its output.")


def tail(log_path: Path, lines: int = 3) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no output"
    return " | ".join(line.strip() for line in text[-lines:]) or "no output"


class LogFollower:
    """Forwards lines appended to the server's log file to a sink until stopped (the step's log view)."""

    def __init__(self, path: Path, sink: Callable[[str], None]) -> None:
        self.path = path
        self.sink = sink
        self._stop = threading.Event()
        self._offset = path.stat().st_size if path.exists() else 0
        self._thread = threading.Thread(target=self._run, name="mlflow-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending = ""
        while True:
            stopping = self._stop.wait(0.1)
            try:
                with open(self.path, encoding="utf-8", errors="replace") as handle:
                    handle.seek(self._offset)
                    chunk = handle.read()
                    self._offset = handle.tell()
            except OSError:
                chunk = ""
            pending += chunk
            *lines, pending = pending.split("\n")
            for line in lines:
                if line.strip():
                    self.sink(line.rstrip())
            if stopping:
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


class Supervisor:
    """Watches one server PID and calls `on_death(code)` once if it exits before `release()`."""

    def __init__(self, pid: int, proc: subprocess.Popen[bytes] | None, on_death: Callable[[int | None], None]) -> None:
        self.pid = pid
        self._proc = proc
        self._on_death = on_death
        self._released = threading.Event()
        threading.Thread(target=self._watch, name=f"mlflow-supervise-{pid}", daemon=True).start()

    def _watch(self) -> None:
        while not self._released.wait(0.5):
            code = self._proc.poll() if self._proc is not None else None
            if code is not None or (self._proc is None and not alive(self.pid)):
                if not self._released.is_set():
                    self._on_death(code)
                return

    def release(self) -> None:
        """Stop watching: the wizard stops the server on purpose, or leaves it running."""
        self._released.set()
