"""Recovery of submissions whose process died while running them.

A submission's row names the host and pid running it.  When that process is gone
(killed, or the machine restarted), nothing it did is visible (its version commits
in one transaction), so the submission is marked ``interrupted``, its staging folder
is removed, and it can be retried.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from hub.db.database import Database


def recover_interrupted(catalog: Database, staging_root: Path) -> list[str]:
    """Mark the running submissions of this host whose process is gone as interrupted.

    Parameters
    ----------
    catalog
        The catalog holding the submissions.
    staging_root
        The folder holding each submission's staging folder (named by its id).

    Returns
    -------
    list of str
        The ids of the submissions marked interrupted.
    """
    host = socket.gethostname()
    marked = []
    for row in catalog.running_submissions():
        if row.host == host and row.pid and not pid_alive(row.pid):
            steps = [{**s, "status": "failed"} if s["status"] == "running" else s for s in row.steps]
            catalog.update_submission(
                row.id,
                status="interrupted",
                steps=steps,
                message="the process running this submission stopped before it finished; "
                f"nothing was published. Retry with hub.retry({row.id!r}) or `matterhub submit --retry {row.id}`",
            )
            shutil.rmtree(staging_root / row.id, ignore_errors=True)
            marked.append(row.id)
    return marked


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
