"""A submission interrupted mid-way leaves no visible dataset and can be retried."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from hub import Hub
from hub.connect import pipeline as pipeline_mod
from hub.connect import versions as versions_mod

AUTHORS = ["Ward, Logan"]


def test_exception_after_extraction_leaves_nothing_and_retry_works(hub, minerals, monkeypatch):
    def boom(self, bodies, root, version):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline_mod._Run, "validate_records", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        hub.submit(minerals, title="Flaky", authors=AUTHORS)
    (sub,) = hub.submissions()
    assert sub.status == "failed" and "disk on fire" in sub.message
    assert sub.step("extract")["status"] == "done" and sub.step("validate")["status"] == "failed"
    assert hub.datasets() == [] and hub.stats()["records"] == 0

    monkeypatch.undo()
    again = hub.retry(sub.id)
    assert again.id == sub.id and again.status == "complete", again.report()
    assert hub.dataset("flaky").n_files == len(list(minerals.iterdir()))


def test_failure_inside_the_transaction_rolls_back(hub, minerals, monkeypatch):
    real = versions_mod.stamp_record
    calls = {"n": 0}

    def fail_late(r, doc):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("crash while stamping records")
        return real(r, doc)

    monkeypatch.setattr(versions_mod, "stamp_record", fail_late)
    with pytest.raises(RuntimeError):
        hub.submit(minerals, title="Half", authors=AUTHORS)
    assert hub.datasets(all_versions=True) == [] and hub.stats() == {"datasets": 0, "records": 0, "files": 0}


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from hub import Hub
    from hub.connect import pipeline

    def die(self, bodies, root, version):
        os.kill(os.getpid(), signal.SIGKILL)

    pipeline._Run.validate_records = die
    Hub(sys.argv[1], progress=False).submit(sys.argv[2], title="Killed", authors=["Ward, Logan"])
    """
)


def test_killed_process_is_marked_interrupted_and_can_be_retried(tmp_path, minerals):
    home = tmp_path / "hub"
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(home), str(minerals)], capture_output=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    hub = Hub(home, progress=False)
    (sub,) = hub.submissions()
    assert sub.status == "interrupted" and "retry" in sub.message.lower()
    assert hub.datasets(all_versions=True) == []
    assert not (home / "staging" / sub.id).exists()
    done = hub.retry(sub.id)
    assert done.status == "complete" and done.source_id == "killed_v1"
    assert os.path.exists(home / "catalog.sqlite")
