"""The smoke step: smoke-test the image locally."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.container.checks import docker_engine
from core.runtime.errors import StepError
from core.runtime.outputs import StepOutputs
from core.runtime.results import Block, fields_rows
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import local_image, request_body
from core.tracking import scoring


@dataclass(frozen=True)
class SmokeOutputs(StepOutputs):
    ping_seconds: float
    predictions: list[Any]  # the container's answer to the dataframe_split request
    local_predictions: list[Any]  # the model's own, which every answer matched
    image_id: str
    port: int


def local_predictions(ctx: StepContext, model: Any) -> list[Any]:
    """The model's own predictions for its input example: from the model step, else by loading it here."""
    if model.local_predictions:
        return list(model.local_predictions)
    from core.tracking.chosen_model import own_predictions

    return own_predictions(ctx, model.input_example["columns"], model.input_example["data"])


class SmokeStep(Step):
    id = "smoke"
    title = "Smoke-test the image locally"
    group = "Container"
    consumes = ('image', 'model')
    requires = (docker_engine,)
    settings = ("smoke.ping_timeout",)
    explanation = (
        'Runs the image on this machine exactly as SageMaker will (`docker run IMAGE serve`), waits for '
        "/ping, sends the model's input example to /invocations and compares the answers with the model's own "
        'predictions, so a broken image is found before any money is spent. '
    )
    manual = ('docker run --rm -p 8080:8080 sagewiz-model:<run_id> serve\ncurl -s localhost:8080/ping\n'
              'curl -s -H \'Content-Type: application/json\' -d \'{"dataframe_split": ...}\' '
              'localhost:8080/invocations')
    Outputs = SmokeOutputs

    def run(self, ctx: StepContext) -> SmokeOutputs:
        from core.container.serving import CONTAINER_PORT, host_port, serve

        image = ctx.outputs("image")
        model = ctx.outputs("model")
        if not model.input_example:
            raise StepError("The model has no input example to send; log it with input_example=... and rerun the "
                            "model step.")
        expected = local_predictions(ctx, model)
        port = host_port()
        if port != CONTAINER_PORT:
            ctx.log(f"Port {CONTAINER_PORT} is taken on this machine, so the container serves on {port}.", "warn")
        ctx.log(f"Starting {image.tag} with `serve`, as SageMaker does.")
        with serve(image.image_id, port=port, on_log=lambda line: ctx.log(line, source="container"),
                   cancel=ctx.cancel, timeout=ctx.settings["smoke.ping_timeout"]) as base_url:
            ctx.log(f"GET /ping answered 200 after {base_url.ping_seconds:.1f} s.")
            answers: dict[str, list[Any]] = {}
            for name, build in scoring.BODIES.items():
                ctx.check_cancelled()
                body, content_type = build(model.input_example)
                answers[name] = scoring.invoke(base_url, body, content_type)
                ctx.log(f"POST /invocations as {name} ({content_type}): {answers[name]}")
        for name, predictions in answers.items():
            if not scoring.same(predictions, expected):
                raise StepError(f"The image's predictions for the {name} request {predictions} differ from the "
                                f"model's own {expected}. The image serves another model or other library "
                                "versions; rebuild it (image step) and check its build log.")
        ctx.log("The image's predictions match the model's own, for JSON, CSV and the tutorial's request.")
        return SmokeOutputs(ping_seconds=round(base_url.ping_seconds, 2), predictions=answers["dataframe_split"],
                            local_predictions=expected, image_id=image.image_id, port=port)

    def by_hand(self, v: Shown) -> str:
        return (f"docker run --rm -d --name smoke -p 8080:8080 {local_image(v)} serve\n"
                "curl http://127.0.0.1:8080/ping\n"
                "python predict.py --local-url http://127.0.0.1:8080   # or: curl -H 'Content-Type: application/json' "
                f"-d '{request_body(v)}' http://127.0.0.1:8080/invocations\n"
                "docker rm -f smoke")

    def results(self, outputs: SmokeOutputs) -> list[Block]:
        shown = {"predictions", "local_predictions"}
        return [scoring.predictions_table(outputs.predictions, outputs.local_predictions, "container"),
                *fields_rows(outputs, skip=shown)]
