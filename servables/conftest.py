"""Fixtures for the example servables' tests (``pytest servables/``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
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


@pytest.fixture(scope="session")
def load_script() -> object:
    """``load_script("cdi_nn")``: the module ``servables/cdi_nn/publish.py``."""
    return import_script


def import_script(folder: str, name: str = "publish") -> object:
    """Import ``servables/<folder>/<name>.py`` (the folders are not packages)."""
    import importlib.util

    path = HERE / folder / f"{name}.py"
    mod_name = f"_servable_{folder}_{name}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module
