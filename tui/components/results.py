"""The results panel: a step's outputs as tables a user can read, unknown keys as key/value rows."""

from __future__ import annotations

import json
from typing import Any, Callable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from textual.widgets import Static


def human_size(size: Any) -> str:
    if not isinstance(size, (int, float)):
        return str(size)
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


def _value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def key_values(outputs: dict, keys: list[str] | None = None, title: str | None = None) -> Table:
    table = Table(show_header=False, box=None, title=title, title_justify="left", padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for key in keys if keys is not None else list(outputs):
        if key in outputs:
            value = outputs[key]
            table.add_row(key, human_size(value) if key == "size" else _value(value))
    return table


def predictions_table(remote: list | None, local: list | None, remote_name: str) -> Table:
    """Predictions beside the local model's, row by row, with a match mark."""
    from core import scoring

    table = Table(title="predictions", title_justify="left")
    for column in ("row", remote_name, "local model", "match"):
        table.add_column(column)
    remote, local = list(remote or []), list(local or [])
    for i in range(max(len(remote), len(local))):
        r = remote[i] if i < len(remote) else None
        lo = local[i] if i < len(local) else None
        same = r is not None and lo is not None and scoring.same([r], [lo])
        table.add_row(str(i), _value(r), _value(lo), Text("✔", "green") if same else Text("✘", "red"))
    return table


def artifact_tree(artifacts: list) -> Tree:
    tree = Tree("artifacts", guide_style="dim")
    nodes: dict[str, Tree] = {}
    for path in sorted(str(a) for a in artifacts):
        parent, prefix = tree, ""
        for part in path.strip("/").split("/"):
            prefix = f"{prefix}/{part}"
            if prefix not in nodes:
                nodes[prefix] = parent.add(part)
            parent = nodes[prefix]
    return tree


def _train(o: dict) -> list[RenderableType]:
    table = Table(title="MLflow run", title_justify="left")
    for column in ("run id", "experiment", "mse", "model uri"):
        table.add_column(column, overflow="fold")
    mse = (o.get("metrics") or {}).get("mse")
    table.add_row(_value(o.get("run_id")), _value(o.get("experiment_id")),
                  f"{mse:.4f}" if isinstance(mse, (int, float)) else _value(mse), _value(o.get("model_uri")))
    parts: list[RenderableType] = [table]
    if o.get("artifacts"):
        parts.append(artifact_tree(o["artifacts"]))
    return parts + _rest(o, {"run_id", "experiment_id", "metrics", "model_uri", "artifacts"})


def _model(o: dict) -> list[RenderableType]:
    keys = ["run_id", "model_uri", "tracking_uri", "flavor", "python_version", "requirements"]
    parts: list[RenderableType] = [key_values(o, keys, "model")]
    example = o.get("input_example") or {}
    if example.get("columns"):
        table = Table(title="input example", title_justify="left")
        for column in example["columns"]:
            table.add_column(str(column))
        for row in example.get("data", [])[:5]:
            table.add_row(*(_value(v) for v in row))
        parts.append(table)
    if o.get("local_predictions"):
        parts.append(key_values({"local_predictions": o["local_predictions"]}))
    return parts + _rest(o, set(keys) | {"input_example", "local_predictions"})


def _image(o: dict) -> list[RenderableType]:
    keys = ["tag", "image_id", "size", "base", "python_version"]
    return [key_values(o, keys, "image")] + _rest(o, set(keys))


def _push(o: dict) -> list[RenderableType]:
    keys = ["image_uri", "repository_uri", "digest", "registry"]
    return [key_values(o, keys, "pushed image")] + _rest(o, set(keys))


def _deploy(o: dict) -> list[RenderableType]:
    status = o.get("status", "")
    style = "bold green" if status == "InService" else "bold yellow"
    head = Text.assemble("endpoint ", (_value(o.get("endpoint_name")), "bold"), "  status ", (status, style))
    keys = ["endpoint_config", "model_name", "bucket", "model_data_url", "region"]
    return [head, key_values(o, keys)] + _rest(o, set(keys) | {"endpoint_name", "status"})


def _compare(remote_name: str) -> Callable[[dict], list[RenderableType]]:
    def render(o: dict) -> list[RenderableType]:
        parts: list[RenderableType] = []
        if "status" in o:
            parts.append(Text.assemble("endpoint status ", (str(o["status"]), "bold")))
        parts.append(predictions_table(o.get("predictions"), o.get("local_predictions"), remote_name))
        return parts + _rest(o, {"status", "predictions", "local_predictions"})
    return render


def _cleanup(o: dict) -> list[RenderableType]:
    table = Table(title="resources", title_justify="left")
    table.add_column("resource", overflow="fold")
    table.add_column("state")
    for item in o.get("deleted", []):
        table.add_row(_value(item), Text("deleted", "green"))
    for item in o.get("remaining", []):
        table.add_row(_value(item), Text("still there", "bold red"))
    return [table] + _rest(o, {"deleted", "remaining"})


def _rest(o: dict, shown: set[str]) -> list[RenderableType]:
    extra = {k: v for k, v in o.items() if k not in shown}
    return [key_values(extra)] if extra else []


RENDERERS: dict[str, Callable[[dict], list[RenderableType]]] = {
    "train": _train, "model": _model, "image": _image, "push": _push, "deploy": _deploy,
    "smoke": _compare("container"), "predict": _compare("endpoint"), "cleanup": _cleanup,
}


def render_outputs(step_id: str, outputs: dict) -> RenderableType:
    if not outputs:
        return Text("No results yet: run the step to see them here.", style="dim")
    render = RENDERERS.get(step_id)
    return Group(*(render(outputs) if render else [key_values(outputs)]))


class ResultsPanel(Static):
    """Shows the selected step's outputs."""

    def show(self, step_id: str, outputs: dict) -> None:
        self.update(render_outputs(step_id, outputs))
