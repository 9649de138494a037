"""The predict step: the endpoint's status, then predictions for sample rows beside the local model's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.aws.clients import step_failures
from core.runtime.outputs import StepOutputs
from core.runtime.results import Block, Cell, Line, fields_rows
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import request_body
from core.tracking import scoring

if TYPE_CHECKING:
    from core.aws.clients import Resolved


@dataclass(frozen=True)
class PredictOutputs(StepOutputs):
    status: str
    rows: list[Any]  # the rows sent, in `columns` order
    columns: list[str]
    predictions: list[Any]  # the endpoint's
    local_predictions: list[Any]  # the local model's for the same rows; empty when it could not be loaded
    sandbox: bool


class PredictStep(Step):
    id = "predict"
    title = "Query the endpoint"
    group = "AWS"
    Outputs = PredictOutputs
    consumes = ("deploy", "model")
    settings = ("predict.input",)
    explanation = (
        "Checks the endpoint's status and sends rows from the iris test split (or your own, as JSON or CSV) in "
        "MLflow's dataframe_split format, then shows the endpoint's predictions beside the local model's. The "
        "tutorial's predict.py sends pandas-split JSON with boto3's invoke_endpoint. The request goes through "
        "SageMaker's runtime (InvokeEndpoint) in the SANDBOX too, where the emulator forwards it to the "
        "endpoint's container."
    )
    manual = ("aws sagemaker describe-endpoint --endpoint-name sagewiz-iris\n"
              "aws sagemaker-runtime invoke-endpoint --endpoint-name sagewiz-iris --content-type application/json "
              "--body fileb://payload.json out.json")

    @step_failures("query the endpoint")
    def run(self, ctx: StepContext) -> PredictOutputs:
        from core.aws import clients as aws
        from core.runtime.errors import StepError
        from core.tracking import predict_input

        endpoint = ctx.outputs("deploy").endpoint_name
        columns = (ctx.outputs("model").input_example or {}).get("columns") or []
        if not columns:
            raise StepError("The model step recorded no input columns; run the model step again.")
        source = ctx.settings["predict.input"]
        rows = predict_input.load(source, columns) if source else predict_input.iris_rows(columns)
        body, content_type = scoring.dataframe_split({"columns": columns, "data": rows})
        resolved = aws.resolve(ctx.project)
        described = aws.client(ctx.project, "sagemaker", resolved=resolved).describe_endpoint(EndpointName=endpoint)
        status = described["EndpointStatus"]
        ctx.log(f"Endpoint {endpoint}: {status}.")
        if status != "InService":
            raise StepError(f"The endpoint {endpoint} is {status}, not InService; run deploy again.")
        predicted = scoring.parse_predictions(self._invoke(ctx, resolved, endpoint, body, content_type))
        local = self._local(ctx, columns, rows)
        for number, row in enumerate(rows):
            mine = f" (local model: {local[number]})" if local else ""
            answer = predicted[number] if number < len(predicted) else "?"
            ctx.log(f"{dict(zip(columns, row, strict=False))} -> {answer}{mine}")
        return PredictOutputs(status=status, rows=rows, columns=columns, predictions=predicted,
                              local_predictions=local, sandbox=ctx.project.sandbox)

    @staticmethod
    def _invoke(ctx: StepContext, resolved: Resolved, endpoint: str, body: bytes, content_type: str) -> str:
        import botocore.exceptions

        from core.aws import clients as aws

        runtime = aws.client(ctx.project, "sagemaker-runtime", resolved=resolved)
        try:
            answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType=content_type,
                                             Accept="application/json", Body=body)
        except botocore.exceptions.ClientError as exc:
            raise aws.api_error(exc, "sagemaker:InvokeEndpoint", f"invoke the endpoint {endpoint}") from None
        text: str = answer["Body"].read().decode("utf-8", "replace")
        return text

    @staticmethod
    def _local(ctx: StepContext, columns: list[str], rows: list[list[Any]]) -> list[Any]:
        """The local model's predictions for the same rows; empty (with a warning) when it cannot be loaded."""
        from core.tracking.chosen_model import own_predictions

        try:
            return own_predictions(ctx, columns, rows)
        except Exception as exc:  # a comparison aid: the endpoint's answer stands without it
            ctx.log(f"The local model could not be loaded for comparison ({exc}).", "warn")
            return []

    def by_hand(self, v: Shown) -> str:
        return ("import boto3, json\n"
                f"sm = boto3.client(\"sagemaker\", region_name=\"{v['region']}\")\n"
                f"print(sm.describe_endpoint(EndpointName=\"{v['endpoint']}\")[\"EndpointStatus\"])\n"
                f"runtime = boto3.client(\"sagemaker-runtime\", region_name=\"{v['region']}\")\n"
                f"answer = runtime.invoke_endpoint(EndpointName=\"{v['endpoint']}\", "
                "ContentType=\"application/json\",\n"
                f"                                 Body=json.dumps({request_body(v)}))\n"
                "print(json.loads(answer[\"Body\"].read()))   # MLflow 2+ wants dataframe_split, not pandas-split")

    def results(self, outputs: PredictOutputs) -> list[Block]:
        return [Line(["endpoint status ", Cell(outputs.status, strong=True)]),
                scoring.predictions_table(outputs.predictions, outputs.local_predictions, "endpoint"),
                *fields_rows(outputs, skip={"status", "predictions", "local_predictions"})]
