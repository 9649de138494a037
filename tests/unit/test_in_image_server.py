"""The serving image's request fixes: the tutorial's positional columns named after the model's inputs."""

from __future__ import annotations

import asyncio
import json

import pytest

from core.container.in_image import server

pytestmark = pytest.mark.unit

INPUTS = ["petal length (cm)", "petal width (cm)"]
MAPPED = "Mapped positional columns [0, 1] to the model's inputs ['petal length (cm)', 'petal width (cm)'] in order."


def tutorial_body() -> bytes:
    """The tutorial's predict.py body, `pd.DataFrame(X_train).iloc[[3]].to_json(orient="split")`: it trains on
    `iris.data[:, 2:]`, a numpy array, so the columns are 0 and 1 (which rows went to training does not matter)."""
    import pandas as pd
    from sklearn.datasets import load_iris

    return pd.DataFrame(load_iris().data[:, 2:]).iloc[[3]].to_json(orient="split").encode("utf-8")


def split_of(body: bytes) -> dict:
    return json.loads(body)["dataframe_split"]


def test_the_tutorials_positional_columns_become_the_signatures_inputs():
    body = tutorial_body()
    assert json.loads(body)["columns"] == [0, 1] and json.loads(body)["index"] == [3]
    wrapped, _ = server.tutorial_request(body, "application/json; format=pandas-split")
    mapped, note = server.positional_request(wrapped, INPUTS)
    assert split_of(mapped) == {**json.loads(body), "columns": INPUTS}
    assert note == MAPPED


def test_string_positions_and_params_are_mapped_too():
    body = json.dumps({"dataframe_split": {"columns": ["0", "1"], "data": [[1.4, 0.2]]}, "params": {"k": 1}})
    mapped, note = server.positional_request(body.encode(), INPUTS)
    assert json.loads(mapped) == {"dataframe_split": {"columns": INPUTS, "data": [[1.4, 0.2]]}, "params": {"k": 1}}
    assert note == f"Mapped positional columns ['0', '1'] to the model's inputs {INPUTS} in order."


@pytest.mark.parametrize("columns", [[0, 1, 2], [0], [1, 0], [1, 2], ["a", "b"], [False, True], [0.0, 1.0], [0, "1"],
                                     INPUTS])
def test_other_columns_are_left_to_mlflows_schema_error(columns):
    body = json.dumps({"dataframe_split": {"columns": columns, "data": [[1.0] * len(columns)]}}).encode()
    assert server.positional_request(body, INPUTS) == (body, None)


@pytest.mark.parametrize("body", [b"not json", b'{"dataframe_records": [{"0": 1.4, "1": 0.2}]}', b"[[1.4, 0.2]]",
                                  b'{"dataframe_split": [[1.4, 0.2]]}', b'{"inputs": [[1.4, 0.2]]}'])
def test_other_payloads_pass_through_untouched(body):
    assert server.positional_request(body, INPUTS) == (body, None)


def test_a_model_without_named_inputs_maps_nothing():
    body = json.dumps({"dataframe_split": {"columns": [0, 1], "data": [[1.4, 0.2]]}}).encode()
    assert server.positional_request(body, []) == (body, None)


def through_middleware(body: bytes, content_type: str, inputs: list[str]) -> tuple[bytes, str]:
    """What MLflow's app receives behind the middleware: the body and its content type."""
    seen: dict = {}

    async def app(scope, receive, send):
        message = await receive()
        seen.update(body=message["body"], headers=dict(scope["headers"]))

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        pass

    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "path": "/invocations", "headers": headers}
    asyncio.run(server.TutorialRequests(app, inputs)(scope, receive, send))
    assert seen["headers"][b"content-length"] == str(len(seen["body"])).encode()
    return seen["body"], seen["headers"][b"content-type"].decode()


def test_the_middleware_maps_both_the_tutorials_request_and_dataframe_split_and_logs_one_line(capsys):
    body, content_type = through_middleware(tutorial_body(), "application/json; format=pandas-split", INPUTS)
    assert content_type == "application/json" and split_of(body)["columns"] == INPUTS
    wrapped = json.dumps({"dataframe_split": json.loads(tutorial_body())}).encode()
    body, content_type = through_middleware(wrapped, "application/json; charset=utf-8", INPUTS)
    assert content_type == "application/json; charset=utf-8" and split_of(body)["columns"] == INPUTS
    assert capsys.readouterr().out.splitlines() == [MAPPED, MAPPED]


def test_the_middleware_leaves_csv_and_unmapped_json_as_they_came(capsys):
    assert through_middleware(b"0,1\n1.4,0.2\n", "text/csv", INPUTS) == (b"0,1\n1.4,0.2\n", "text/csv")
    wrong = json.dumps({"dataframe_split": {"columns": [0, 1, 2], "data": [[1.4, 0.2, 3.0]]}}).encode()
    assert through_middleware(wrong, "application/json", INPUTS) == (wrong, "application/json")
    assert capsys.readouterr().out == ""
