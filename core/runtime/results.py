"""A step's results described without a UI: rows of label and value, tables, a highlighted line, a tree of paths.

Steps build these from their outputs (`Step.results`); the wizard's results panel and the headless CLI render
the same description, each in its own way (tui.render).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Tone = Literal["", "ok", "warn", "bad"]


@dataclass(frozen=True)
class Cell:
    """A value with a tone (ok is green, warn yellow, bad red), strong (bold) or not."""

    text: str
    tone: Tone = ""
    strong: bool = False


Value = str | Cell | Any


@dataclass(frozen=True)
class Rows:
    """Label and value pairs; dicts and lists show as JSON, None as nothing."""

    rows: list[tuple[str, Value]]
    title: str = ""


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Value]]
    title: str = ""


@dataclass(frozen=True)
class Line:
    """One highlighted line made of plain and toned parts."""

    parts: list[str | Cell] = field(default_factory=list)


@dataclass(frozen=True)
class Tree:
    """File paths shown as a tree (artifacts of an MLflow run)."""

    paths: list[str]
    title: str


Block = Rows | Table | Line | Tree


def fields_rows(outputs: Any, names: list[str] | None = None, title: str = "",
                skip: set[str] | None = None) -> list[Rows]:
    """Rows of the named fields of a dataclass (default: all but `skip`); [] when there is none to show."""
    values = vars(outputs) if not isinstance(outputs, dict) else outputs
    chosen = names if names is not None else [n for n in values if n not in (skip or set())]
    rows = [(name, values[name]) for name in chosen if name in values]
    return [Rows(rows, title)] if rows else []


def human_size(size: Any) -> str:
    """Bytes for people: 812 B, 1.5 KB, 231.0 MB."""
    if not isinstance(size, (int, float)):
        return str(size)
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)
