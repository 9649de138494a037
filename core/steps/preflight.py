"""The preflight step: preflight checks."""

from __future__ import annotations

from core.steps.base import Step


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
