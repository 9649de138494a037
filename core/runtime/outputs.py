"""A step's typed results: a dataclass saved as JSON in the state file, checked against its fields on load.

Every step declares `Outputs` (a subclass of `StepOutputs`). What it returns is saved with `to_json`; what a
later step reads comes back through `load`, which refuses a record whose shape does not match (a state file
from an older sagewiz, or one edited by hand) with a sentence, instead of a KeyError half way through a step.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar, Union

from core.runtime.errors import StepError

OutputsT = TypeVar("OutputsT", bound="StepOutputs")


@dataclasses.dataclass(frozen=True)
class StepOutputs:
    """Base of every step's outputs (a step that produces nothing keeps it empty)."""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def load(cls: type[OutputsT], step: str, data: dict[str, Any]) -> OutputsT:
        """The outputs from their JSON form; a StepError naming the step when the shape does not match."""
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name not in data:
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                    raise _mismatch(step, f"it has no {field.name!r}")
                continue
            value = data[field.name]
            if not _fits(value, hints[field.name]):
                raise _mismatch(step, f"{field.name!r} is {type(value).__name__}, not {hints[field.name]}")
            values[field.name] = value
        return cls(**values)


def _mismatch(step: str, why: str) -> StepError:
    return StepError(f"The {step} step's saved results do not have the shape this sagewiz expects ({why}): the "
                     f"state file is from another version or was edited. Run the {step} step again: "
                     f"sagewiz run --only {step}")


def _fits(value: Any, hint: Any) -> bool:
    """A shallow check of a JSON value against a field's annotation (containers by kind, not by item)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    kind = origin or hint
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
