"""What the container steps need: a Docker engine (and whether it builds amd64 natively), disk for a build."""

from __future__ import annotations

import os
import platform
import shutil
from typing import TYPE_CHECKING

from core.runtime.checks import CheckResult, check

if TYPE_CHECKING:
    from core.runtime.project import Project

DISK_WARN_GB = 10
ARM = ("arm64", "aarch64")


@check("docker", "Docker engine", timeout=3.0)
def docker_engine(project: Project) -> CheckResult:
    import docker
    from docker.errors import DockerException

    title = "Docker engine"
    where = os.environ.get("DOCKER_HOST") or "the default socket"
    try:
        client = docker.from_env(timeout=2)
        try:
            version = client.version()
        finally:
            client.close()
    except (DockerException, OSError) as exc:
        return CheckResult(title, "fail", f"not reachable at {where}: {_why(exc)}",
                           "Start Docker (Docker Desktop, or `sudo systemctl start docker`) and check DOCKER_HOST.")
    arch = version.get("Arch", "?")
    detail = f"Docker {version.get('Version', '?')} ({version.get('Os', '?')}/{arch})"
    if arch in ARM or platform.machine().lower() in ARM:
        return CheckResult(title, "warn", detail + "; this is an arm64 host",
                           "Images will be built for linux/amd64 (what SageMaker runs), which is slower here.")
    return CheckResult(title, "ok", detail)


def _why(exc: Exception) -> str:
    text = str(exc)
    for marker, reason in (("No such file", "no socket there"), ("Connection refused", "connection refused"),
                           ("Read timed out", "no answer within 2 s"), ("Permission denied", "permission denied")):
        if marker in text:
            return reason
    return text[:120]


@check("disk", "Disk space", timeout=2.0)
def disk(project: Project) -> CheckResult:
    free_gb = shutil.disk_usage(project.root).free / 1e9
    if free_gb < DISK_WARN_GB:
        return CheckResult("Disk space", "warn", f"{free_gb:.1f} GB free under {project.root}",
                           f"Free at least {DISK_WARN_GB} GB for an image build (docker system prune).")
    return CheckResult("Disk space", "ok", f"{free_gb:.0f} GB free")
