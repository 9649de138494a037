"""The strict emulator: moto's server with SageMaker's checks, lifecycle and runtime installed in-process.

moto keeps doing everything it does well (IAM, S3, ECR, STS, CloudWatch Logs, SageMaker's records); the
methods replaced here are the ones where moto is kinder than SageMaker: CreateModel (checked), Create/Update/
DeleteEndpoint (a real container, SageMaker's states and refusals) and InvokeEndpoint (forwarded). GET
/sagewiz-emulator/ tells the wizard it talks to this emulator (strict checks on) and what it runs.
"""

from __future__ import annotations

import json
import os
from typing import Any

from core.emulator import model_checks, runtime
from core.emulator.endpoints import Endpoints

MARKER = "/sagewiz-emulator/"


def install(endpoints: Endpoints) -> None:
    """Replace moto's kind methods with SageMaker's behaviour."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    moto_create_model = SageMakerModelBackend.create_model
    moto_create_endpoint = SageMakerModelBackend.create_endpoint

    def create_model(backend: Any, model_name: str, execution_role_arn: str, primary_container: Any,
                     vpc_config: Any, containers: Any, tags: Any) -> Any:
        model_checks.check(backend.account_id, backend.region_name, execution_role_arn,
                           primary_container or (containers or [{}])[0])
        return moto_create_model(backend, model_name, execution_role_arn, primary_container, vpc_config,
                                 containers, tags)

    def create_endpoint(backend: Any, endpoint_name: str, endpoint_config_name: str, tags: Any) -> Any:
        return endpoints.create(backend, endpoint_name, endpoint_config_name, tags, moto_create_endpoint)

    def delete_endpoint(backend: Any, endpoint_name: str) -> None:
        endpoints.delete(backend, endpoint_name)

    def update_endpoint(response: Any) -> Any:
        return ActionResult({"EndpointArn": endpoints.update(
            response.sagemaker_backend, response._get_param("EndpointName"),
            response._get_param("EndpointConfigName"))})

    def invoke_endpoint(response: Any) -> Any:
        return runtime.invoke(endpoints, response.current_account, response.region,
                              response._get_param("EndpointName"), response.raw_body or b"",
                              response.headers.get("Content-Type"), response.headers.get("Accept"))

    replaced: list[tuple[type, Any]] = [
        (SageMakerModelBackend, create_model), (SageMakerModelBackend, create_endpoint),
        (SageMakerModelBackend, delete_endpoint), (SageMakerResponse, update_endpoint),  # moto lacks this one
        (SageMakerRuntimeResponse, invoke_endpoint)]
    for owner, method in replaced:
        setattr(owner, method.__name__, method)


def application(endpoints: Endpoints) -> Any:
    """moto's WSGI app, plus the marker and a reset that also removes the endpoints' containers."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path.rstrip("/") == MARKER.rstrip("/"):
            body = json.dumps(describe(endpoints)).encode("utf-8")
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/moto-api/reset" and method == "POST":
            endpoints.stop_all()
        return moto_app(environ, start_response)

    return app


def describe(endpoints: Endpoints) -> dict[str, Any]:
    """What the marker answers: strict, the registry images come from, the endpoints' containers."""
    return {"strict": True, "pid": os.getpid(), "registry": endpoints.registry, "endpoints": endpoints.running()}
