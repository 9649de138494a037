"""The preflight step: every prerequisite check at once, each bounded by its own timeout."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.aws.checks import aws_identity, region
from core.container.checks import disk, docker_engine
from core.runtime.checks import Check, run_checks
from core.runtime.errors import StepError
from core.runtime.outputs import StepOutputs
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import address, aws_options
from core.tracking.checks import mlflow_port

LEVEL = {"ok": "info", "warn": "warn", "fail": "error"}
# Every prerequisite, in the order they are reported (also what `sagewiz doctor` runs).
CHECKS: tuple[Check, ...] = (docker_engine, mlflow_port, aws_identity, region, disk)


@dataclass(frozen=True)
class PreflightOutputs(StepOutputs):
    checks: list[dict[str, Any]]  # a CheckResult each, as a dict


class PreflightStep(Step):
    id = "preflight"
    title = "Preflight checks"
    group = "Local"
    Outputs = PreflightOutputs
    consumes = ()
    explanation = (
        'Checks, all at once and each with its own timeout, what later steps need: the Docker engine (for the '
        'image), the MLflow port (5000 unless you change it), AWS credentials and their identity, the region, '
        'and free disk for an image build. Each result is ok, warn or fail with a one-line fix, so problems '
        'show up now, not half way through a deployment. '
    )
    manual = 'docker version\nlsof -i :5000\naws sts get-caller-identity\ndf -h .'

    def run(self, ctx: StepContext) -> PreflightOutputs:
        results = run_checks(ctx.project, CHECKS)
        for r in results:
            fix = f" Fix: {r.fix}" if r.fix and r.status != "ok" else ""
            ctx.log(f"{r.status.upper():4} {r.name}: {r.detail} ({r.seconds:.2f} s).{fix}", LEVEL[r.status])
        failed = [r for r in results if r.status == "fail"]
        if failed:
            raise StepError("Preflight found problems to fix first: " +
                            "; ".join(f"{r.name}: {r.detail}. Fix: {r.fix}" for r in failed))
        return PreflightOutputs(checks=[{**asdict(r), "seconds": round(r.seconds, 3)} for r in results])

    def by_hand(self, v: Shown) -> str:
        host, port = address(v["tracking_uri"])
        return ("docker info --format '{{.ServerVersion}} {{.Architecture}}'   # is the Docker daemon running?\n"
                f"python -c 'import socket; socket.create_connection((\"{host}\", {port}), 1)' "
                "&& echo 'the MLflow port is taken'\n"
                f"aws sts get-caller-identity {aws_options(v)}\n"
                "aws configure get region\n"
                "df -h .")
