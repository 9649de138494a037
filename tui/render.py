"""Rich pictures of what core describes without a UI: a step's results (core.runtime.results blocks).

The wizard's results panel and the headless CLI both render through here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from core.runtime import results

TONES = {"": "", "ok": "green", "warn": "yellow", "bad": "red"}


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def _cell(value: Any) -> str | Text:
    if isinstance(value, results.Cell):
        style = " ".join(part for part in ("bold" if value.strong else "", TONES[value.tone]) if part)
        return Text(value.text, style)
    return _text(value)


def _rows(block: results.Rows) -> Table:
    table = Table(show_header=False, box=None, title=block.title or None, title_justify="left", padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in block.rows:
        table.add_row(label, _cell(value))
    return table


def _table(block: results.Table) -> Table:
    table = Table(title=block.title or None, title_justify="left")
    for column in block.columns:
        table.add_column(column, overflow="fold")
    for row in block.rows:
        table.add_row(*(_cell(value) for value in row))
    return table


def _line(block: results.Line) -> Text:
    return Text.assemble(*(_cell(part) if isinstance(part, results.Cell) else part for part in block.parts))


def _tree(block: results.Tree) -> Tree:
    tree = Tree(block.title, guide_style="dim")
    nodes: dict[str, Tree] = {}
    for path in sorted(block.paths):
        parent, prefix = tree, ""
        for part in path.strip("/").split("/"):
            prefix = f"{prefix}/{part}"
            if prefix not in nodes:
                nodes[prefix] = parent.add(part)
            parent = nodes[prefix]
    return tree


# How each kind of results block is drawn, looked up by the block's type.
RENDER: dict[type[Any], Callable[[Any], RenderableType]] = {
    results.Rows: _rows, results.Table: _table, results.Line: _line, results.Tree: _tree}


def render_results(blocks: list[results.Block] | None) -> RenderableType:
    """A step's results; None (no results yet) says so."""
    if blocks is None:
        return Text("No results yet: run the step to see them here.", style="dim")
    return Group(*(RENDER[type(block)](block) for block in blocks))
