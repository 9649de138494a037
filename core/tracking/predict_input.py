"""Rows to score: the iris test split by default, or the user's JSON/CSV, as MLflow's dataframe_split payload."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from core.runtime.errors import StepError

SAMPLE_ROWS = 5


def iris_rows(columns: list[str], count: int = SAMPLE_ROWS) -> list[list[float]]:
    """The first rows of the tutorial's test split (test_size 0.3, random_state 7), in the model's columns."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    frame = load_iris(as_frame=True).frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise StepError(f"The model expects columns {', '.join(missing)}, which the iris data does not have; "
                        "give your own rows in predict.input (a JSON or CSV file).")
    _, test = train_test_split(frame, test_size=0.3, random_state=7)
    rows: list[list[float]] = test[columns].head(count).values.tolist()
    return rows


def _number(value: str, where: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise StepError(f"{where}: {value!r} is not a number. Every value must be numeric.") from None


def parse(text: str, columns: list[str]) -> list[list[float]]:
    """User rows as JSON (a list of rows, a list of objects, or {"columns","data"}) or CSV with a header."""
    text = text.strip()
    if not text:
        raise StepError("The input is empty: give at least one row, as JSON or CSV with a header line.")
    if text[0] in "[{":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StepError(f"The input is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}).") from None
        if isinstance(data, dict) and "dataframe_split" in data:
            data = data["dataframe_split"]
        if isinstance(data, dict) and "data" in data:
            columns_in = data.get("columns", columns)
            data = [dict(zip(columns_in, row, strict=False)) for row in data["data"]]
        if not isinstance(data, list) or not data:
            raise StepError("The JSON must be a non-empty list of rows, a list of objects, or "
                            '{"columns": [...], "data": [[...]]}.')
        rows = []
        for number, row in enumerate(data, 1):
            if isinstance(row, dict):
                missing = [c for c in columns if c not in row]
                if missing:
                    raise StepError(f"Row {number} lacks {', '.join(missing)}; the model needs {', '.join(columns)}.")
                row = [row[c] for c in columns]
            if not isinstance(row, list) or len(row) != len(columns):
                raise StepError(f"Row {number} has {len(row) if isinstance(row, list) else 'no'} values; the model "
                                f"needs {len(columns)} ({', '.join(columns)}).")
            rows.append([_number(str(v), f"Row {number}") for v in row])
        return rows
    reader = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in reader[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise StepError(f"The CSV header lacks {', '.join(missing)}; its first line must name the columns "
                        f"{', '.join(columns)}.")
    rows = []
    for number, record in enumerate(reader[1:], 2):
        if len(record) != len(header):
            raise StepError(f"CSV line {number} has {len(record)} values but the header has {len(header)}.")
        values = dict(zip(header, record, strict=True))  # lengths checked above
        rows.append([_number(values[c].strip(), f"CSV line {number}") for c in columns])
    if not rows:
        raise StepError("The CSV has a header but no rows.")
    return rows


def load(source: str, columns: list[str]) -> list[list[float]]:
    """`predict.input`: a path to a .json/.csv file, or the rows inline."""
    path = Path(source).expanduser()
    if len(source) < 4096 and path.suffix.lower() in (".json", ".csv"):
        if not path.is_file():
            raise StepError(f"The input file {path} does not exist.")
        source = path.read_text(encoding="utf-8")
    return parse(source, columns)
