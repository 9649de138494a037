"""Core events into the Textual world: log lines buffered for batched writes, each other event its own message."""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from textual.message import Message

from core.runtime import events

if TYPE_CHECKING:
    from textual.app import App

E = TypeVar("E", events.StepStarted, events.StepFinished, events.StepFailed, events.Progress,
            events.ResourceChanged)


class CoreMessage(Message, Generic[E]):
    """A core event from the engine's thread, carried as `event`; the app handles each kind by its own name."""

    def __init__(self, event: E) -> None:
        super().__init__()
        self.event: E = event


class EventBridge:
    """Bus subscriber, called on any thread. Log lines wait in a queue the app drains every ~50 ms; every other
    event is posted to the app as the message of its type (`on_event_bridge_step_started` and so on)."""

    class StepStarted(CoreMessage[events.StepStarted]):
        """A step began: `event` is core's `StepStarted`."""

    class StepFinished(CoreMessage[events.StepFinished]):
        """A step ended well: `event` is core's `StepFinished`."""

    class StepFailed(CoreMessage[events.StepFailed]):
        """A step ended badly or was cancelled: `event` is core's `StepFailed`."""

    class Progress(CoreMessage[events.Progress]):
        """A running step's progress: `event` is core's `Progress`."""

        def can_replace(self, message: Message) -> bool:
            # A queued progress report is superseded by a newer one for the same step.
            return isinstance(message, EventBridge.Progress) and message.event.step == self.event.step

    class ResourceChanged(CoreMessage[events.ResourceChanged]):
        """An AWS resource entered or left the ledger: `event` is core's `ResourceChanged`."""

    # Which message each core event type (other than LogLine) becomes.
    MESSAGES: ClassVar[dict[type[Any], type[CoreMessage[Any]]]] = {
        events.StepStarted: StepStarted,
        events.StepFinished: StepFinished,
        events.StepFailed: StepFailed,
        events.Progress: Progress,
        events.ResourceChanged: ResourceChanged,
    }

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._lines: deque[events.LogLine] = deque()
        self._lock = threading.Lock()

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.LogLine):
            self._lines.append(event)  # deque.append is atomic: no lock on the hot path
            return
        message = self.MESSAGES.get(type(event))
        if message is not None:
            self._app.post_message(message(event))

    def drain(self) -> list[events.LogLine]:
        """Every queued line, oldest first; called on the UI thread."""
        with self._lock:
            taken = []
            pop = self._lines.popleft
            try:
                while True:
                    taken.append(pop())
            except IndexError:
                pass
        return taken


def format_line(event: events.LogLine) -> str:
    """One log panel line: plain text (the panel is a `Log`), level marked when it is not info."""
    level = "" if event.level == "info" else f"{event.level.upper()} "
    return f"{level}[{event.source}] {event.text}"
