"""Run a serving image the way SageMaker does (`serve`, port 8080) and wait until /ping answers 200.

Used by the smoke step (`serve`: the container is always removed on the way out, success, failure or
cancel) and by the sandbox's emulator for endpoints (`start`, `wait_until_ready`, `remove`). Log lines go
to `on_log` as they come.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.runtime.errors import Cancelled, StepError

CONTAINER_PORT = 8080  # SageMaker sends /ping and /invocations here
LOG_TAIL = 30


def host_port() -> int:
    """8080 as on SageMaker when it is free here; otherwise any free port (the server binds to it)."""
    from core.runtime import ports

    return CONTAINER_PORT if ports.is_free("0.0.0.0", CONTAINER_PORT) else ports.any_free("0.0.0.0")


class BaseUrl(str):
    """http://127.0.0.1:PORT of a serving container, with the seconds it took to answer /ping."""

    ping_seconds: float

    def __new__(cls, url: str, ping_seconds: float) -> BaseUrl:
        self = super().__new__(cls, url)
        self.ping_seconds = ping_seconds
        return self


class ServeFailed(StepError):
    """The container exited or never answered /ping; the message carries its last log lines."""


def _ping(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _network(api: Any, port: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Publish 8080 on 127.0.0.1:port where the engine has a bridge network; else host networking with
    SAGEMAKER_BIND_TO_PORT (the variable SageMaker itself sets when 8080 is not the port)."""
    if api.networks(names=["bridge"]):
        return {"port_bindings": {CONTAINER_PORT: ("127.0.0.1", port)}}, {}
    return {"network_mode": "host"}, {"SAGEMAKER_BIND_TO_PORT": str(port)}


@dataclass
class Running:
    """A started serving container: its id, base URL, and the last lines it wrote."""

    container: str
    base_url: str
    started: float
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL))
    pump: threading.Thread | None = None


def start(api: Any, image_ref: str, *, port: int, on_log: Callable[[str], None], role: str,
          environment: dict[str, str] | None = None, labels: dict[str, str] | None = None,
          binds: dict[str, dict[str, str]] | None = None) -> Running:
    """Create and start `image_ref serve` listening on `port`, its log lines pumped to `on_log`.

    `role` names who runs it in the `sagewiz` label (smoke, endpoint); every container also carries the
    owning process's labels, so one whose process was killed is removed by the next `remove_orphans`."""
    from core.container import docker_api

    remove_orphans(api)
    host_config, env = _network(api, port)
    if binds:
        host_config["binds"] = binds
    name = f"sagewiz-{role}-{uuid.uuid4().hex[:10]}"
    try:
        container = api.create_container(image_ref, command=["serve"], name=name,
                                         environment={**(environment or {}), **env},
                                         ports=[CONTAINER_PORT] if "port_bindings" in host_config else None,
                                         host_config=api.create_host_config(**host_config),
                                         labels={"sagewiz": role, **(labels or {}), **_owner()})
    except Exception as exc:
        raise docker_api.api_error(exc, f"creating a container from {image_ref}") from None
    running = Running(container["Id"], f"http://127.0.0.1:{port}", time.monotonic())
    try:
        api.start(running.container)
    except Exception as exc:
        remove(api, running)
        raise docker_api.api_error(exc, f"starting a container from {image_ref}") from None
    running.started = time.monotonic()
    running.pump = threading.Thread(target=_pump_logs, args=(api, running.container, on_log, running.tail),
                                    daemon=True, name="serve-logs")
    running.pump.start()
    return running


def wait_until_ready(api: Any, running: Running, *, timeout: float, cancel: threading.Event | None = None) -> float:
    """Seconds from start to the first GET /ping 200; ServeFailed (with the log tail) when the container
    exits first or `timeout` passes, Cancelled when `cancel` is set."""
    while not _ping(running.base_url + "/ping"):
        if cancel is not None and cancel.is_set():
            raise Cancelled("The step was cancelled while the container started.")
        state = api.inspect_container(running.container)["State"]
        if not state.get("Running"):
            if running.pump is not None:
                running.pump.join(timeout=3)
            raise ServeFailed(f"The container exited with code {state.get('ExitCode')} before answering "
                              f"/ping.{_logs(running.tail)}")
        if time.monotonic() - running.started > timeout:
            raise ServeFailed(f"The container did not answer GET /ping with 200 within {timeout:.0f} s "
                              "(SageMaker would report 'did not pass the ping health check')."
                              f"{_logs(running.tail)}")
        time.sleep(0.25)
    return time.monotonic() - running.started


def remove(api: Any, running: Running) -> None:
    """Remove the container (stopping it) and let its log pump finish."""
    try:
        api.remove_container(running.container, force=True)
        # again on the way out: a killed wizard's create request can finish only after the first pass
        # (the vfs driver copies the whole image for a new container)
        remove_orphans(api)
    except Exception:  # already gone (engine restarted): nothing left to remove
        pass
    if running.pump is not None:
        running.pump.join(timeout=5)


@contextlib.contextmanager
def serve(image_ref: str, *, port: int, on_log: Callable[[str], None], cancel: threading.Event | None = None,
          timeout: float = 120.0, api: Any = None) -> Iterator[BaseUrl]:
    """Start `image_ref serve`, wait for GET /ping 200 within `timeout` s, yield the base URL, then remove it.

    The yielded URL is a str carrying `.ping_seconds`, the time from container start to the first 200.
    """
    from core.container import docker_api

    api = api or docker_api.client()
    running = start(api, image_ref, port=port, on_log=on_log, role="smoke")
    try:
        seconds = wait_until_ready(api, running, timeout=timeout, cancel=cancel)
        yield BaseUrl(running.base_url, seconds)
    finally:
        remove(api, running)


def _owner() -> dict[str, str]:
    """Labels naming the wizard process that runs the container (and its machine)."""
    return {"sagewiz.host": socket.gethostname(), "sagewiz.pid": str(os.getpid())}


def remove_orphans(api: Any) -> None:
    """Serving containers of wizards on this machine that were killed before they could remove them."""
    from core.runtime.proc import pid_alive

    for container in api.containers(all=True, filters={"label": f"sagewiz.host={socket.gethostname()}"}):
        pid = int(container["Labels"].get("sagewiz.pid") or 0)
        if pid and not pid_alive(pid):
            try:
                api.remove_container(container["Id"], force=True)
            except Exception:  # removed meanwhile by another wizard
                pass


def _pump_logs(api: Any, container: Any, on_log: Callable[[str], None], tail: deque[str]) -> None:
    buffer = b""
    try:
        for chunk in api.logs(container, stream=True, follow=True, stdout=True, stderr=True):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").rstrip()
                tail.append(line)
                on_log(line)
    except Exception:  # the container was removed under the stream
        pass
    if buffer.strip():
        line = buffer.decode("utf-8", "replace").rstrip()
        tail.append(line)
        on_log(line)


def _logs(tail: deque[str]) -> str:
    if not tail:
        return " It wrote no log lines."
    return " Its last log lines:\n" + "\n".join(f"    {line}" for line in tail)
