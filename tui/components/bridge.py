"""Core events into the Textual world: log lines buffered for batched writes, the rest as messages."""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING

from textual.message import Message

from core import events

if TYPE_CHECKING:
    from textual.app import App


class CoreEvent(Message):
    """A step lifecycle, progress or resource event from the engine's thread."""

    def __init__(self, event: events.Event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # A queued progress report is superseded by a newer one for the same step.
        return (isinstance(message, CoreEvent) and isinstance(self.event, events.Progress)
                and isinstance(message.event, events.Progress) and message.event.step == self.event.step)


class EventBridge:
    """Bus subscriber, called on any thread. Log lines wait in a queue the app drains every ~50 ms."""

    def __init__(self, app: "App") -> None:
        self._app = app
        self._lines: deque[events.LogLine] = deque()
        self._lock = threading.Lock()

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.LogLine):
            self._lines.append(event)  # deque.append is atomic: no lock on the hot path
        else:
            self._app.post_message(CoreEvent(event))

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
