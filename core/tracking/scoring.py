"""Request bodies for a model server's /invocations and the call itself (smoke test and sandbox predict).

Three shapes a SageMaker model endpoint built by sagewiz accepts: MLflow's `dataframe_split` JSON, CSV with a
header row, and the tutorial's bare pandas-split JSON with `format=pandas-split`.
"""

from __future__ import annotations

import io
import json
from typing import Any

from core.runtime.errors import StepError
from core.runtime.results import Cell, Table, Value

JSON = "application/json"
CSV = "text/csv"
TUTORIAL = "application/json; format=pandas-split"


def dataframe_split(example: dict[str, Any]) -> tuple[bytes, str]:
    """`{"dataframe_split": {"columns": [...], "data": [[...]]}}`, what MLflow 2+ scoring expects."""
    return json.dumps({"dataframe_split": _split(example)}).encode("utf-8"), JSON


def csv_body(example: dict[str, Any]) -> tuple[bytes, str]:
    import csv  # here, not at the top: the steps import this module for its results table

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    split = _split(example)
    writer.writerow(split["columns"])
    writer.writerows(split["data"])
    return out.getvalue().encode("utf-8"), CSV


def tutorial_split(example: dict[str, Any]) -> tuple[bytes, str]:
    """The tutorial's predict.py body: the pandas-split dict itself, content type with format=pandas-split."""
    return json.dumps(_split(example)).encode("utf-8"), TUTORIAL


BODIES = {"dataframe_split": dataframe_split, "csv": csv_body, "pandas-split": tutorial_split}


def _split(example: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(example, dict) or "columns" not in example or "data" not in example:
        raise StepError("The model's input example is not a table with columns and data; log the model with "
                        "input_example=<a pandas DataFrame> and rerun the model step.")
    return {"columns": list(example["columns"]), "data": [list(row) for row in example["data"]]}


def invoke(base_url: str, body: bytes, content_type: str, timeout: float = 60) -> list[Any]:
    """POST /invocations; the predictions as a list (MLflow answers `{"predictions": [...]}`)."""
    import urllib.error  # here, not at the top: the steps import this module for its results table
    import urllib.request

    request = urllib.request.Request(base_url.rstrip("/") + "/invocations", data=body, method="POST",
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise StepError(f"POST /invocations ({content_type}) answered HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise StepError(f"POST /invocations ({content_type}) failed: {exc}") from None
    return parse_predictions(text)


def parse_predictions(text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise StepError(f"The model server answered something that is not JSON: {text[:200]!r}") from None
    if isinstance(data, dict) and "predictions" in data:
        data = data["predictions"]
    return data if isinstance(data, list) else [data]


def same(predictions: list[Any], expected: list[Any], tolerance: float = 1e-6) -> bool:
    """Equal element by element (numbers within a relative tolerance)."""
    if len(predictions) != len(expected):
        return False
    for got, want in zip(predictions, expected, strict=True):  # lengths checked above
        if isinstance(got, (int, float)) and isinstance(want, (int, float)):
            if abs(got - want) > tolerance * max(1.0, abs(want)):
                return False
        elif isinstance(got, list) and isinstance(want, list):
            if not same(got, want, tolerance):
                return False
        elif got != want:
            return False
    return True


def predictions_table(remote: list[Any] | None, local: list[Any] | None, remote_name: str) -> Table:
    """Predictions beside the local model's, row by row, with a match mark (smoke test and predict)."""
    remote, local = list(remote or []), list(local or [])
    rows: list[list[Value]] = []
    for i in range(max(len(remote), len(local))):
        answer = remote[i] if i < len(remote) else None
        own = local[i] if i < len(local) else None
        match = answer is not None and own is not None and same([answer], [own])
        rows.append([str(i), answer, own, Cell("✔", "ok") if match else Cell("✘", "bad")])
    return Table(columns=["row", remote_name, "local model", "match"], rows=rows, title="predictions")
