"""Connecting to MLflow: the embedded `mlflow server` (started, reused, restarted) or a team's server."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.runtime import ports
from core.runtime.errors import Cancelled, StepError
from core.runtime.events import LogLine
from core.runtime.outputs import StepOutputs
from core.runtime.proc import stop_pid
from core.runtime.step import StepContext
from core.tracking import server

_owned: dict[int, server.Supervisor] = {}  # servers this process watches and will stop, by PID


@dataclass(frozen=True)
class TrackingOutputs(StepOutputs):
    """The tracking step's outputs (here, beside `connect` that makes them and `tracking_uri` that reads them)."""

    tracking_uri: str
    ui_url: str  # "" for a tracking URI that is not a server (a directory, a database)
    managed: bool  # sagewiz started the server, and starts it again when it died
    mlflow_version: str  # "" when tracking is not a server
    source: str  # embedded, port (a server found on the port), tracking.uri or MLFLOW_TRACKING_URI
    # Known only for the embedded server:
    backend_store_uri: str = ""
    artifacts: str = ""


def connect(ctx: StepContext) -> TrackingOutputs:
    """Tracking from the settings or MLFLOW_TRACKING_URI, else the embedded server (reused when it answers)."""
    uri = ctx.settings["tracking.uri"] or os.environ.get("MLFLOW_TRACKING_URI", "")
    if uri:
        return _external(ctx, uri, "tracking.uri" if ctx.settings["tracking.uri"] else "MLFLOW_TRACKING_URI")
    return _embedded(ctx)


def tracking_uri(ctx: StepContext) -> str:
    """The URI later steps log to; restarts the embedded server when it died since the tracking step."""
    outputs: TrackingOutputs = ctx.outputs("tracking")
    uri = outputs.tracking_uri
    if not uri.startswith("http") or server.probe(uri, timeout=2):
        return uri
    if not outputs.managed:
        raise StepError(f"The MLflow server at {uri} does not answer. Start it (or fix tracking.uri) and run "
                        "the tracking step again.")
    ctx.log(f"The MLflow server sagewiz started at {uri} is not running; starting it again.", "warn")
    again = connect(ctx).tracking_uri
    if again != uri:
        raise StepError(f"The MLflow server could not come back at {uri} (it started at {again} instead); run "
                        "the tracking step again so the following steps use the new address.")
    return uri


def _outputs(uri: str, managed: bool, version: str, source: str, **store: str) -> TrackingOutputs:
    return TrackingOutputs(tracking_uri=uri, ui_url=uri if uri.startswith("http") else "", managed=managed,
                           mlflow_version=version, source=source, **store)


def _external(ctx: StepContext, uri: str, source: str) -> TrackingOutputs:
    uri = uri.rstrip("/")
    if not uri.startswith("http"):
        ctx.log(f"Using the tracking URI {uri} from {source}.")
        return _outputs(uri, False, "", source=source)
    version = server.probe(uri, timeout=5)
    if not version:
        raise StepError(f"The MLflow server at {uri} (from {source}) does not answer /health. Check the address "
                        f"and that the server runs, or empty {source} to let sagewiz start its own server.")
    ctx.log(f"Using the MLflow server at {uri} (from {source}), MLflow {version}.")
    return _outputs(uri, False, version, source=source)


def _embedded(ctx: StepContext) -> TrackingOutputs:
    host, requested = ctx.settings["tracking.host"], ctx.settings["tracking.port"]
    store = {"backend_store_uri": f"sqlite:///{ctx.project.mlflow_dir / 'mlflow.db'}",
             "artifacts": str(ctx.project.mlflow_dir / "artifacts")}
    reused = _reuse_recorded(ctx, host, requested)
    if reused is not None:
        return _outputs(reused["url"], True, reused["version"], source="embedded", **store)
    port = requested
    url = f"http://{host}:{port}"
    if not ports.is_free(host, port):
        version = server.probe(url)
        if version:
            ctx.log(f"Port {port} already serves MLflow {version}; using that server. sagewiz did not start it, "
                    "so it leaves it running.")
            return _outputs(url, False, version, source="port")
        port = _other_port(ctx, host, port)
        url = f"http://{host}:{port}"
    follower = server.LogFollower(ctx.project.logs_dir / "mlflow-server.log",
                                  lambda line: ctx.log(line, source="mlflow"))
    proc, log_path = server.start(ctx.project, host, port)
    info = {"pid": proc.pid, "host": host, "port": port, "requested_port": requested, "url": url,
            "log": str(log_path), "started_at": time.time()}
    ctx.state.set_service(server.SERVICE, info)
    ctx.log(f"Started the MLflow server (pid {proc.pid}): mlflow {' '.join(server.argv(ctx.project, host, port)[4:])}")
    try:
        version = server.wait_healthy(url, proc, log_path, ctx.cancel)
    except BaseException:
        stop_pid(proc.pid)
        ctx.state.set_service(server.SERVICE, None)
        raise
    finally:
        follower.stop()
    ctx.log(f"MLflow {version} answers at {url}; open it in a browser to see experiments and runs.")
    _own(ctx, info, proc)
    return _outputs(url, True, version, source="embedded", **store)


def _reuse_recorded(ctx: StepContext, host: str, requested: int) -> dict[str, Any] | None:
    """The server an earlier wizard (or step run) started for this project, when it still answers."""
    info = ctx.state.service(server.SERVICE)
    strays = [found for found in server.running_for(ctx.project) if info is None or found["pid"] != info["pid"]]
    for stray in strays:  # started by a wizard killed before it recorded the server: one store, one server
        ctx.log(f"Stopping the MLflow server (pid {stray['pid']}) that a wizard which stopped unexpectedly "
                f"started on this project's store.")
        stop_pid(stray["pid"])
    if info is None:
        return None
    running = server.alive(info["pid"])
    version = server.probe(info["url"]) if running else None
    if running and not version:  # a wizard killed while its server started: the server may still come up
        ctx.log(f"Waiting for the MLflow server started earlier (pid {info['pid']}) to answer.")
        version = _answer_while_alive(info, ctx.cancel)
    if version and (info["host"], info["requested_port"]) == (host, requested):
        ctx.log(f"Reusing the MLflow server started earlier (pid {info['pid']}) at {info['url']}.")
        _own(ctx, info, None)
        return {**info, "version": version}
    if server.alive(info["pid"]):
        why = (f"the settings now ask for {host}:{requested}" if version
               else f"it did not answer within {server.START_TIMEOUT:.0f} s")
        ctx.log(f"Stopping the MLflow server started earlier on {info['url']}: {why}.")
        supervisor = _owned.pop(info["pid"], None)
        if supervisor is not None:
            supervisor.release()
        stop_pid(info["pid"])
    else:
        ctx.log(f"The MLflow server started earlier (pid {info['pid']}) is no longer running; starting a new one.",
                "warn")
    ctx.state.set_service(server.SERVICE, None)
    return None


def _answer_while_alive(info: dict[str, Any], cancel: threading.Event) -> str | None:
    """The server's version once it answers; None if it exits or stays silent for START_TIMEOUT."""
    deadline = time.monotonic() + server.START_TIMEOUT
    while server.alive(info["pid"]) and time.monotonic() < deadline:
        version = server.probe(info["url"])
        if version:
            return version
        if cancel.wait(0.25):
            raise Cancelled("The step was cancelled while waiting for the MLflow server.")
    return None


def _other_port(ctx: StepContext, host: str, port: int) -> int:
    """Port taken by something that is not MLflow: say what holds it, offer the next free port."""
    who = ports.owner(port) or "another program"
    alternative = ports.next_free(host, port + 1)
    taken = f"Port {port} is taken by {who}, which is not an MLflow server."
    if alternative is not None and ctx.confirm(f"{taken} Start the MLflow server on port {alternative} instead?",
                                               f"To keep {port}, stop {who} and run this step again."):
        ctx.log(f"{taken} Using port {alternative} instead.", "warn")
        return alternative
    hint = f" such as {alternative} (--set tracking.port={alternative})" if alternative else ""
    raise StepError(f"{taken} Stop that program, or set tracking.port to a free port{hint}, and run this step again.")


def _own(ctx: StepContext, info: dict[str, Any], proc: subprocess.Popen[Any] | None) -> None:
    """Supervise the server (report its death) and stop it when the wizard exits, unless kept running."""
    pid = info["pid"]
    if pid in _owned:
        return
    project, state, bus = ctx.project, ctx.state, ctx.bus

    def died(code: int | None) -> None:
        _owned.pop(pid, None)
        if state.service(server.SERVICE) == info:
            state.set_service(server.SERVICE, None)
        how = f" with code {code}" if code is not None else ""
        bus.emit(LogLine("tracking", f"The MLflow server (pid {pid}) at {info['url']} stopped{how}: "
                         f"{server.tail(Path(info['log']))}. The next step that needs it starts it again.",
                         "mlflow", "error"))

    _owned[pid] = server.Supervisor(pid, proc, died)

    def close() -> None:
        supervisor = _owned.pop(pid, None)
        if supervisor is None:  # it died already
            return
        supervisor.release()
        if project.settings["tracking.keep_running"]:
            return
        stop_pid(pid)
        if state.service(server.SERVICE) == info:
            state.set_service(server.SERVICE, None)

    project.on_close(close)
