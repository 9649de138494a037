"""core never imports the UI (textual, rich, tui) and stays light to import."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import core

pytestmark = pytest.mark.unit

# The sandbox's emulator runs in a process of its own (python -m core.emulator) and is made of moto, which
# imports boto3: the wizard never imports it (the layers contract keeps it above the concern packages).
CORE_MODULES = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core.")
                      if not m.name.startswith("core.emulator"))
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tui', 'mlflow',
      'sklearn', 'boto3', 'botocore', 'docker', 'pandas', 'keyring'))))
"""


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_ui_and_no_heavy_library(module):
    out = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert not [m for m in loaded if m.split(".")[0] in ("textual", "rich", "tui")], loaded
    assert not loaded, f"{module} imports heavy libraries at import time: {loaded[:5]}"


def test_there_are_core_modules_to_check():
    assert "core.runtime.engine" in CORE_MODULES and "core.steps.deploy" in CORE_MODULES


def test_import_linter_contracts_are_kept():
    """The layers (tui -> core.steps -> concern packages -> core.runtime), step modules independent of each
    other, no import cycles, and no import path from core to textual, rich or tui."""
    import shutil
    from pathlib import Path

    linter = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([linter], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Contracts: 4 kept, 0 broken." in result.stdout
