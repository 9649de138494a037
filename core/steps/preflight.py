"""The preflight step: every prerequisite check at once, each bounded by its own timeout."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from core.checks import run_checks
from core.errors import StepError
from core.steps.base import Step, StepContext

LEVEL = {"ok": "info", "warn": "warn", "fail": "error"}


class PreflightStep(Step):
    id = "preflight"
    title = "Preflight checks"
    group = "Local"
    consumes = ()
    explanation = (
        'Checks, all at once and each with its own timeout, what later steps need: the Docker engine (for the '
        'image), the MLflow port (5000 unless you change it), AWS credentials and their identity, the region, '
        'and free disk for an image build. Each result is ok, warn or fail with a one-line fix, so problems '
        'show up now, not half way through a deployment. '
    )
    manual = 'docker version\nlsof -i :5000\naws sts get-caller-identity\ndf -h .'

    def run(self, ctx: StepContext) -> dict[str, Any]:
        results = run_checks(ctx.project)
        for r in results:
            fix = f" Fix: {r.fix}" if r.fix and r.status != "ok" else ""
            ctx.log(f"{r.status.upper():4} {r.name}: {r.detail} ({r.seconds:.2f} s).{fix}", LEVEL[r.status])
        failed = [r for r in results if r.status == "fail"]
        if failed:
            raise StepError("Preflight found problems to fix first: " +
                            "; ".join(f"{r.name}: {r.detail}. Fix: {r.fix}" for r in failed))
        return {"checks": [{**asdict(r), "seconds": round(r.seconds, 3)} for r in results]}
