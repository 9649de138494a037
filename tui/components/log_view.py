"""A virtual view of a log file: lines are read from disk only when shown, so a million lines open at once."""

from __future__ import annotations

import os
import re
from array import array
from bisect import bisect_right
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

CHUNK = 4 * 1024 * 1024
MATCH = Style(bgcolor="yellow", color="black")
CURRENT = Style(bgcolor="grey23")


class LazyLogView(ScrollView, can_focus=True):
    """Indexes line offsets in a thread worker (in chunks, the view usable from the first one)."""

    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
        Binding("end,G", "scroll_end", "Bottom", show=False),
    ]

    following: reactive[bool] = reactive(False)

    class Indexed(Message):
        """The whole file (as of now) is indexed."""

        def __init__(self, lines: int) -> None:
            super().__init__()
            self.lines = lines

    class SearchResult(Message):
        def __init__(self, term: str, line: int | None) -> None:
            super().__init__()
            self.term, self.line = term, line

    def __init__(self, path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = Path(path)
        self._offsets = array("Q", [0])  # start of each line; the last entry is the end of the indexed part
        self._scanned = 0
        self._widest = 0
        self._cache: LRUCache[int, str] = LRUCache(4096)
        self._handle = open(self.path, "rb")
        self.term = ""
        self.match_line: int | None = None

    @property
    def line_count(self) -> int:
        return len(self._offsets) - 1

    def on_mount(self) -> None:
        self.run_worker(self._index, thread=True, group="index", exclusive=True, exit_on_error=False)
        self.set_interval(0.3, self._poll)

    def on_unmount(self) -> None:
        self._handle.close()

    # Indexing ---------------------------------------------------------------
    def _index(self) -> None:
        """Scan from where the last scan stopped; hand each chunk's offsets to the UI thread."""
        with open(self.path, "rb") as handle:
            position = self._scanned
            handle.seek(position)
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                starts, widest, previous = [], 0, 0
                for match in re.finditer(b"\n", chunk):
                    end = match.end()
                    widest = max(widest, end - previous)
                    starts.append(position + end)
                    previous = end
                position += len(chunk)
                if starts:  # a line longer than a chunk is counted when its newline arrives
                    self.app.call_from_thread(self._extend, starts, widest)
        self.post_message(self.Indexed(self.line_count))

    def _extend(self, starts: list[int], widest: int) -> None:
        self._offsets.extend(starts)
        self._scanned = starts[-1]
        self._widest = max(self._widest, widest)
        self.virtual_size = Size(self._widest + 2, self.line_count)
        if self.following:
            self.scroll_end(animate=False, immediate=True)

    def _poll(self) -> None:
        """Pick up lines appended since the last scan (follow mode, or a step still writing)."""
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return
        if size > self._scanned and not any(w.group == "index" and w.is_running for w in self.workers):
            self.run_worker(self._index, thread=True, group="index", exclusive=True, exit_on_error=False)

    def on_lazy_log_view_indexed(self, event: Indexed) -> None:
        if self.following:
            self.scroll_end(animate=False, immediate=True)

    # Rendering --------------------------------------------------------------
    def line_text(self, index: int) -> str:
        text = self._cache.get(index)
        if text is None:
            start, end = self._offsets[index], self._offsets[index + 1]
            self._handle.seek(start)
            text = self._handle.read(end - start).decode("utf-8", "replace").rstrip("\r\n").expandtabs()
            self._cache[index] = text
        return text

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if index >= self.line_count:
            return Strip.blank(width, self.rich_style)
        text = Text(self.line_text(index), style=CURRENT if index == self.match_line else "")
        if self.term:
            text.highlight_words([self.term], MATCH, case_sensitive=False)
        segments = list(text.render(self.app.console))
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return strip.apply_style(self.rich_style)

    def watch_following(self, following: bool) -> None:
        if following:
            self.scroll_end(animate=False, immediate=True)

    # Search -----------------------------------------------------------------
    def search(self, term: str) -> None:
        """Find the next line containing `term` (case-insensitive) after the current match, wrapping once."""
        self.term = term
        self._cache.clear()
        start_line = (self.match_line + 1) if self.match_line is not None else int(self.scroll_offset.y)
        start = self._offsets[min(start_line, self.line_count)]
        self.run_worker(lambda: self._search(term, start), thread=True, group="search", exclusive=True,
                        exit_on_error=False)

    def _search(self, term: str, start: int) -> None:
        needle = term.lower().encode("utf-8")
        found = self._find(needle, start, self._scanned)
        if found is None and start > 0:
            found = self._find(needle, 0, start)
        line = None if found is None else bisect_right(self._offsets, found) - 1
        self.post_message(self.SearchResult(term, line))

    def _find(self, needle: bytes, start: int, stop: int) -> int | None:
        overlap = max(0, len(needle) - 1)
        with open(self.path, "rb") as handle:
            position = start
            while position < stop:
                handle.seek(position)
                chunk = handle.read(min(CHUNK, stop - position) + overlap).lower()
                hit = chunk.find(needle)
                if hit >= 0:
                    return position + hit
                position += CHUNK
        return None

    def show_match(self, line: int) -> None:
        self.match_line = line
        self.following = False
        self.scroll_to(y=max(0, line - self.size.height // 2), animate=False, immediate=True)
        self.refresh()
