"""The ordered steps of the wizard, and what is derived from all of them at once (dependents, project values).

`core.steps.STEPS` is the wizard's registry; the engine, the UIs and export are handed it or import it, so a
step added to it (by `core.steps` itself, or by a test with `added`) shows everywhere with no other edit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from core.runtime.errors import StepError
from core.runtime.redact import redactor
from core.runtime.results import Block, Cell, Line, fields_rows
from core.runtime.step import Shown, Step

if TYPE_CHECKING:
    from core.runtime.outputs import StepOutputs
    from core.runtime.project import Project


class Registry:
    def __init__(self, steps: list[Step]) -> None:
        self._steps = list(steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(list(self._steps))

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(step.id for step in self._steps)

    def get(self, step_id: str) -> Step:
        for step in self._steps:
            if step.id == step_id:
                return step
        raise KeyError(f"Unknown step {step_id!r}: the steps are {', '.join(self.ids)}.")

    def index(self, step_id: str) -> int:
        return self.ids.index(self.get(step_id).id)

    @contextlib.contextmanager
    def added(self, step: Step, after: str) -> Iterator[Step]:
        """The registry with `step` after the step `after`, until the block ends (for a test's own step)."""
        self._steps.insert(self.index(after) + 1, step)
        try:
            yield step
        finally:
            self._steps.remove(step)

    @contextlib.contextmanager
    def swapped(self, step: Step) -> Iterator[Step]:
        """The registry with `step` in place of the step of the same id, until the block ends (for tests)."""
        position = self.index(step.id)
        original, self._steps[position] = self._steps[position], step
        try:
            yield original
        finally:
            self._steps[self.index(step.id)] = original

    def dependents(self, step_id: str) -> list[str]:
        """Every step that consumes or reads this one's outputs, directly or through another step, in order."""
        found: set[str] = set()
        frontier = {step_id}
        while frontier:
            nxt = {s.id for s in self._steps if set(s.consumes + s.reads) & frontier} - found
            found |= nxt
            frontier = nxt
        return [sid for sid in self.ids if sid in found]

    def outputs(self, project: Project, step_id: str) -> StepOutputs | None:
        """A step's saved outputs, typed (None when it has produced none); a StepError if their shape is wrong."""
        saved = project.state.outputs(step_id)
        return self.get(step_id).Outputs.load(step_id, saved) if saved else None

    def results(self, step_id: str, saved: dict[str, Any]) -> list[Block] | None:
        """What a step made, for any UI: None before it made anything; a line saying so when the saved
        results have a shape this version does not read."""
        if not saved:
            return None
        step = self.get(step_id)
        try:
            return step.results(step.Outputs.load(step_id, saved))
        except StepError as exc:
            return [Line([Cell(str(exc), "warn")]), *fields_rows(saved)]

    def values(self, project: Project) -> dict[str, Any]:
        """Every value the commands by hand and the exported scripts use, step by step in order; None where no
        step has produced it yet. Settings and outputs never hold a secret."""
        known: dict[str, Any] = {"sandbox": project.sandbox}
        for step in self._steps:
            try:
                outputs = self.outputs(project, step.id)
            except StepError:  # results of another shape: their step's values fall back to the settings
                outputs = None
            for key, value in step.values(project, outputs, known).items():
                if value is not None or key not in known:
                    known[key] = value
        return known

    def by_hand(self, step_id: str, project: Project | None) -> str:
        """The step's commands by hand with this project's values (its generic text without a project)."""
        step = self.get(step_id)
        if project is None or not project.is_open:
            return step.manual
        return redactor(step.by_hand(Shown(self.values(project))))
