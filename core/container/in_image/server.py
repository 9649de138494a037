"""The serving image's entrypoint: SageMaker's container contract on top of MLflow's scoring server.

SageMaker runs `docker run IMAGE serve` and expects HTTP on 0.0.0.0:8080 (or SAGEMAKER_BIND_TO_PORT), GET /ping
answering 200 once the model is loaded, and POST /invocations. The model is loaded before the port opens, so a
200 on /ping means it is ready. This file is copied into the image as is: it must not import sagewiz.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the type checker only (the ASGI types, as Starlette spells them)
    from collections.abc import Awaitable, Callable, Mapping, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    App = Callable[[Scope, Receive, Send], Awaitable[None]]

MODEL_DIR = os.environ.get("SAGEWIZ_MODEL_DIR", "/opt/ml/model")
DEFAULT_PORT = 8080


def bind_port(environ: Mapping[str, str] = os.environ) -> int:
    return int(environ.get("SAGEMAKER_BIND_TO_PORT") or DEFAULT_PORT)


def tutorial_request(body: bytes, content_type: str) -> tuple[bytes, str]:
    """Translate the tutorial's request (bare pandas-split JSON, `application/json; format=pandas-split`).

    MLflow 2+ wants `{"dataframe_split": ...}` and rejects the `format` parameter; users still have
    scripts that send the old shape, so it is wrapped here. Other requests pass through untouched.
    """
    mime, *params = [part.strip() for part in content_type.split(";")]
    formats = [p.partition("=")[2].strip() for p in params if p.partition("=")[0].strip().lower() == "format"]
    if not formats or mime.lower() != "application/json":
        return body, content_type
    key = {"pandas-split": "dataframe_split", "pandas-records": "dataframe_records"}.get(formats[0])
    if key is None:
        return body, content_type
    data = json.loads(body)
    if not (isinstance(data, dict) and key in data):
        data = {key: data}
    kept = [p for p in params if p.partition("=")[0].strip().lower() != "format"]
    return json.dumps(data).encode("utf-8"), "; ".join([mime, *kept])


def positional_request(body: bytes, inputs: list[str]) -> tuple[bytes, str | None]:
    """Name a `dataframe_split` payload's columns after the model's inputs when they are only positions 0..n-1.

    The tutorial trains on a numpy array, so its predict.py sends `pd.DataFrame(X_train).iloc[[3]].to_json(
    orient="split")` with columns 0 and 1, which MLflow refuses as missing inputs though they are the signature's
    columns in order. Only exactly 0..n-1 (ints, or their strings) with n the number of inputs is renamed; anything
    else is left to MLflow's own schema error. The body and the line to log, or the body untouched and None.
    """
    try:
        data = json.loads(body)
    except ValueError:  # not JSON: MLflow answers with its own error
        return body, None
    split = data.get("dataframe_split") if isinstance(data, dict) else None
    if not isinstance(split, dict):
        return body, None
    columns = split.get("columns")
    if not inputs or not isinstance(columns, list) or not positions(columns, len(inputs)):
        return body, None
    split["columns"] = inputs
    note = f"Mapped positional columns {columns} to the model's inputs {inputs} in order."
    return json.dumps(data).encode("utf-8"), note


def positions(columns: list[Any], count: int) -> bool:
    """Whether `columns` are pandas' default labels 0..count-1 (JSON ints, not bools or floats, or strings)."""
    expected = list(range(count))
    if all(type(column) is int for column in columns):
        return columns == expected
    return columns == [str(i) for i in expected]


def signature_inputs(model: Any) -> list[str]:
    """The signature's input names in order; none without a signature or with unnamed inputs."""
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return []
    return [str(name) for name in schema.input_names()]


class TutorialRequests:
    """ASGI middleware applying `tutorial_request`, then `positional_request`, to JSON POST /invocations."""

    def __init__(self, app: App, inputs: list[str]) -> None:
        self.app = app
        self.inputs = inputs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/invocations":
            return await self.app(scope, receive, send)
        headers = list(scope["headers"])
        content_type = next((v.decode("latin-1") for k, v in headers if k == b"content-type"), "")
        if content_type.partition(";")[0].strip().lower() != "application/json":
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            body, content_type = tutorial_request(body, content_type)
        except ValueError:  # not JSON: let MLflow answer with its own error
            pass
        body, note = positional_request(body, self.inputs)
        if note:
            print(note, flush=True)
        headers = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
        headers += [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(body)).encode())]
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app({**scope, "headers": headers}, replay, send)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "serve"
    if command != "serve":
        print(f"This image only serves a model; SageMaker runs it with `serve` (got {command!r}).", file=sys.stderr)
        return 2
    import uvicorn
    from mlflow.pyfunc import load_model, scoring_server

    port = bind_port()
    print(f"Loading the model from {MODEL_DIR}", flush=True)
    model = load_model(MODEL_DIR)
    print(f"Model loaded; serving on 0.0.0.0:{port}", flush=True)
    app = TutorialRequests(scoring_server.init(model), signature_inputs(model))
    # SageMaker keeps connections open for up to 60 s between requests.
    uvicorn.run(app, host="0.0.0.0", port=port, timeout_keep_alive=75, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
