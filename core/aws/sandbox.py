"""The sandbox: sagewiz's strict AWS emulator (core/emulator: moto plus SageMaker's checks and real endpoint
containers) and a local registry standing in for AWS and ECR.

Settings `sandbox.aws_endpoint` / `sandbox.registry` point at services that already run; when empty the
wizard starts its own under `.sagewiz/sandbox`, records their PIDs in state (so a wizard that was killed
leaves them findable: the next one adopts them, with the resources still inside), and stops them on close.
`sagewiz sandbox start` starts them to keep (no wizard stops them; `sagewiz sandbox stop` does).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.runtime.errors import StepError
from core.runtime.ports import any_free
from core.runtime.proc import env_without_aws, pid_alive, stop_pid

if TYPE_CHECKING:
    from core.runtime.project import Project

START_TIMEOUT = 60.0
_lock = threading.Lock()
_running: weakref.WeakKeyDictionary[Project, Sandbox] = weakref.WeakKeyDictionary()


EMULATOR = "sandbox-aws"
REGISTRY = "sandbox-registry"
MARKER = "/sagewiz-emulator/"  # answered by core/emulator only


@dataclass(frozen=True)
class Sandbox:
    aws_endpoint: str  # http://127.0.0.1:PORT
    registry: str  # host:port
    strict: bool  # sagewiz's emulator: SageMaker's checks, lifecycle and runtime; False for plain moto & co


def strict_emulator(endpoint: str) -> dict[str, Any] | None:
    """What sagewiz's emulator at `endpoint` says about itself; None when it is another emulator."""
    import json

    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + MARKER, timeout=2) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError):
        return None
    return answer if isinstance(answer, dict) and answer.get("strict") is True else None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


def _start(project: Project, name: str, argv: list[str], env: dict[str, str], probe: str) -> dict[str, Any]:
    """Start one service in its own session, wait until `probe` answers, record it in state."""
    directory = project.dir / "sandbox"
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / f"{name}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").splitlines()[-5:]
            raise StepError(f"The sandbox {name} exited at start (code {proc.returncode}): {' | '.join(tail)}. "
                            f"See {log_path}.")
        if _answers(probe):
            info = {"pid": proc.pid, "probe": probe, "log": str(log_path)}
            return info
        time.sleep(0.2)
    stop_pid(proc.pid)
    raise StepError(f"The sandbox {name} did not answer within {START_TIMEOUT:.0f} s; see {log_path}.")


def _adopt(project: Project, name: str) -> dict[str, Any] | None:
    """A service a previous wizard in this project started and left running (it was killed)."""
    info = project.state.service(name)
    if info and pid_alive(info["pid"]) and _answers(info["probe"]):
        return info
    if info:
        project.state.set_service(name, None)
    return None


def _own(project: Project, name: str, info: dict[str, Any]) -> None:
    """Record the service; this wizard stops it on close unless `sagewiz sandbox start` keeps it."""
    state = project.state
    state.set_service(name, info)
    if info.get("kept"):
        return

    def stop() -> None:
        stop_pid(info["pid"])
        state.set_service(name, None)

    project.on_close(stop)


def _emulator(project: Project, registry: str, port: int | None = None, kept: bool = False) -> str:
    info = _adopt(project, EMULATOR)
    if info is None:
        try:
            import moto  # noqa: F401  (only to say what is missing before starting it)
        except ImportError:
            raise StepError("The sandbox needs moto, which is not installed: pip install 'sagewiz[sandbox]' "
                            "(or set sandbox.aws_endpoint to an emulator that already runs).") from None
        port = port or any_free()
        argv = [sys.executable, "-m", "core.emulator", "--port", str(port), "--registry", registry,
                "--workdir", str(project.dir / "sandbox" / "endpoints")]
        info = _start(project, EMULATOR, argv, env_without_aws({"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}),
                      f"http://127.0.0.1:{port}{MARKER}")
        info.update(url=f"http://127.0.0.1:{port}", kept=kept)
    _own(project, EMULATOR, info)
    url: str = info["url"]
    return url


REGISTRY_CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: sagewiz-sandbox-{port}
"""


def _registry(project: Project, kept: bool = False) -> str:
    info = _adopt(project, REGISTRY)
    if info is None:
        binary = shutil.which("docker-registry") or shutil.which("registry")
        if binary is None:
            raise StepError("The sandbox needs a local registry: apt-get install docker-registry (or set "
                            "sandbox.registry to a registry that already runs, host:port).")
        port = any_free()
        directory = project.dir / "sandbox"
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "registry.yml"
        config.write_text(REGISTRY_CONFIG.format(root=directory / "registry", port=port), encoding="utf-8")
        info = _start(project, REGISTRY, [binary, "serve", str(config)], env_without_aws(),
                      f"http://127.0.0.1:{port}/v2/")
        info.update(address=f"127.0.0.1:{port}", kept=kept)
    _own(project, REGISTRY, info)
    address: str = info["address"]
    return address


def ensure(project: Project) -> Sandbox:
    """The sandbox's emulator and registry, started (once per process) unless the settings name running ones."""
    with _lock:
        found = _running.get(project)
        if found is not None:
            return found
        endpoint = project.settings["sandbox.aws_endpoint"].rstrip("/")
        if endpoint and not _answers(endpoint + "/"):
            raise StepError(f"The AWS emulator at {endpoint} (sandbox.aws_endpoint) does not answer; start it "
                            "(sagewiz sandbox start), or empty the setting to let sagewiz start its own.")
        registry = project.settings["sandbox.registry"]
        if registry and not _answers(f"http://{registry}/v2/"):
            raise StepError(f"The registry at {registry} (sandbox.registry) does not answer; start it, or empty "
                            "the setting to let sagewiz start one.")
        # sagewiz's emulator pulls endpoint images from its own registry: push there too
        named = strict_emulator(endpoint) if endpoint else None
        registry = registry or (named or {}).get("registry") or _registry(project)
        configured = bool(endpoint)  # else sagewiz's own, strict by construction
        endpoint = endpoint or _emulator(project, registry)
        sandbox = Sandbox(endpoint, registry, named is not None or not configured)
        _running[project] = sandbox

        def forget() -> None:
            _running.pop(project, None)

        project.on_close(forget)
        return sandbox


def start_kept(project: Project, port: int | None = None) -> Sandbox:
    """`sagewiz sandbox start`: the emulator and the registry, left running until `sagewiz sandbox stop`."""
    with _lock:
        registry = _registry(project, kept=True)
        endpoint = _emulator(project, registry, port, kept=True)  # sagewiz's own: strict
        for name in (REGISTRY, EMULATOR):
            info = project.state.service(name)
            if info and not info.get("kept"):  # adopted from a wizard that was killed: keep it from now on
                project.state.set_service(name, {**info, "kept": True})
        return Sandbox(endpoint, registry, True)


def stop_kept(project: Project) -> list[str]:
    """`sagewiz sandbox stop`: stop the project's sandbox services (the emulator removes its containers)."""
    stopped = []
    for name in (EMULATOR, REGISTRY):
        info = project.state.service(name)
        if info is None:
            continue
        if pid_alive(info["pid"]):
            stop_pid(info["pid"])
            stopped.append(f"{name} (pid {info['pid']})")
        project.state.set_service(name, None)
    return stopped


def status(project: Project) -> list[str]:
    """`sagewiz sandbox status`: one sentence per service, and the endpoint containers the emulator runs."""
    lines = []
    for name, where in ((EMULATOR, "url"), (REGISTRY, "address")):
        info = project.state.service(name)
        if info and pid_alive(info["pid"]) and _answers(info["probe"]):
            kept = "kept until `sagewiz sandbox stop`" if info.get("kept") else "stopped when its wizard closes"
            lines.append(f"{name}: {info[where]} (pid {info['pid']}, {kept})")
        else:
            lines.append(f"{name}: not running")
    emulator = project.state.service(EMULATOR)
    described = strict_emulator(emulator["url"]) if emulator else None
    for endpoint in (described or {}).get("endpoints", []):
        lines.append(f"  endpoint {endpoint['endpoint']} ({endpoint['region']}): container {endpoint['container']} "
                     f"on {endpoint['url']}, configuration {endpoint['config']}")
    return lines
