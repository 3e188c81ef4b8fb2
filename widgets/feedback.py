"""One status line per panel: what just happened, or what went wrong and how to fix it.

Callbacks of a widget run in the kernel, where an exception is lost to the person
looking at the page (Voila shows nothing).  :meth:`Status.guard` catches it and
shows the hub's message (which says what was received, what is allowed and how to
fix it) on the line instead.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

import ipywidgets as w

from hub.exceptions import HubError

_COLORS = {"info": "#444", "ok": "#1a7f37", "error": "#b42318"}


class Status(w.HTML):
    """A line of text with a kind (``info``, ``ok``, ``error``) kept in ``kind``."""

    def __init__(self, css_class: str = "mh-status") -> None:
        super().__init__(value="")
        self.kind = "info"
        self.text = ""
        self.add_class(css_class)

    def show(self, text: str, kind: str = "info") -> None:
        self.kind, self.text = kind, text
        body = html.escape(text).replace("\n", "<br>")
        if kind == "error":
            body = f"<pre style='white-space:pre-wrap;margin:0'>{html.escape(text)}</pre>"
        self.value = f"<div class='mh-status-{kind}' style='color:{_COLORS.get(kind, '#444')}'>{body}</div>"

    def info(self, text: str) -> None:
        self.show(text, "info")

    def ok(self, text: str) -> None:
        self.show(text, "ok")

    def error(self, exc: BaseException | str) -> None:
        if isinstance(exc, HubError):
            text = exc.message
        elif isinstance(exc, BaseException):
            text = f"{exc.__class__.__name__}: {exc}"
        else:
            text = exc
        self.show(text, "error")

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Show any exception raised inside on this line instead of losing it."""
        try:
            yield
        except Exception as exc:
            self.error(exc)
