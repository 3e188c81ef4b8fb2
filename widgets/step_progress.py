"""A progress bar that follows a submission's Connect steps (collect, extract, merge,
validate, curate, dispatch), with each step's status and detail underneath."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

STEPS = ("collect", "extract", "merge", "validate", "curate", "dispatch")
_MARK = {"pending": "○", "running": "◔", "done": "●", "skipped": "-", "failed": "✕"}
_BAR_STYLE = {"complete": "success", "pending_curation": "info", "failed": "danger", "interrupted": "danger"}


class StepProgress(w.VBox):
    """``update(submission)`` with any object carrying ``status`` and ``steps`` (a
    :class:`~hub.connect.submission.Submission`); ``seen`` lists every (status, running step)
    shown, in order."""

    def __init__(self) -> None:
        self.bar = w.IntProgress(
            value=0, min=0, max=len(STEPS), description="", layout=w.Layout(width="560px")
        )
        self.bar.add_class("mh-progress")
        self.steps = w.HTML()
        self.steps.add_class("mh-steps")
        self.seen: list[tuple[str, str | None]] = []
        super().__init__([self.bar, self.steps])
        self.layout.display = "none"

    def reset(self) -> None:
        self.seen = []
        self.bar.value = 0
        self.bar.bar_style = ""
        self.steps.value = ""
        self.layout.display = None

    def update(self, sub: Any) -> None:
        steps = list(getattr(sub, "steps", None) or [])
        finished = sum(1 for s in steps if s.get("status") in ("done", "skipped"))
        running = next((s["name"] for s in steps if s.get("status") == "running"), None)
        self.seen.append((sub.status, running))
        with self.bar.hold_sync():
            self.bar.value = finished
            self.bar.description = running or sub.status
            self.bar.bar_style = _BAR_STYLE.get(sub.status, "")
        rows = "".join(_row(s) for s in steps)
        self.steps.value = f"<table style='font-size:12px'>{rows}</table>"


def _row(step: dict[str, Any]) -> str:
    status = str(step.get("status", ""))
    secs = step.get("seconds")
    took = "" if secs is None else f"{secs:.2f} s"
    return (
        f"<tr class='mh-step-{status}'><td>{_MARK.get(status, '?')}</td><td>{html.escape(step['name'])}</td>"
        f"<td>{html.escape(status)}</td><td style='text-align:right'>{took}</td>"
        f"<td style='color:#555'>{html.escape(str(step.get('detail') or ''))}</td></tr>"
    )
