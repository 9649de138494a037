"""The concrete prerequisite checks (Docker, MLflow port, AWS, region, disk).

Each check bounds its own network calls below its registered timeout, so a dead Docker daemon or an
unreachable AWS endpoint turns into a fail line, not a hang.
"""

from __future__ import annotations

import os
import platform
import shutil
from typing import TYPE_CHECKING

from core.checks import CheckResult, check

if TYPE_CHECKING:
    from core.project import Project

DISK_WARN_GB = 10
ARM = ("arm64", "aarch64")


@check("docker", "Docker engine", timeout=3.0)
def docker_engine(project: "Project") -> CheckResult:
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


@check("port", "MLflow port", timeout=2.0)
def mlflow_port(project: "Project") -> CheckResult:
    from core import mlflow_server, ports

    title = "MLflow port"
    uri = project.settings["tracking.uri"] or os.environ.get("MLFLOW_TRACKING_URI", "")
    if uri:
        return CheckResult(title, "ok", f"not needed: tracking goes to {uri}")
    host, port = project.settings["tracking.host"], project.settings["tracking.port"]
    if ports.is_free(host, port):
        return CheckResult(title, "ok", f"{host}:{port} is free for the MLflow server")
    version = mlflow_server.probe(f"http://{host}:{port}", timeout=0.8)
    if version:
        ours = (project.state.service(mlflow_server.SERVICE) or {}).get("port") == port if project.state else False
        who = "the server sagewiz started" if ours else "an MLflow server"
        return CheckResult(title, "ok", f"{host}:{port} already serves MLflow {version} ({who}); it will be reused")
    who = ports.owner(port) or "another program"
    alternative = ports.next_free(host, port + 1)
    fix = f"Stop {who}, or set tracking.port = {alternative} (a free port)." if alternative else f"Stop {who}."
    return CheckResult(title, "warn", f"{host}:{port} is taken by {who}, which is not MLflow", fix)


@check("aws", "AWS credentials", timeout=3.5)
def aws_identity(project: "Project") -> CheckResult:
    from core import aws
    from core.errors import StepError

    title = "AWS credentials"
    if not project.sandbox and not aws.credentials_configured(project):
        return CheckResult(title, "warn", "no AWS credentials yet",
                           "The credentials step asks for a key pair, or set aws.profile; --sandbox needs none.")
    if project.sandbox and not project.settings["sandbox.aws_endpoint"]:
        return CheckResult(title, "ok", "SANDBOX: the local emulator starts when an AWS step needs it")
    try:
        who = aws.caller_identity(project, timeout=2.5)
    except StepError as exc:
        return CheckResult(title, "fail", str(exc).split(". ", 1)[0],
                           "Check the key or profile (sagewiz credentials show) and the network, then retry.")
    return CheckResult(title, "ok", f"{who['arn']} (account {who['account']}, {who['principal_type']}, "
                                    f"from {who['source']})")


@check("region", "AWS region", timeout=3.0)
def region(project: "Project") -> CheckResult:
    from core.aws import in_use
    from core.regions import SAGEMAKER_REGIONS as known

    name = in_use(project).region  # the setting's, else the profile's: the one the AWS steps will use
    if name in known:
        return CheckResult("AWS region", "ok", f"{name} offers SageMaker")
    return CheckResult("AWS region", "fail", f"{name} does not offer SageMaker",
                       f"Set aws.region (or --region) to a SageMaker region{_closest(name, known)}.")


def _closest(name: str, known) -> str:
    import difflib

    near = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    return f" such as {', '.join(near)}" if near else f" ({len(known)} exist, e.g. us-east-1, eu-west-1)"


@check("disk", "Disk space", timeout=2.0)
def disk(project: "Project") -> CheckResult:
    free_gb = shutil.disk_usage(project.root).free / 1e9
    if free_gb < DISK_WARN_GB:
        return CheckResult("Disk space", "warn", f"{free_gb:.1f} GB free under {project.root}",
                           f"Free at least {DISK_WARN_GB} GB for an image build (docker system prune).")
    return CheckResult("Disk space", "ok", f"{free_gb:.0f} GB free")
