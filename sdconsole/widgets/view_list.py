"""Provides `ViewList`: the queue's views (built-in and saved) with their open-ticket counts."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from sdconsole.domain.views import QueueView


class ViewList(OptionList):
    """One line per view: its name and, once counted, how many open tickets it holds."""

    DEFAULT_CSS = """
    ViewList {
        width: 24;
        height: 1fr;
        border: none;
        border-right: vkey $foreground 20%;
        padding: 0;
        &:focus { border: none; border-right: vkey $accent; }
    }
    """

    @dataclass
    class Chosen(Message):
        """The engineer picked a view."""

        view: QueueView

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.views: dict[str, QueueView] = {}
        self.counts: dict[str, int] = {}

    def show_views(self, views: list[QueueView], current: str | None) -> None:
        """List these views (keeping counts already known) and highlight `current`."""
        self.views = {view.key: view for view in views}
        self._redraw(current)

    def show_counts(self, counts: dict[str, int]) -> None:
        self.counts.update(counts)
        current = None
        if self.highlighted is not None:
            current = self.get_option_at_index(self.highlighted).id
        self._redraw(current)

    def _redraw(self, current: str | None) -> None:
        width = max(10, (self.size.width or 24) - 2)
        options = []
        for key, view in self.views.items():
            count = self.counts.get(key)
            label = Text(no_wrap=True, overflow="ellipsis")
            label.append(("⚑ " if view.shared else "") + view.title)
            if count is not None:
                figure = str(count)
                label.truncate(width - len(figure) - 1, overflow="ellipsis")
                label.append(" " * max(1, width - label.cell_len - len(figure)))
                label.append(figure, style="bold" if count else "dim")
            options.append(Option(label, id=key))
        self.clear_options()
        self.add_options(options)
        if current in self.views:
            self.highlighted = list(self.views).index(current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id in self.views:
            self.post_message(self.Chosen(self.views[event.option.id]))
