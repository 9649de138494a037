"""The environment step: environment."""

from __future__ import annotations

from core.steps.base import Step


class EnvironmentStep(Step):
    id = "environment"
    title = "Environment"
    group = "Local"
    consumes = ()
    explanation = (
        'Checks the Python you run sagewiz with: its version (3.10 or newer), whether a virtualenv or conda '
        'env is active, and that mlflow, pandas, scikit-learn, boto3, docker and keyring are installed at '
        "usable versions. The tutorial's Steps 1-2 do this by hand with `conda create` and `pip install`; a "
        'wrong or missing package is the most common reason the later steps fail, so sagewiz checks first and '
        'prints the exact install command. '
    )
    manual = 'python -m venv .venv && . .venv/bin/activate\npip install mlflow pandas scikit-learn boto3 docker keyring'
