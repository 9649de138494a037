"""Typed events that core emits instead of printing; the UIs and the log files subscribe."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StepStarted:
    step: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class StepFinished:
    step: str
    outputs: dict[str, Any]
    duration: float
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class StepFailed:
    step: str
    error: str
    duration: float
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class LogLine:
    step: str
    text: str
    source: str = "sagewiz"
    level: str = "info"
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Progress:
    step: str
    current: float
    total: float | None
    label: str = ""
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ResourceChanged:
    step: str
    kind: str
    id: str
    action: str  # intent, created, deleted, gone
    at: float = field(default_factory=time.time)


Event = StepStarted | StepFinished | StepFailed | LogLine | Progress | ResourceChanged
Subscriber = Callable[[Event], None]


class EventBus:
    """Fans events out to subscribers; log text is redacted once here, before anyone sees it."""

    def __init__(self, redact: Callable[[str], str] | None = None) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._redact = redact

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def emit(self, event: Event) -> None:
        if self._redact is not None:
            if isinstance(event, LogLine):
                event = LogLine(event.step, self._redact(event.text), event.source, event.level, event.at)
            elif isinstance(event, StepFailed):
                event = StepFailed(event.step, self._redact(event.error), event.duration, event.at)
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber(event)
