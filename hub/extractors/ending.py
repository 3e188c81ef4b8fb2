"""How a calculation ended: the ``dft.converged`` / ``dft.termination`` pair every calculation extractor fills.

``termination`` is one of :data:`hub.records.record.Termination`: ``normal`` (the
program finished and what it was asked to converge converged), ``not converged``
(the SCF or the geometry did not converge), ``interrupted`` (the output stops before
the program's end: killed by the scheduler, out of walltime, truncated) or ``error``
(the program stopped on an error it reported).  ``converged`` is true exactly when
the termination is ``normal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.records.record import Termination

#: The longest ``termination_reason`` kept (a line quoted from the output is cut there).
MAX_REASON = 200


@dataclass(frozen=True)
class Ending:
    """How one calculation ended, and why when it did not end normally.

    Attributes
    ----------
    termination : str
        ``normal``, ``not converged``, ``interrupted`` or ``error``.
    reason : str or None
        One sentence for people (a line quoted from the output, or what is missing from it).
    """

    termination: Termination
    reason: str | None = None

    @property
    def converged(self) -> bool:
        """Whether the run ended normally with everything converged."""
        return self.termination == "normal"

    def fields(self) -> dict[str, Any]:
        """The ``dft`` fields: ``converged``, ``termination`` and, when there is one, ``termination_reason``."""
        out: dict[str, Any] = {"converged": self.converged, "termination": self.termination}
        if self.reason:
            reason = " ".join(self.reason.split())
            out["termination_reason"] = (
                reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 3] + "..."
            )
        return out


NORMAL = Ending("normal")
