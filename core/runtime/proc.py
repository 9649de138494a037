"""Run child processes with their output streamed line by line, and kill the whole group on cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from core.runtime.errors import Cancelled


def env_without_aws(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without AWS settings or credentials (AWS_CA_BUNDLE kept), plus `extra`: for
    children that need no AWS (MLflow, pip, the emulator), so a key in our environment never reaches them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env.update(extra or {})
    return env

LineSink = Callable[[str, str], None]  # (stream name, line)


class Child(subprocess.Popen[str]):
    """A child process with the threads that forward its output lines."""

    pumps: list[threading.Thread]


def start(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
          on_line: LineSink, log_file: Path | None = None) -> Child:
    """Start argv in its own process group; a thread per pipe forwards lines as they come."""
    proc = Child(
        list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        bufsize=1, text=True, encoding="utf-8", errors="replace",
    )

    def pump(stream: IO[str], name: str) -> None:
        for line in stream:
            on_line(name, line.rstrip("\n"))
        stream.close()

    proc.pumps = [
        threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True),
    ]
    for thread in proc.pumps:
        thread.start()
    return proc


def kill_group(proc: subprocess.Popen[str], grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def pid_alive(pid: int, marker: bytes | None = None) -> bool:
    """True while `pid` runs (not a zombie) and, with `marker`, its command line contains it (a recycled
    PID is not our server)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return status != "Z" and (marker is None or marker in cmdline)


def stop_pid(pid: int, grace: float = 5.0) -> None:
    """SIGTERM the process group led by `pid`, SIGKILL after `grace` seconds; reaps it when it is our child
    (a service adopted from a wizard that was killed is not)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                if not pid_alive(pid):
                    return
            time.sleep(0.05)


def run(argv: Sequence[str], *, on_line: LineSink, cancel: threading.Event | None = None,
        env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float | None = None,
        on_start: Callable[[int], None] | None = None) -> int:
    """Run to completion, streaming output; cancel (or timeout) kills the group and raises."""
    proc = start(argv, env=env, cwd=cwd, on_line=on_line)
    if on_start is not None:
        on_start(proc.pid)
    waited = 0.0
    try:
        while True:
            try:
                proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                waited += 0.1
                if cancel is not None and cancel.is_set():
                    kill_group(proc)
                    raise Cancelled(f"{argv[0]} was stopped because the step was cancelled.") from None
                if timeout is not None and waited > timeout:
                    kill_group(proc)
                    raise TimeoutError(f"{argv[0]} did not finish within {timeout:.0f} s and was stopped.") from None
    except BaseException:
        if proc.poll() is None:
            kill_group(proc)
        raise
    finally:
        for thread in proc.pumps:
            thread.join(timeout=5)
    return proc.returncode
