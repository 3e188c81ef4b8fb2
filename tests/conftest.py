"""Shared fixtures.  Tests that need the real files in ../shared/data take the
``shared_data`` fixture and skip cleanly when the folder is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MATTERHUB_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data mirror (../shared/data); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture()
def hub_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty hub directory used as $MATTERHUB_HOME."""
    home = tmp_path / "hubhome"
    monkeypatch.setenv("MATTERHUB_HOME", str(home))
    return home
