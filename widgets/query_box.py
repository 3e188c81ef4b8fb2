"""The query box: Lucene-style text with field-name suggestions taken from ``hub.fields()``.

Typing the start of a field (``crystal_st``) offers the matching fields; picking one
completes the word under the cursor to ``crystal_structure.volume:``.  Enter (or the
Search button) runs the query.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable

import ipywidgets as w

#: The word being typed at the end of the query: a field path so far.
_LAST_WORD = re.compile(r"([A-Za-z_][\w.]*)$")


def suggest(text: str, fields: Iterable[str], limit: int = 12) -> list[str]:
    """Completions of ``text``: the text with its last word completed to a field and ``:``.

    Fields that start with the word come first, then those containing it.
    """
    m = _LAST_WORD.search(text)
    if not m:
        return []
    word = m.group(1)
    head = text[: m.start()]
    low = word.lower()
    names = sorted(set(fields))
    first = [f for f in names if f.lower().startswith(low)]
    then = [f for f in names if low in f.lower() and f not in first]
    if len(first) == 1 and first[0] == word:  # already complete
        return []
    return [f"{head}{f}:" for f in (first + then)[:limit]]


class QueryBox(w.VBox):
    """``on_submit(callback)``: ``callback(text)`` on Enter or the Search button."""

    def __init__(
        self, fields: Iterable[str], placeholder: str = "material.elements:Co AND dft.converged:true"
    ):
        self.fields = sorted(set(fields))
        self._callbacks: list[Callable[[str], None]] = []
        self.text = w.Combobox(
            value="",
            placeholder=placeholder,
            options=[],
            ensure_option=False,
            continuous_update=True,
            layout=w.Layout(width="100%"),
        )
        self.text.add_class("mh-query")
        self.button = w.Button(description="Search", button_style="primary", icon="search")
        self.button.add_class("mh-search-button")
        self.text.observe(self._typed, names="value")
        with warnings.catch_warnings():  # Enter: the text's own submit event (kept, but deprecated)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.text.on_submit(lambda _t: self.submit())
        self.button.on_click(lambda _b: self.submit())
        self._last_submitted: str | None = None
        self.hint = w.HTML(
            "<span style='font-size:11px;color:#666'>Lucene syntax: <code>field:value</code>, "
            "<code>AND</code>/<code>OR</code>/<code>NOT</code>, <code>[a TO b]</code>, "
            "<code>term~1</code>, <code>pre*</code>; Enter runs it.</span>"
        )
        row = w.HBox([self.text, self.button], layout=w.Layout(width="100%"))
        super().__init__([row, self.hint])

    def on_submit(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def _typed(self, change: dict[str, object]) -> None:
        text = str(change["new"])
        options = suggest(text, self.fields)
        if text in options or text.endswith(":"):  # a suggestion was picked: keep typing the value
            options = []
        if list(self.text.options) != options:
            self.text.options = options

    def submit(self, text: str | None = None) -> None:
        if text is not None:
            self.text.value = text
        value = self.text.value.strip() or "*"
        self._last_submitted = value
        for cb in self._callbacks:
            cb(value)
