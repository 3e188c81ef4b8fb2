"""The workflows in notebooks/workflows run under papermill, `matterhub batch`, and as servables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from hub import Hub
from hub.cli import main

WORKFLOWS = Path(__file__).resolve().parents[2] / "notebooks" / "workflows"
NAMES = ["bandgap_model", "screen_bandgap"]


@pytest.fixture()
def mirror(shared_data, monkeypatch):
    monkeypatch.setenv("MATTERHUB_MIRROR", str(shared_data))
    return shared_data


@pytest.mark.parametrize("name", NAMES)
def test_workflow_under_plain_papermill(name, mirror, tmp_path):
    out = tmp_path / f"{name}.ipynb"
    papermill = Path(sys.executable).with_name("papermill")
    proc = subprocess.run(
        [
            str(papermill),
            "--engine",
            "matterhub",
            str(WORKFLOWS / f"{name}.ipynb"),
            str(out),
            "-p",
            "seed",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import nbformat

    from hub.notebooks.record import read_records

    outputs = read_records(nbformat.read(out, as_version=4))
    assert outputs, "the workflow recorded its outputs"


def test_workflows_as_servables(mirror, tmp_path):
    hub = Hub(tmp_path / "hub", progress=False)
    try:
        for name in NAMES:
            full = hub.publish_servable(
                hub.describe(str(WORKFLOWS / f"{name}.ipynb"), name=name, title=name, authors=["MatterHub"])
            )
            out = hub.run(full, {"seed": 2, "data_dir": str(mirror)}, timeout=240)
            assert out["outputs"] and len(out["notebook_sha256"]) == 64
        model = hub.run(f"{hub.principal.name}/bandgap_model", {"data_dir": str(mirror)}, timeout=240)[
            "outputs"
        ]
        assert 0 < model["mae"] < 2 and model["r2"] > 0.3  # a real fit of the dielectric band gaps
    finally:
        hub.close()


def test_screening_workflow_in_a_batch(mirror, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("low: [0.5, 1.0]\nhigh: [3.0]\n")
    result = CliRunner().invoke(
        main,
        [
            "--hub",
            str(tmp_path / "hub"),
            "-q",
            "batch",
            str(WORKFLOWS / "screen_bandgap.ipynb"),
            "--param-grid",
            str(grid),
            "--out",
            str(tmp_path / "out"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert len(table) == 2 and sorted(table["low"]) == [0.5, 1.0]
    assert json.loads((tmp_path / "out" / "failures.json").read_text()) == []
