"""Fixtures for the example studies' tests (``pytest servables/``).

The studies are packages (``servables.cdi_nn``, ...): their tests import them as such.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("MATTERHUB_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data mirror (../shared/data); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="module")
def example_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from hub import Hub

    hub = Hub(tmp_path_factory.mktemp("example-hub"), user="examples", progress=False)
    yield hub
    hub.close()
