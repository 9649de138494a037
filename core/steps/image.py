"""The image step: build the serving image."""

from __future__ import annotations

import json
import re
import tempfile
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.container.checks import docker_engine
from core.runtime.errors import StepError
from core.runtime.outputs import StepOutputs
from core.runtime.results import Block, Rows, Value, fields_rows, human_size
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import dockerfile, first, local_image
from core.tracking.chosen_model import model_on_disk

if TYPE_CHECKING:
    from core.container.wheelhouse import Runner
    from core.runtime.project import Project

TAIL_LINES = 15
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
PROBE = ("import json, platform, sys; "
         "print(json.dumps({'python': sys.version.split()[0], 'libc': platform.libc_ver()}))")


def major_minor(version: str) -> tuple[int, int]:
    parts = version.split(".")
    return int(parts[0]), int(parts[1])


def image_tag(ctx: StepContext, run_id: str) -> str:
    return f"{ctx.settings['image.repository']}:{run_id or 'latest'}"


class BuildFailed(StepError):
    """The Dockerfile failed; the message names the instruction and its last output lines."""


@dataclass(frozen=True)
class ImageOutputs(StepOutputs):
    image_id: str
    tag: str
    size: int
    base: str
    python_version: str
    deps: str
    build_dir: str
    model_uri: str
    architecture: str
    cache_images: list[str]  # the dependency stage's images, kept as the next build's layer cache


class ImageStep(Step):
    id = "image"
    title = "Build the serving image"
    group = "Container"
    consumes = ('model',)
    requires = (docker_engine,)
    settings = ("image.base", "image.deps", "image.repository")
    explanation = (
        'Builds a Docker image that serves your model the way SageMaker expects (`serve`, HTTP on port 8080, '
        "/ping and /invocations), with its dependencies installed at build time. The tutorial's `mlflow "
        "sagemaker build-and-push-container` builds a generic image that installs the model's environment "
        'when the container starts, which is slow and fails without internet. '
    )
    manual = 'docker build --platform linux/amd64 -t sagewiz-model:<run_id> .sagewiz/build'
    Outputs = ImageOutputs

    def run(self, ctx: StepContext) -> ImageOutputs:
        from core.container import build_context, docker_api, wheelhouse

        model = ctx.outputs("model")
        api = docker_api.client()
        run_id = model.run_id
        tag = image_tag(ctx, run_id)
        with tempfile.TemporaryDirectory(prefix="sagewiz-model-") as tmp:
            model_dir = model_on_disk(ctx, Path(tmp))
            mlmodel = _mlmodel(model_dir)
            model_python = model.python_version or mlmodel.get("python_version", "")
            if not model_python:
                raise StepError("The model does not record its Python version (MLmodel python_version); log it "
                                "again with a recent MLflow.")
            base = ctx.settings["image.base"] or "python:{}.{}-slim".format(*major_minor(model_python))
            requirements = build_context.serving_requirements(
                _requirements(model_dir, model.requirements), mlmodel.get("mlflow_version", ""))
            deps = ctx.settings["image.deps"]
            image_python = model_python
            if deps == "wheelhouse":
                image_python, glibc = self._probe_base(ctx, api, base)
                if major_minor(image_python) != major_minor(model_python):
                    ctx.log(f"The model was logged with Python {model_python} but {base} has {image_python}; "
                            "the wheels are chosen for the image's Python.", "warn")
            ctx.check_cancelled()
            build_dir = ctx.project.build_dir
            build_context.create(build_dir, model_dir=model_dir, requirements=requirements, base=base, deps=deps,
                                 model_uri=model.model_uri, run_id=run_id, tag=tag)
        if deps == "wheelhouse":
            wheels = wheelhouse.ensure(requirements, major_minor(image_python), glibc, _pip_runner(ctx), ctx.log)
            count = wheelhouse.link_into(wheels, build_context.wheels_dir(build_dir))
            ctx.log(f"{count} wheels placed in the build context.")
        ctx.log(f"Build context written to {build_dir} (read the Dockerfile there).")
        image_id, stages = self._build(ctx, api, build_dir, tag)
        info = docker_api.image_info(api, image_id) or {}
        size = int(info.get("Size", 0))
        ctx.log(f"Built {tag} ({image_id[7:19]}), {size / 1e6:.0f} MB, {info.get('Os')}/{info.get('Architecture')}.")
        return ImageOutputs(image_id=image_id, tag=tag, size=size, base=base, python_version=image_python,
                            deps=deps, build_dir=str(build_dir), model_uri=model.model_uri,
                            architecture=info.get("Architecture", ""), cache_images=stages)

    def verify(self, ctx: StepContext, outputs: ImageOutputs) -> str | None:
        from core.container import docker_api

        info = docker_api.image_info(docker_api.client(), outputs.tag)
        if info is None or info["Id"] != outputs.image_id:
            return f"The image {outputs.tag} is no longer on this Docker engine; build it again."
        return None

    def values(self, project: Project, outputs: ImageOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        """The local image; its Python stands in for the model's when the model step recorded none."""
        python = first(known.get("python_version"), outputs.python_version if outputs else None)
        return {
            "python_version": python,
            "python_minor": ".".join(python.split(".")[:2]) if python else None,
            "repository": project.settings["image.repository"],
            "image_tag": outputs.tag if outputs else None,
        }

    def by_hand(self, v: Shown) -> str:
        return (f"mlflow artifacts download --artifact-uri {v['model_uri']} --dst-path model\n"
                f"cat > Dockerfile <<'EOF'\n{dockerfile(v).rstrip()}\nEOF\n"
                f"docker build --platform linux/amd64 -t {local_image(v)} .")

    def results(self, outputs: ImageOutputs) -> list[Block]:
        shown = {"tag", "image_id", "size", "base", "python_version"}
        rows: list[tuple[str, Value]] = [("tag", outputs.tag), ("image_id", outputs.image_id),
                                         ("size", human_size(outputs.size)), ("base", outputs.base),
                                         ("python_version", outputs.python_version)]
        return [Rows(rows, "image"), *fields_rows(outputs, skip=shown)]

    def _probe_base(self, ctx: StepContext, api: Any, base: str) -> tuple[str, tuple[int, int]]:
        """The base image's Python version and glibc, which the wheels must match (cached per image id)."""
        from core.container import docker_api, wheelhouse

        info = docker_api.image_info(api, base)
        if info is None:
            ctx.log(f"Pulling the base image {base} (linux/amd64).")
            try:
                api.pull(base, platform=docker_api.PLATFORM)
            except Exception as exc:
                raise StepError(f"The base image {base} is not on this engine and cannot be pulled "
                                f"({docker_api.short(exc)}). Pull or build it, or set image.base.") from None
            info = docker_api.image_info(api, base)
            assert info is not None, f"{base} was pulled"
        cache = wheelhouse.cache_root() / "base-images" / f"{info['Id'].split(':')[-1]}.json"
        if cache.exists():
            found = json.loads(cache.read_text())
        else:
            code, output = docker_api.run_once(api, base, ["python3", "-c", PROBE])
            if code != 0:
                raise StepError(f"The base image {base} has no working python3 (exit code {code}: "
                                f"{output.strip()[-300:]}). Choose a Python base image with image.base.")
            found = json.loads(output.strip().splitlines()[-1])
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(found))
        libc_name, libc_version = found["libc"]
        if libc_name != "glibc":
            raise StepError(f"The base image {base} uses {libc_name or 'an unknown C library'}, not glibc; Python "
                            "wheels for SageMaker need a glibc image such as python:3.11-slim (image.base).")
        ctx.log(f"Base image {base}: Python {found['python']}, glibc {libc_version}.")
        return found["python"], major_minor(libc_version)

    def _build(self, ctx: StepContext, api: Any, build_dir: Path, tag: str) -> tuple[str, list[str]]:
        """Build through the engine, every log line an event; the image id and the dependency stage's image
        (kept as the layer cache of the next build), or BuildFailed with the failing instruction."""
        from core.container import docker_api

        instruction, ids = "", []
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        start = lambda: api.build(path=str(build_dir), tag=tag, rm=True, forcerm=True, decode=True,  # noqa: E731
                                  platform=docker_api.PLATFORM, network_mode="host", pull=False)
        try:
            for message in docker_api.stream(api, start, ctx.cancel):
                for line in message.get("stream", "").splitlines():
                    line = line.rstrip()
                    if not line:
                        continue
                    ctx.log(line, source="docker build")
                    step = _STEP.match(line)
                    if step:
                        instruction = step.group(3)
                        tail.clear()
                        ctx.progress(int(step.group(1)) - 1, int(step.group(2)), instruction[:80])
                    elif not line.startswith(" ---> "):
                        tail.append(line)
                if "aux" in message and "ID" in message["aux"]:
                    ids.append(message["aux"]["ID"])
                if "error" in message:
                    error = (message.get("errorDetail") or {}).get("message") or message["error"]
                    ctx.log(error.strip(), "error", "docker build")
                    raise BuildFailed(_failure(instruction, error, tail))
            if not ids:
                raise BuildFailed(_failure(instruction, "the engine ended the build without an image", tail))
        except StepError:
            if not docker_api.engine_alive(api):  # a build cut short by the engine going away
                raise docker_api.EngineStopped(
                    f"The Docker engine stopped during the build (at `{instruction}`). Nothing was tagged and "
                    "the previous image, if any, is unchanged. Start Docker again and rerun the step.") from None
            raise
        except Exception as exc:
            raise docker_api.api_error(exc, "building the image") from None
        ctx.progress(1, 1, "built")
        return ids[-1], ids[:-1]


def _pip_runner(ctx: StepContext) -> Runner:
    """Run pip with its lines streamed as events, returning the last ones for the error message."""
    from core.runtime import proc

    def run(argv: list[str], env: dict[str, str]) -> tuple[int, list[str]]:
        tail: deque[str] = deque(maxlen=TAIL_LINES)

        def on_line(stream: str, line: str) -> None:
            tail.append(line)
            ctx.log(line, "warn" if stream == "stderr" else "info", "pip")

        return proc.run(argv, env=env, cancel=ctx.cancel, on_line=on_line), list(tail)

    return run


def _failure(instruction: str, error: str, tail: Iterable[str]) -> str:
    last = "\n".join(f"    {line}" for line in tail)
    where = f" at `{instruction}`" if instruction else ""
    if instruction.upper().startswith("FROM"):
        cause = ("the base image could not be pulled: check the network, or set image.base to an image this "
                 "engine has (offline: scripts/stack start, then image.base = \"sagewiz-local/python:3.11\" and "
                 "image.deps = \"wheelhouse\")")
    else:
        cause = ("for a requirement that does not exist, correct the model's requirements.txt or log the model "
                 "again")
    return (f"The image build failed{where}: {error.strip()}. Nothing was tagged; the previous image, if any, is "
            f"unchanged. Fix the cause ({cause}) and run the step again.\nLast output:\n{last}")


def _mlmodel(model_dir: Path) -> dict[str, Any]:
    import yaml

    path = model_dir / "MLmodel"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    flavor = (data.get("flavors") or {}).get("python_function") or {}
    return {"mlflow_version": data.get("mlflow_version", ""), "python_version": flavor.get("python_version", "")}


def _requirements(model_dir: Path, listed: list[str]) -> list[str]:
    """The model's own requirements.txt (what MLflow recorded with it), else the model step's list."""
    path = model_dir / "requirements.txt"
    if path.exists():
        return path.read_text(encoding="utf-8").splitlines()
    if listed:
        return list(listed)
    raise StepError("The model has no requirements.txt, so its dependencies are unknown; log it again with "
                    "mlflow.<flavor>.log_model (which writes one) and rerun the model step.")
