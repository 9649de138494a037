"""The sandbox: a local AWS emulator (moto server) and a local registry standing in for AWS and ECR.

Settings `sandbox.aws_endpoint` / `sandbox.registry` point at services that already run; when empty the
wizard starts its own under `.sagewiz/sandbox`, records their PIDs in state (so a wizard that was killed
leaves them findable: the next one adopts them, with the resources still inside), and stops them on close.
"""

from __future__ import annotations

import os
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


@dataclass(frozen=True)
class Sandbox:
    aws_endpoint: str  # http://127.0.0.1:PORT
    registry: str  # host:port


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
    state = project.state
    state.set_service(name, info)

    def stop() -> None:
        stop_pid(info["pid"])
        state.set_service(name, None)

    project.on_close(stop)


def _emulator(project: Project) -> str:
    info = _adopt(project, "sandbox-aws")
    if info is None:
        moto = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
        if moto is None:
            raise StepError("The sandbox needs moto server, which is not installed: pip install 'sagewiz[sandbox]' "
                            "(or set sandbox.aws_endpoint to an emulator that already runs).")
        port = any_free()
        env = env_without_aws({"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
        info = _start(project, "sandbox-aws", [moto, "-H", "127.0.0.1", "-p", str(port)], env,
                      f"http://127.0.0.1:{port}/moto-api/")
        info["url"] = f"http://127.0.0.1:{port}"
    _own(project, "sandbox-aws", info)
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


def _registry(project: Project) -> str:
    info = _adopt(project, "sandbox-registry")
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
        info = _start(project, "sandbox-registry", [binary, "serve", str(config)], env_without_aws(),
                      f"http://127.0.0.1:{port}/v2/")
        info["address"] = f"127.0.0.1:{port}"
    _own(project, "sandbox-registry", info)
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
            raise StepError(f"The AWS emulator at {endpoint} (sandbox.aws_endpoint) does not answer; start it, "
                            "or empty the setting to let sagewiz start moto server.")
        registry = project.settings["sandbox.registry"]
        if registry and not _answers(f"http://{registry}/v2/"):
            raise StepError(f"The registry at {registry} (sandbox.registry) does not answer; start it, or empty "
                            "the setting to let sagewiz start one.")
        sandbox = Sandbox(endpoint or _emulator(project), registry or _registry(project))
        _running[project] = sandbox

        def forget() -> None:
            _running.pop(project, None)

        project.on_close(forget)
        return sandbox
