"""Pieces the steps' commands by hand share: the aws CLI's options, the local image, the request body, the
Dockerfile and the embedded MLflow server's command (each step's own text is in its module)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from core.tracking.training import FEATURES


def first(*candidates: Any) -> Any:
    """The first candidate that holds something (not None, "", [] or {})."""
    return next((c for c in candidates if c not in (None, "", [], {})), None)


def aws_options(v: dict[str, Any]) -> str:
    """Options every aws CLI call here needs: region, profile, and the emulator in the sandbox."""
    extra = f" --profile {v['profile']}" if v.get("profile") else ""
    if v.get("sandbox_aws_endpoint"):
        extra += f" --endpoint-url {v['sandbox_aws_endpoint']}"
    return f"--region {v['region']}{extra}"


def local_image(v: dict[str, Any]) -> str:
    """The local image reference: the image step's tag (a full reference or a bare tag), else repository:latest."""
    tag = v.get("image_tag") or "latest"
    return tag if ":" in tag else f"{v['repository']}:{tag}"


def request_body(v: dict[str, Any]) -> str:
    """The JSON an MLflow 2+ scoring server takes: the model's input example as dataframe_split."""
    example = v.get("input_example") or {"columns": FEATURES, "data": [["<x1>", "<x2>"]]}
    return json.dumps({"dataframe_split": example})


def dockerfile(v: dict[str, Any]) -> str:
    """The serving image's Dockerfile (also written by `sagewiz export`)."""
    from importlib import resources  # only when a Dockerfile is shown or exported

    template = resources.files("core").joinpath("data", "export", "Dockerfile").read_text(encoding="utf-8")
    return template.replace("__PYTHON_MINOR__", v.get("python_minor") or "3.11")


def address(uri: str) -> tuple[str, int]:
    """Host and port of an http(s) URI (port 80 when none, or when the URI holds no valid one)."""
    where = urlsplit(uri)
    try:
        port = where.port or 80
    except ValueError:  # e.g. a password in the URI that is not url-encoded
        port = 80
    return where.hostname or "", port


def local_server(v: dict[str, Any]) -> str | None:
    """The `mlflow server` command of the embedded tracking server (None for a server of the user's own)."""
    host, port = address(v["tracking_uri"])
    if urlsplit(v["tracking_uri"]).scheme != "http" or host not in ("127.0.0.1", "localhost"):
        return None
    return (f"mlflow server --host {host} --port {port} \\\n"
            f"  --backend-store-uri sqlite:///{v['mlflow_store']}/mlflow.db \\\n"
            f"  --artifacts-destination {v['mlflow_store']}/artifacts")
