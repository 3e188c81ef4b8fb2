"""environment.yml and binder/ are derived from pyproject.toml and must agree with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _derive():
    spec = importlib.util.spec_from_file_location("derive_envs", ROOT / "binder" / "derive_envs.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_environment_files_match_pyproject():
    derive = _derive()
    for path, text in derive.outputs().items():
        assert path.read_text() == text, f"{path.name} is stale: run `make envfiles`"


def test_every_core_dependency_is_in_the_binder_environment():
    derive = _derive()
    binder = (ROOT / "binder" / "environment.yml").read_text()
    for req in derive.requirements(derive.EXTRAS):
        name = derive._name(req)
        if name in derive.PIP_ONLY:
            assert f"      - {req}" in binder
        else:
            assert f"  - {derive.CONDA_NAMES.get(name, name)}" in binder
