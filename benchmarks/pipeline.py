"""Wall time of the whole sandbox pipeline, headless (`sagewiz run --sandbox --yes`), per-step times, and the
strict emulator's CreateEndpoint-to-InService time (the endpoint's container starting until /ping answers).

Needs the local stack (Docker engine, base image). The image layers and the wheelhouse are cached between
runs, so after the first run this measures a warm rebuild of the model layer; the first run's figure (cold)
is in benchmarks/README.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.runtime.ports import any_free  # noqa: E402
from tests.plugins.docker_fixtures import stack_value  # noqa: E402


def _base_image() -> str:
    base = stack_value("SAGEWIZ_BASE_IMAGE")
    if not base:
        raise RuntimeError("no base image: run scripts/stack start")
    return base


def measure() -> list[tuple[str, str, str]]:
    project = Path(tempfile.mkdtemp(prefix="sagewiz-pipeline-"))
    try:
        (project / "sagewiz.toml").write_text(
            f'[image]\nbase = "{_base_image()}"\ndeps = "wheelhouse"\nrepository = "sagewiz-bench"\n'
            f'[tracking]\nport = {any_free()}\n[cleanup]\neverything = true\n')
        cli = shutil.which("sagewiz") or str(Path(sys.executable).with_name("sagewiz"))
        started = time.monotonic()
        done = subprocess.run([cli, "--project-dir", str(project), "run", "--sandbox", "--yes"],
                              capture_output=True, text=True, timeout=1800)
        wall = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError(f"the pipeline failed: {done.stdout[-1500:]}")
        steps = json.loads((project / ".sagewiz" / "state.json").read_text())["steps"]
        image = steps["image"]["outputs"]
        _remove_images([image.get("image_id", "")])  # the dependency stage stays: it is the layer cache
        rows = [("whole sandbox pipeline, 13 steps (dependency layers cached)", f"{wall:.1f} s", "")]
        slowest = sorted(steps.items(), key=lambda item: -(item[1].get("duration") or 0))[:5]
        rows += [(f"  step {name}", f"{record['duration']:.1f} s", "") for name, record in slowest]
        rows.append(("  CreateEndpoint to InService (the container's start to /ping)",
                     f"{_in_service_seconds(project):.1f} s", ""))
        return rows
    finally:
        shutil.rmtree(project, ignore_errors=True)


def _in_service_seconds(project: Path) -> float:
    """From the deploy log: the line after CreateEndpoint was accepted to the poll that saw InService."""
    from datetime import datetime

    [log] = sorted((project / ".sagewiz" / "logs").glob("*-deploy.log"))[-1:]
    stamps = {}
    for line in log.read_text().splitlines():
        for marker in ("Creating endpoint", "InService after"):
            if marker in line:
                stamps[marker] = datetime.fromisoformat(line.split()[0])
    return (stamps["InService after"] - stamps["Creating endpoint"]).total_seconds()


def _remove_images(refs: list[str]) -> None:
    """The benchmark's own images only, so the vfs driver does not fill the disk."""
    for ref in refs:
        if ref:
            subprocess.run(["docker", "rmi", "-f", ref], capture_output=True)


if __name__ == "__main__":
    from benchmarks.__main__ import main

    main(["pipeline"])
