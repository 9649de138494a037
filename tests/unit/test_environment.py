"""The environment step: interpreter, active env, package versions and the exact install command."""

from __future__ import annotations

import sys

import pytest

from core.steps import environment

pytestmark = pytest.mark.unit


def test_passes_here_and_reports_each_required_package(engine, project, recorder):
    assert engine.run_step("environment")
    out = project.state.outputs("environment")
    assert out["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert out["env"]["kind"] == "virtualenv" and out["env"]["path"] == sys.prefix
    names = {p["name"]: p for p in out["packages"]}
    assert set(names) == set(environment.REQUIRED)
    assert all(p["ok"] and p["installed"] for p in names.values())
    assert any("scikit-learn" in line and "ok" in line for line in recorder.lines("environment"))


def test_missing_and_too_old_packages_fail_with_the_install_command(engine, project, monkeypatch):
    monkeypatch.setattr(environment, "REQUIRED", {"pytest": "999", "no-such-package-sagewiz": "1.0"})
    assert not engine.run_step("environment")
    error = project.state.record("environment")["error"]
    assert "no-such-package-sagewiz (missing)" in error
    assert f"pytest ({pytest.__version__})" in error
    assert f"{sys.executable} -m pip install --upgrade 'pytest>=999' 'no-such-package-sagewiz>=1.0'" in error


def test_an_old_python_is_refused_with_what_to_do(engine, project, monkeypatch):
    monkeypatch.setattr(environment, "MIN_PYTHON", (99, 0))
    assert not engine.run_step("environment")
    assert "needs 99.0 or newer" in project.state.record("environment")["error"]


def test_system_python_is_reported_as_no_env(monkeypatch):
    monkeypatch.setattr(sys, "base_prefix", sys.prefix)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert environment.active_env()["kind"] == "system"


def test_conda_env_is_named(monkeypatch):
    monkeypatch.setenv("CONDA_PREFIX", sys.prefix)
    monkeypatch.setenv("CONDA_DEFAULT_ENV", "deploy_ml")
    assert environment.active_env() == {"kind": "conda", "name": "deploy_ml", "path": sys.prefix}
