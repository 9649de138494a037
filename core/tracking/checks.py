"""What the tracking step needs: the MLflow port free, or already serving MLflow."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from core.runtime.checks import CheckResult, check

if TYPE_CHECKING:
    from core.runtime.project import Project

@check("port", "MLflow port", timeout=2.0)
def mlflow_port(project: Project) -> CheckResult:
    from core.runtime import ports
    from core.tracking import server as mlflow_server

    title = "MLflow port"
    uri = project.settings["tracking.uri"] or os.environ.get("MLFLOW_TRACKING_URI", "")
    if uri:
        return CheckResult(title, "ok", f"not needed: tracking goes to {uri}")
    host, port = project.settings["tracking.host"], project.settings["tracking.port"]
    if ports.is_free(host, port):
        return CheckResult(title, "ok", f"{host}:{port} is free for the MLflow server")
    version = mlflow_server.probe(f"http://{host}:{port}", timeout=0.8)
    if version:
        ours = (project.state.service(mlflow_server.SERVICE) or {}).get("port") == port if project.state else False
        who = "the server sagewiz started" if ours else "an MLflow server"
        return CheckResult(title, "ok", f"{host}:{port} already serves MLflow {version} ({who}); it will be reused")
    who = ports.owner(port) or "another program"
    alternative = ports.next_free(host, port + 1)
    fix = f"Stop {who}, or set tracking.port = {alternative} (a free port)." if alternative else f"Stop {who}."
    return CheckResult(title, "warn", f"{host}:{port} is taken by {who}, which is not MLflow", fix)
