"""Image figures: size against a naive single-stage build, cold build, rebuild after retrain, start to /ping.

Run: .venv/bin/python -m benchmarks image  (needs the local stack: DOCKER_HOST, SAGEWIZ_BASE_IMAGE).
Goals: size <= 60% of the naive build; rebuild <= 20% of cold; container start to /ping 200 <= 10 s.
Everything it creates is removed at the end.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.runtime.ports import any_free  # noqa: E402
from tests.plugins.docker_fixtures import log_model, open_project, run_step, stack_value  # noqa: E402

NAIVE = """\
FROM {base}
COPY wheels/ /tmp/wheels/
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-index --find-links /tmp/wheels -r /tmp/requirements.txt
COPY model/ /opt/ml/model/
"""


def naive_build(api, base: str, build_dir: Path, tag: str) -> int:
    """The single-stage image a first attempt produces: full mlflow, wheels left in a layer."""
    import shutil
    import subprocess

    from core.container import wheelhouse

    context = Path(tempfile.mkdtemp(prefix="naive-"))
    try:
        shutil.copytree(build_dir / "app" / "ml" / "model", context / "model")
        requirements = (context / "model" / "requirements.txt").read_text().split()
        (context / "requirements.txt").write_text("\n".join(requirements) + "\n")
        wheels = wheelhouse.ensure(requirements, (3, 11), (2, 36),
                                   lambda argv, env: (subprocess.run(argv, env=env,
                                                                     capture_output=True).returncode, []),
                                   print)
        wheelhouse.link_into(wheels, context / "wheels")
        (context / "Dockerfile").write_text(NAIVE.format(base=base))
        for message in api.build(path=str(context), tag=tag, rm=True, forcerm=True, decode=True,
                                 network_mode="host", nocache=True):
            if "error" in message:
                raise RuntimeError(message["error"])
        return api.inspect_image(tag)["Size"]
    finally:
        shutil.rmtree(context, ignore_errors=True)


def measure() -> list[tuple[str, str, str]]:
    """(figure, value, goal) rows; every image it builds is removed."""
    import os

    import docker

    from core.container import docker_api
    from core.container.serving import serve

    os.environ.setdefault("DOCKER_HOST", stack_value("DOCKER_HOST"))
    base = stack_value("SAGEWIZ_BASE_IMAGE")
    api = docker_api.client()
    work = Path(tempfile.mkdtemp(prefix="sagewiz-bench-"))
    tracking = f"sqlite:///{work / 'mlflow.db'}"
    repository = f"sagewiz-bench-{uuid.uuid4().hex[:8]}"
    settings = {"image.base": base, "image.deps": "wheelhouse", "image.repository": repository}
    created: list[str] = []
    original_build = docker.APIClient.build
    try:
        (work / "project").mkdir()
        project = open_project(work / "project", **settings)
        try:
            project.state.update_record("model", status="done", outputs=log_model(tracking, 100))
            docker.APIClient.build = functools.partialmethod(original_build, nocache=True)  # a true cold build
            started = time.monotonic()
            ok, first, error, _ = run_step(project, "image")
            cold = time.monotonic() - started
            docker.APIClient.build = original_build
            assert ok, error
            created += first["cache_images"] + [first["image_id"]]
            project.state.update_record("model", status="done", outputs=log_model(tracking, 120))
            started = time.monotonic()
            ok, second, error, _ = run_step(project, "image")
            rebuild = time.monotonic() - started
            assert ok, error
            created += second["cache_images"] + [second["image_id"]]
        finally:
            docker.APIClient.build = original_build
            project.close()
        pings = []
        for _ in range(3):
            with serve(second["image_id"], port=any_free(), on_log=lambda line: None) as url:
                pings.append(url.ping_seconds)
        naive_tag = f"{repository}-naive:latest"
        naive = naive_build(api, base, work / "project" / ".sagewiz" / "build", naive_tag)
        created.append(naive_tag)
        size = second["size"]
        return [
            ("image size", f"{size / 1e6:.0f} MB", "<= 60% of naive"),
            ("naive single-stage image size", f"{naive / 1e6:.0f} MB", ""),
            ("image size / naive", f"{100 * size / naive:.0f}%", "<= 60%"),
            ("cold build", f"{cold:.1f} s", ""),
            ("rebuild after retrain", f"{rebuild:.1f} s", "<= 20% of cold"),
            ("rebuild / cold", f"{100 * rebuild / cold:.0f}%", "<= 20%"),
            ("container start to /ping 200 (best of 3)", f"{min(pings):.1f} s", "<= 10 s"),
        ]
    finally:
        for ref in reversed(created):
            try:
                api.remove_image(ref, force=True)
            except Exception:
                pass
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    from benchmarks.__main__ import main

    main(["image"])
