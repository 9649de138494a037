"""Fixtures for whole-pipeline runs of the real `sagewiz run` CLI: project setup, the emulator's inventory,
a /proc watcher that sees every process's argv and environment, and ONE reference run per session (its step
durations time the crash matrix; its captures feed the secret-leak scan)."""

from __future__ import annotations

import json
import os
import secrets as random
import signal
import string
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.plugins.aws_fixtures import is_test_keyring_usable, moto_reset, sandbox_client
from tests.plugins.docker_fixtures import remove_images, stack_value

PIPELINE_TIMEOUT = 900


def sagewiz_argv(project_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tui.cli", *args, "--project-dir", str(project_dir)]


def wizard_env(**extra: str) -> dict[str, str]:
    """The environment of a wizard under test: no AWS credentials from the developer's shell, the stack's
    Docker engine, unbuffered output (a SIGKILLed wizard loses nothing it printed); `extra` overrides any."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(DOCKER_HOST=stack_value("DOCKER_HOST") or env.get("DOCKER_HOST", ""), PYTHONUNBUFFERED="1")
    env.update(extra)
    return {k: v for k, v in env.items() if v}


def read_state(project_dir: Path) -> dict:
    return json.loads((project_dir / ".sagewiz" / "state.json").read_text(encoding="utf-8"))


def pipeline_project(root: Path, moto_url: str, repository: str, **extra: object) -> Path:
    """A project dir whose sagewiz.toml runs the whole sandbox pipeline offline: the stack's base image and
    wheelhouse, the emulator at `moto_url` (so it outlives killed wizards), the stack's registry, a free
    tracking port and an image repository of its own (removed by `remove_pipeline_images`)."""
    from core.runtime.ports import any_free

    root.mkdir(parents=True, exist_ok=True)
    settings = {"image.base": stack_value("SAGEWIZ_BASE_IMAGE"), "image.deps": "wheelhouse",
                "image.repository": repository, "sandbox.aws_endpoint": moto_url,
                "sandbox.registry": stack_value("SAGEWIZ_REGISTRY"), "tracking.port": any_free(), **extra}
    sections: dict[str, list[str]] = {}
    for key, value in settings.items():
        section, name = key.split(".", 1)
        sections.setdefault(section, []).append(f"{name} = {json.dumps(value)}")
    (root / "sagewiz.toml").write_text("".join(f"[{s}]\n" + "\n".join(lines) + "\n\n"
                                               for s, lines in sections.items()), encoding="utf-8")
    return root


def _docker():
    import docker

    return docker.APIClient(base_url=stack_value("DOCKER_HOST") or None, timeout=120)


def pipeline_containers(repository: str, api=None) -> list[dict]:
    """The containers (smoke, sandbox predict) of the images a pipeline run tagged `[registry/]repository:*`."""
    api = api or _docker()
    ids = {image["Id"] for image in api.images() if any(
        tag.split(":")[0].rsplit("/", 1)[-1] == repository for tag in image.get("RepoTags") or [])}
    return [c for c in api.containers(all=True, filters={"label": "sagewiz"}) if c["ImageID"] in ids]


def remove_pipeline_images(repository: str) -> None:
    """The images a pipeline run tagged (`repository:*`, `registry/repository:*`) and their containers."""
    api = _docker()
    for container in pipeline_containers(repository, api):
        api.remove_container(container["Id"], force=True)
    remove_images(api, repository)
    registry = stack_value("SAGEWIZ_REGISTRY")
    if registry:
        remove_images(api, f"{registry}/{repository}")


def live_resources(url: str) -> dict[str, list[str]]:
    """What the emulator at `url` holds, by kind (roles: sagewiz's only; managed policies load at start)."""
    sm, s3, ecr, iam = (sandbox_client(url, s) for s in ("sagemaker", "s3", "ecr", "iam"))
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    return {
        "endpoints": [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]],
        "endpoint_configs": [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]],
        "models": [m["ModelName"] for m in sm.list_models()["Models"]],
        "buckets": buckets,
        "objects": [o["Key"] for b in buckets for o in s3.list_objects_v2(Bucket=b).get("Contents", [])],
        "uploads": [u["Key"] for b in buckets for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])],
        "repositories": [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("sagewiz")],
    }


# --- every process's argv and environment ------------------------------------------------------------------
def _stat(pid: str) -> tuple[int, str] | None:
    """(parent pid, start time in clock ticks) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[19]


@dataclass
class ProcessWatcher:
    """Polls /proc every `interval` s while running: each process seen (once per pid and start time) has its
    argv and environment searched for `needles`. Counts the wizard's descendants and the processes of
    containers (children of containerd-shim) among them."""

    root_pid: int
    needles: tuple[bytes, ...]
    interval: float = 0.05
    seen: set = field(default_factory=set)
    descendants: set = field(default_factory=set)
    containers: set = field(default_factory=set)
    hits: list = field(default_factory=list)
    polls: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proc-watch", daemon=True)

    def start(self) -> ProcessWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            self.poll()
            if self._stop.wait(self.interval):
                self.poll()
                return

    def poll(self) -> None:
        self.polls += 1
        parents: dict[int, int] = {}
        new: list[tuple[int, tuple[int, str]]] = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            stat = _stat(name)
            if stat is None:
                continue
            pid = int(name)
            parents[pid] = stat[0]
            if (pid, stat[1]) not in self.seen:
                new.append((pid, stat))
        for pid, (_, started) in new:
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes()
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if not argv:  # a kernel thread
                continue
            self.seen.add((pid, started))
            lineage, cursor = [], pid
            while cursor > 1 and len(lineage) < 64:
                lineage.append(cursor)
                cursor = parents.get(cursor, 0)
            if self.root_pid in lineage:
                self.descendants.add((pid, started))
            if any(b"containerd-shim" in _cmdline(p) for p in lineage[1:]):
                self.containers.add((pid, started))
            command = argv.replace(b"\0", b" ")[:200]
            for needle in self.needles:
                for where, data in (("argv", argv), ("environ", environ)):
                    if needle in data:
                        self.hits.append(f"pid {pid} {where}: {command!r}")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def scan_files(roots: list[Path], needles: tuple[bytes, ...]) -> tuple[int, int, list[str]]:
    """(files read, bytes read, 'path: needle' for every file holding a needle) under `roots`."""
    files = size = 0
    found = []
    for root in roots:
        if not root.exists():
            continue
        for dirpath, _, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                if path.is_symlink() or not path.is_file():
                    continue
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                files += 1
                size += len(data)
                found += [f"{path}: {needle[:12]!r}..." for needle in needles if needle in data]
    return files, size, found


# --- the reference run -------------------------------------------------------------------------------------
@dataclass
class ReferenceRun:
    """One whole `sagewiz run --sandbox --yes`: what it printed, its state, where it wrote, what ran."""

    project_dir: Path
    tmpdir: Path
    output: str
    returncode: int
    state: dict
    seconds: float
    watcher: ProcessWatcher
    secret: str | None  # the keyring pair's secret when the run signed with it (sandbox.own_credentials)
    session_secrets: tuple[str, ...]  # the session credentials the emulator's STS hands out

    def durations(self) -> dict[str, float]:
        return {step: record["duration"] for step, record in self.state["steps"].items()}


def _session_secrets(moto_url: str) -> tuple[str, ...]:
    """The secret and token the emulator gives any GetSessionToken (none may show in a process or a file)."""
    creds = sandbox_client(moto_url, "sts").get_session_token()["Credentials"]
    return creds["SecretAccessKey"], creds["SessionToken"]


@pytest.fixture(scope="session")
def reference_run(moto_url, tmp_path_factory, docker_stack) -> ReferenceRun:
    """The whole sandbox pipeline once, cleanup included. With a Secret Service keyring it signs with a
    distinctive key pair stored there (sandbox.own_credentials), stored only for the run; the process watcher
    searches every process for that secret and the emulator's session credentials."""
    from core.aws import keys as aws_keys

    moto_reset(moto_url)
    base = tmp_path_factory.mktemp("reference")
    repository = f"sagewiz-ref-{uuid.uuid4().hex[:8]}"
    use_keyring = is_test_keyring_usable()
    project_dir = pipeline_project(base / "proj", moto_url, repository,
                                   **{"sandbox.own_credentials": use_keyring, "cleanup.everything": True})
    tmpdir = base / "tmp"
    tmpdir.mkdir()
    secret = None
    if use_keyring:
        alphabet = string.ascii_letters + string.digits
        key_id = "AKIA" + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        secret = "SgwzLeakScan" + "".join(random.choice(alphabet) for _ in range(28))
        aws_keys.store(key_id, secret)
    session_secrets = _session_secrets(moto_url)
    needles = tuple(s.encode() for s in (secret, *session_secrets) if s)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(sagewiz_argv(project_dir, "run", "--sandbox", "--yes", "--to", "cleanup"),
                                env=wizard_env(TMPDIR=str(tmpdir)), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        watcher = ProcessWatcher(proc.pid, needles).start()
        try:
            output, _ = proc.communicate(timeout=PIPELINE_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        finally:
            watcher.stop()
    finally:
        if use_keyring:
            aws_keys.forget()
    run = ReferenceRun(project_dir, tmpdir, output, proc.returncode, read_state(project_dir),
                       time.monotonic() - started, watcher, secret, session_secrets)
    try:
        yield run
    finally:
        remove_pipeline_images(repository)
