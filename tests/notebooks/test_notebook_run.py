"""Running notebooks on pooled kernels: injection, outputs, errors, isolation, batch, CLI."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hub.notebooks.batch import expand_grid, run_batch
from hub.notebooks.record import RecordedFigure, read_records
from hub.notebooks.runner import inspect_parameters, run_notebook


def test_parameters_are_inspected(roundtrip_nb: Path) -> None:
    found = inspect_parameters(roundtrip_nb)
    assert list(found) == ["n", "x", "label", "flag"]
    assert found["n"]["default"] == "2"


def test_injection_and_every_output_type(roundtrip_nb: Path, pool: object) -> None:
    run = run_notebook(roundtrip_nb, {"n": 3, "x": 2.0, "label": "z", "flag": False}, pool=pool)
    assert run.ok, run.error
    out = run.outputs
    assert out["n"] == 3 and out["x"] == 4.0 and out["label"] == "z" and out["flag"] is True
    assert (
        out["nothing"] is None and out["items"] == [1, "a", [2.5]] and out["mapping"] == {"a": 1, "b": [1, 2]}
    )
    assert math.isnan(out["nan"])
    assert out["arr"].dtype == np.float32 and np.array_equal(
        out["arr"], np.arange(9, dtype="float32").reshape(3, 3)
    )
    assert out["iarr"].dtype == np.int64
    expected = pd.DataFrame({"a": np.arange(3), "b": ["z"] * 3}, index=pd.Index(list("pqr"), name="k"))
    pd.testing.assert_frame_equal(out["frame"], expected)
    pd.testing.assert_series_equal(out["series"], pd.Series([1.5, 2.5], name="s"))
    assert isinstance(out["fig"], RecordedFigure) and out["fig"].png.startswith(b"\x89PNG")
    # the executed notebook holds the records (what the runner read back)
    assert set(read_records(run.notebook)) == set(out)


def test_failing_cell_reports_index_and_exception(failing_nb: Path, pool: object, tmp_path: Path) -> None:
    out = tmp_path / "out.ipynb"
    run = run_notebook(failing_nb, {"fail": True, "value": 7}, output_path=out, pool=pool)
    assert not run.ok and run.error is not None
    assert run.error.source_cell_index == 2  # as written: parameters cell 0, record cell 1
    assert run.error.cell_index == 3  # in the executed notebook, after the injected parameters cell
    assert run.error.ename == "ValueError" and run.error.evalue == "bad value 7"
    assert run.outputs == {"before": 7}  # what ran before the failure is kept
    assert out.is_file()
    with pytest.raises(Exception, match="cell 2"):
        run.raise_for_error()


def test_pooled_runs_share_no_state(make_nb: Any, pool: object) -> None:
    nb = make_nb(
        "leak.ipynb",
        "mark = 0",
        "import os\nfrom hub.notebooks import record\n"
        "record('seen', globals().get('LEAKED'))\nLEAKED = mark\nrecord('pid', os.getpid())",
    )
    first = run_notebook(nb, {"mark": 1}, pool=pool).raise_for_error()
    second = run_notebook(nb, {"mark": 2}, pool=pool).raise_for_error()
    assert first.outputs["seen"] is None and second.outputs["seen"] is None
    assert first.outputs["pid"] != second.outputs["pid"]


def test_grid_expansion() -> None:
    assert expand_grid({"a": [1, 2], "b": "x"}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert expand_grid({"grid": {"a": [1]}, "runs": [{"a": 9}]}) == [{"a": 1}, {"a": 9}]
    assert expand_grid([{"a": 1}]) == [{"a": 1}]


def test_batch_with_one_failing_parameter_set(failing_nb: Path, tmp_path: Path) -> None:
    sets = [{"value": 1}, {"value": 2, "fail": True}, {"value": 3}]
    result = run_batch(failing_nb, sets, workers=2, out_dir=tmp_path / "out", progress=False)
    table = result.table
    assert list(table["run"]) == [0, 1, 2]
    assert list(table["status"]) == ["ok", "failed", "ok"]
    assert list(table["after"].fillna(-1)) == [2, -1, 4]
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert failure["run"] == 1 and failure["source_cell_index"] == 2 and failure["ename"] == "ValueError"
    assert (tmp_path / "out" / "results.parquet").is_file() and (tmp_path / "out" / "results.csv").is_file()
    assert len(list((tmp_path / "out" / "notebooks").glob("run-*.ipynb"))) == 3
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "results.parquet"), table)


def test_engine_through_the_papermill_command_line(failing_nb: Path, tmp_path: Path) -> None:
    papermill = Path(sys.executable).with_name("papermill")
    out = tmp_path / "cli-out.ipynb"
    proc = subprocess.run(
        [
            str(papermill),
            "--engine",
            "matterhub",
            str(failing_nb),
            str(out),
            "-p",
            "value",
            "41",
            "--no-progress-bar",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    import nbformat

    assert read_records(nbformat.read(str(out), as_version=4)) == {"before": 41, "after": 42}


def test_notebook_servable_describe_and_run(failing_nb: Path, hub_home: Path) -> None:
    from hub.api import Hub
    from hub.exceptions import ServableRunError

    hub = Hub()
    sv = hub.describe(str(failing_nb))
    assert sv.type == "notebook"
    assert (
        set(sv.input.properties or {}) == {"fail", "value"} and sv.input.properties["value"].type == "integer"
    )
    name = hub.publish_servable(sv)
    out = hub.run(name, {"value": 4})
    assert out["outputs"] == {"before": 4, "after": 5}
    executed = hub.provenance(out["notebook_sha256"])  # provenance in the blob store
    assert b"before" in executed
    with pytest.raises(ServableRunError, match=r"cell 2.*ValueError"):
        hub.run(name, {"fail": True})
