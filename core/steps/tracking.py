"""The tracking step: the embedded `mlflow server`, a reused one, or a team's server from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import local_server
from core.tracking import server
from core.tracking.connection import TrackingOutputs, connect

if TYPE_CHECKING:
    from core.runtime.project import Project


class TrackingStep(Step):
    id = "tracking"
    title = "MLflow tracking server"
    group = "Local"
    Outputs = TrackingOutputs
    consumes = ()
    settings = ("tracking.uri", "tracking.host", "tracking.port", "tracking.keep_running")
    explanation = (
        'Starts the MLflow tracking server the tutorial opens with `mlflow ui`: it records experiments, runs, '
        "parameters, metrics and model artifacts, and serves the UI on http://127.0.0.1:5000. sagewiz's "
        'embedded default keeps its sqlite database and artifacts under .sagewiz/mlflow; set tracking.uri to '
        "use a team's server instead. "
    )
    manual = ('mlflow server --host 127.0.0.1 --port 5000 \\\n'
              '  --backend-store-uri sqlite:///.sagewiz/mlflow/mlflow.db \\\n'
              '  --artifacts-destination .sagewiz/mlflow/artifacts')

    def run(self, ctx: StepContext) -> TrackingOutputs:
        return connect(ctx)

    def verify(self, ctx: StepContext, outputs: TrackingOutputs) -> str | None:
        """An external server that stopped answering no longer holds; sagewiz's own server stops with the wizard
        and still holds, because the steps that need it start it again at the same address (tracking_uri)."""
        uri = outputs.tracking_uri
        if uri.startswith("http") and not outputs.managed and not server.probe(uri, timeout=2):
            return f"The MLflow server at {uri} does not answer; start it, then run the tracking step again."
        return None

    def values(self, project: Project, outputs: TrackingOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        # The settings' address is the model step's fallback: a model chosen on a server outranks it.
        return {"tracking_uri": outputs.tracking_uri if outputs else None, "mlflow_store": str(project.mlflow_dir)}

    def by_hand(self, v: Shown) -> str:
        uri, command = v["tracking_uri"], local_server(v)
        if command is None:
            return f"export MLFLOW_TRACKING_URI={uri}\nmlflow experiments search   # check the server answers"
        return f"{command}\ncurl {uri}/health\nexport MLFLOW_TRACKING_URI={uri}   # open {uri} in a browser"
