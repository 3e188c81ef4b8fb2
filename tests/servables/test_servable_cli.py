"""The servable commands: servable publish, servables, run, task (with --json)."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from hub.cli import main
from hub.servables.cli import COMMANDS

for _command in COMMANDS:
    if _command.name not in main.commands:
        main.add_command(_command)

X, Y = load_iris(return_X_y=True)


def _invoke(home: Path, *args: str) -> str:
    result = CliRunner().invoke(
        main, ["--hub", str(home), "--user", "cli", "-q", *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def published(servable_home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli")
    model = folder / "iris.joblib"
    joblib.dump(LogisticRegression(max_iter=500).fit(X, Y), model)
    out = _invoke(
        servable_home, "servable", "publish", str(model), "--title", "Iris", "--domain", "biology", "--json"
    )
    assert json.loads(out)["id"] == "cli/iris"
    return servable_home, folder


def test_publish_and_search(published: tuple[Path, Path]) -> None:
    home, _ = published
    found = json.loads(_invoke(home, "servables", "servable.type:sklearn AND dlhub.name:iris", "--json"))
    assert [h["id"] for h in found["hits"]] == ["cli/iris"]
    assert "cli/iris@1  [sklearn]  Iris" in _invoke(home, "servables", "dlhub.name:iris")
    shown = _invoke(home, "servable", "show", "cli/iris")
    assert "input:   an ndarray of shape (None, 4)" in shown


def test_run_with_json_and_npy_inputs(published: tuple[Path, Path]) -> None:
    home, folder = published
    (folder / "x.json").write_text(json.dumps(X[:3].tolist()))
    np.save(folder / "x.npy", X[48:52])
    out = json.loads(_invoke(home, "run", "cli/iris", "--input", str(folder / "x.json"), "--json"))
    assert out["outputs"] == [0, 0, 0]
    out = json.loads(_invoke(home, "run", "cli/iris", "--input", str(folder / "x.npy"), "--json"))
    assert out["outputs"] == [0, 0, 1, 1]
    result = CliRunner().invoke(
        main, ["--hub", str(home), "--user", "cli", "-q", "run", "cli/iris", "--value", "[[1, 2]]"]
    )
    assert result.exit_code == 2
    assert "error: the input: expected an ndarray of shape (None, 4)" in result.output


def test_async_run_and_task(published: tuple[Path, Path]) -> None:
    home, _ = published
    task = json.loads(
        _invoke(home, "run", "cli/iris", "--value", json.dumps(X[100:102].tolist()), "--async", "--json")
    )
    shown = json.loads(_invoke(home, "task", task["id"], "--wait", "30", "--json"))
    assert shown["status"] == "completed" and shown["result"] == [2, 2]
    assert shown["timings"]["run_ms"] >= 0
    assert f"task {task['id']}: cli/iris@1 completed" in _invoke(home, "task", task["id"])
