"""A submission's public face: its id, status, steps and per-file errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.db.models import SubmissionRow

#: Steps in order; each has a status, timings and a detail line.
STEPS = ("collect", "extract", "merge", "validate", "curate", "dispatch")
#: Statuses a submission ends in.
FINAL = frozenset({"complete", "pending_curation", "failed", "interrupted", "rejected"})


def new_steps(previous: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The steps of a submission not yet run: each of :data:`STEPS`, ``pending``.

    A step of ``previous`` (the steps of a run that stopped) holding a ``resume`` state
    keeps it: a harvest continues from the page where it stopped.
    """
    kept = {s["name"]: s["resume"] for s in previous or [] if isinstance(s, dict) and "resume" in s}
    return [
        {"name": s, "status": "pending", "seconds": None, "detail": ""}
        | ({"resume": kept[s]} if s in kept else {})
        for s in STEPS
    ]


@dataclass
class Submission:
    """A submission as its owner and the curators see it (a copy of its catalog row).

    Attributes
    ----------
    id : str
        The submission's id.
    status : str
        ``queued``, ``running``, or one of :data:`FINAL`.
    source : str
        What was submitted (a path or URL).
    source_name : str
        The dataset the submission makes a version of.
    source_id : str or None
        The version it made, once there is one.
    owner : str
        The name of the user who submitted it (``"<name> (deleted)"`` once deleted).
    steps : list of dict
        Each of :data:`STEPS`: ``name``, ``status``, ``seconds`` and ``detail``.
    errors : list of dict
        The per-file errors (``path``, ``extractor``, ``message``, ...).
    message : str or None
        Why the submission failed, or the curator's verdict.
    created_at, updated_at : datetime or None
        When it was made and last changed.
    """

    id: str
    status: str
    source: str
    source_name: str
    source_id: str | None
    owner: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    created_at: Any = None
    updated_at: Any = None

    @classmethod
    def from_row(cls, row: SubmissionRow, owner: str) -> Submission:
        """The submission a catalog row holds (its steps and errors copied), ``owner`` the name its owner's id shows as."""
        return cls(
            id=row.id,
            status=row.status,
            source=row.source,
            source_name=row.source_name,
            source_id=row.source_id,
            owner=owner,
            steps=list(row.steps or []),
            errors=list(row.errors or []),
            message=row.message,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @property
    def done(self) -> bool:
        """Whether the submission has ended (its status is one of :data:`FINAL`)."""
        return self.status in FINAL

    @property
    def ok(self) -> bool:
        """Whether the submission made a version (``complete`` or ``pending_curation``)."""
        return self.status in ("complete", "pending_curation")

    def step(self, name: str) -> dict[str, Any]:
        """The step called ``name`` (one of :data:`STEPS`)."""
        return next(s for s in self.steps if s["name"] == name)

    def to_dict(self) -> dict[str, Any]:
        """The submission as JSON-ready data (times as ISO 8601 text)."""
        return {
            "id": self.id,
            "status": self.status,
            "source": self.source,
            "source_name": self.source_name,
            "source_id": self.source_id,
            "owner": self.owner,
            "steps": self.steps,
            "errors": self.errors,
            "message": self.message,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }

    def report(self) -> str:
        """A few lines for people: status, each step, each error."""
        lines = [f"submission {self.id}: {self.status}" + (f" -> {self.source_id}" if self.source_id else "")]
        if self.message:
            lines.append(f"  {self.message}")
        for s in self.steps:
            secs = f"{s['seconds']:.2f}s" if s.get("seconds") is not None else ""
            lines.append(f"  {s['name']:<9} {s['status']:<8} {secs:>8}  {s.get('detail', '')}".rstrip())
        for e in self.errors:
            who = f" [{e['extractor']}]" if e.get("extractor") else ""
            lines.append(f"  error{who} {e['path']}: {e['message']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.status} source_id={self.source_id!r} errors={len(self.errors)}>"

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(self.report()) + "</pre>"
