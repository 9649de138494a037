"""Saved step results for tests that start part way: the fields a test names, blanks for the rest."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from core.steps import STEPS

BLANKS: dict[Any, Any] = {str: "", int: 0, float: 0.0, bool: False, list: [], dict: {}}


def _blank(hint: Any) -> Any:
    if type(None) in typing.get_args(hint):
        return None
    return BLANKS.get(typing.get_origin(hint) or hint, None)


def outputs_of(step_id: str, **given: Any) -> dict[str, Any]:
    """JSON outputs of `step_id` as its Outputs class loads them: `given` plus a blank for every other field."""
    cls = STEPS.get(step_id).Outputs
    hints = typing.get_type_hints(cls)
    saved = {f.name: given.pop(f.name) if f.name in given else _blank(hints[f.name]) for f in dataclasses.fields(cls)}
    if given:
        raise TypeError(f"The {step_id} step has no outputs named {', '.join(given)}")
    cls.load(step_id, saved)
    return saved
