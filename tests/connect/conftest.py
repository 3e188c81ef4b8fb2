from __future__ import annotations

from pathlib import Path

import ase
import pytest

from hub import Hub

ASE_TESTDATA = Path(ase.__file__).parent / "test" / "testdata"


@pytest.fixture()
def hub(tmp_path: Path) -> Hub:
    h = Hub(tmp_path / "hub", progress=False)
    yield h
    h.close()


@pytest.fixture()
def minerals() -> Path:
    """Real COD mineral CIFs that ship inside the ase wheel (always present)."""
    path = ASE_TESTDATA / "minerals"
    if not path.is_dir():
        pytest.skip("this ase build ships no test data")
    return path


@pytest.fixture()
def blob_files():
    """Lists the blobs of a hub's store."""

    def files(h: Hub) -> list[Path]:
        return [p for p in Path(h.config.store).rglob("*") if p.is_file() and not p.name.startswith(".")]

    return files
