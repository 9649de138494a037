"""One run's full log from disk: lazy view, search (/ then n for the next match) and follow (f)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from tui.components.log_view import LazyLogView


class LogViewerScreen(Screen[None]):
    BINDINGS = [Binding("escape", "back", "Back"), Binding("slash", "search", "Search"),
                Binding("n", "next_match", "Next match"), Binding("f", "toggle_follow", "Follow")]

    def __init__(self, path: Path, follow: bool = False) -> None:
        super().__init__()
        self.path = path
        self._follow = follow

    def compose(self) -> ComposeResult:
        yield Static(str(self.path.name), id="viewer-title", classes="screen-title")
        yield LazyLogView(self.path, id="viewer")
        yield Input(placeholder="search (Enter finds the next match, Escape closes)", id="search")
        yield Footer()

    def on_mount(self) -> None:
        view = self.query_one(LazyLogView)
        view.following = self._follow
        self.query_one("#search", Input).display = False
        view.focus()
        self._title()

    def _title(self) -> None:
        view = self.query_one(LazyLogView)
        parts = [self.path.name, f"{view.line_count:,} lines"]
        if view.following:
            parts.append("following")
        if view.term:
            parts.append(f"search: {view.term}")
        self.query_one("#viewer-title", Static).update("  ·  ".join(parts))

    def on_lazy_log_view_indexed(self, event: LazyLogView.Indexed) -> None:
        self._title()

    def on_lazy_log_view_search_result(self, event: LazyLogView.SearchResult) -> None:
        view = self.query_one(LazyLogView)
        if event.line is None:
            self.notify(f"No line contains {event.term!r}.", severity="warning")
        else:
            view.show_match(event.line)
        self._title()

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.display:
            search.display = False
            self.query_one(LazyLogView).focus()
        else:
            self.app.pop_screen()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value:
            self.query_one(LazyLogView).search(event.value)

    def action_next_match(self) -> None:
        view = self.query_one(LazyLogView)
        if view.term:
            view.search(view.term)
        else:
            self.action_search()

    def action_toggle_follow(self) -> None:
        view = self.query_one(LazyLogView)
        view.following = not view.following
        self._title()
