"""The environment step: the Python running sagewiz, its virtualenv or conda env, the required packages."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.runtime.errors import StepError
from core.runtime.outputs import StepOutputs
from core.runtime.step import Shown, Step, StepContext

MIN_PYTHON = (3, 10)
# Distribution name -> minimum version (kept in line with pyproject.toml's dependencies).
REQUIRED = {"mlflow": "2.16", "pandas": "2", "scikit-learn": "1.3", "boto3": "1.34", "docker": "7", "keyring": "24"}


def active_env() -> dict[str, str]:
    """Which environment this interpreter runs in: conda, virtualenv, or the system Python."""
    if os.environ.get("CONDA_PREFIX") and Path(sys.prefix) == Path(os.environ["CONDA_PREFIX"]):
        return {"kind": "conda", "name": os.environ.get("CONDA_DEFAULT_ENV", Path(sys.prefix).name),
                "path": sys.prefix}
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix):
        return {"kind": "virtualenv", "name": Path(sys.prefix).name, "path": sys.prefix}
    return {"kind": "system", "name": "", "path": sys.prefix}


def package_status(name: str, minimum: str) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import InvalidVersion, Version

    try:
        installed = version(name)
    except PackageNotFoundError:
        return {"name": name, "installed": None, "required": f">={minimum}", "ok": False}
    try:
        ok = Version(installed) >= Version(minimum)
    except InvalidVersion:
        ok = False
    return {"name": name, "installed": installed, "required": f">={minimum}", "ok": ok}


def install_command(packages: list[dict[str, Any]]) -> str:
    """The pip command for this very interpreter, so it installs where sagewiz runs."""
    specs = " ".join(shlex.quote(f"{p['name']}{p['required']}") for p in packages)
    return f"{shlex.quote(sys.executable)} -m pip install --upgrade {specs}"


@dataclass(frozen=True)
class EnvironmentOutputs(StepOutputs):
    python_version: str
    python_executable: str
    env: dict[str, str]  # active_env()
    packages: list[dict[str, Any]]  # package_status() of each required package


class EnvironmentStep(Step):
    id = "environment"
    title = "Environment"
    group = "Local"
    Outputs = EnvironmentOutputs
    consumes = ()
    explanation = (
        'Checks the Python you run sagewiz with: its version (3.10 or newer), whether a virtualenv or conda '
        'env is active, and that mlflow, pandas, scikit-learn, boto3, docker and keyring are installed at '
        "usable versions. The tutorial's Steps 1-2 do this by hand with `conda create` and `pip install`; a "
        'wrong or missing package is the most common reason the later steps fail, so sagewiz checks first and '
        'prints the exact install command. '
    )
    manual = 'python -m venv .venv && . .venv/bin/activate\npip install mlflow pandas scikit-learn boto3 docker keyring'

    def run(self, ctx: StepContext) -> EnvironmentOutputs:
        python = ".".join(map(str, sys.version_info[:3]))
        if sys.version_info < MIN_PYTHON:
            raise StepError(f"sagewiz runs on Python {python}, but needs {'.'.join(map(str, MIN_PYTHON))} or newer "
                            "(the tutorial's 3.6 is long out of support). Create an env with a newer Python, "
                            "e.g. `conda create -n deploy_ml python=3.11`, and install sagewiz there.")
        env = active_env()
        ctx.log(f"Python {python} at {sys.executable}.")
        if env["kind"] == "system":
            ctx.log("No virtualenv or conda env is active: packages go into the system Python. The tutorial "
                    "creates a conda env first (`conda create --name deploy_ml`); a venv keeps projects apart.", "warn")
        else:
            ctx.log(f"Active {env['kind']} env {env['name']} at {env['path']} (the tutorial's Step 1).")
        packages = [package_status(name, minimum) for name, minimum in REQUIRED.items()]
        for p in packages:
            state = "ok" if p["ok"] else ("missing" if p["installed"] is None else "too old")
            ctx.log(f"  {p['name']:14} {p['installed'] or '-':12} needs {p['required']:8} {state}",
                    "info" if p["ok"] else "error")
        bad = [p for p in packages if not p["ok"]]
        if bad:
            names = ", ".join(f"{p['name']} ({'missing' if p['installed'] is None else p['installed']})" for p in bad)
            raise StepError(f"Some packages the wizard needs are missing or too old: {names}. Install them (the "
                            f"tutorial's Step 2) with: {install_command(bad)}")
        return EnvironmentOutputs(python_version=python, python_executable=sys.executable, env=env, packages=packages)

    def by_hand(self, v: Shown) -> str:
        """A venv with the chosen model's own pins of the packages that matter for loading it."""
        pins = " ".join(r for r in v.get("requirements") or [] if r.split("=")[0].strip() in
                        ("mlflow", "scikit-learn", "pandas", "cloudpickle", "skops")) or "mlflow scikit-learn pandas"
        python = v.get("python_minor") or "3.11"
        return (f"python{python} -m venv .venv          # the tutorial used conda with python 3.6\n"
                ". .venv/bin/activate\n"
                f"pip install {pins} boto3 docker\n"
                "python -c 'import mlflow, sklearn; print(mlflow.__version__, sklearn.__version__)'")
