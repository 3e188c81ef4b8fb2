"""Fixtures of the widget tests: real hubs built from ../shared/data, and a comm recorder
that counts the messages widgets would send to a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import comm
import pytest
from widget_comms import CommLog, RecordingComm

from hub import Hub


@pytest.fixture(scope="session")
def search_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub of two real datasets: MDF's MaterialsIO test files and ASE's COD minerals."""
    home = tmp_path_factory.mktemp("widget-hub")
    with Hub(home, progress=False) as hub:
        for path, name, title in (
            (shared_data / "materialsio", "materialsio", "MaterialsIO test files"),
            (shared_data / "ase" / "minerals", "minerals", "COD minerals (ASE test data)"),
        ):
            sub = hub.submit(path, title=title, authors=["Ward, Logan"], source_name=name)
            assert sub.status == "complete", sub.report()
    return home


@pytest.fixture()
def search_hub(search_home: Path) -> Iterator[Hub]:
    hub = Hub(search_home, progress=False)
    yield hub
    hub.close()


@pytest.fixture()
def fresh_hub(tmp_path: Path) -> Iterator[Hub]:
    hub = Hub(tmp_path / "hub", progress=False)
    yield hub
    hub.close()


@pytest.fixture()
def comm_log(monkeypatch: pytest.MonkeyPatch) -> CommLog:
    """Every widget made during the test sends its messages here (a browser would get them)."""
    log = CommLog()
    monkeypatch.setattr(comm, "create_comm", lambda **kw: RecordingComm(log, **kw))
    return log
