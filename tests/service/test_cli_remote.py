"""Every ``matterhub`` command works on a hub service: ``--hub http://...`` with a token runs
the servable and notebook commands through the HubAPI, as the token's user, against a
live uvicorn on a loopback port."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from hub.cli import main

X, Y = load_iris(return_X_y=True)


def _cli(service: Any, user: str | None, *args: str, code: int = 0) -> str:
    token = ["--token", service.tokens[user]] if user else []
    result = CliRunner().invoke(
        main, ["--hub", service.url, *token, "-q", *args], env={"MATTERHUB_TOKEN": ""}
    )
    assert result.exit_code == code, result.output
    return result.output if code else result.stdout  # stdout: warnings go to stderr


@pytest.fixture(scope="module")
def iris(service: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    model = tmp_path_factory.mktemp("iris") / "iris.joblib"
    joblib.dump(LogisticRegression(max_iter=500).fit(X, Y), model)
    out = json.loads(
        _cli(
            service,
            "alice",
            "servable",
            "publish",
            str(model),
            "--title",
            "Iris",
            "--visible-to",
            "group:lab",
            "--json",
        )
    )
    assert out["id"] == "alice/iris" and out["version"] >= 1
    return str(out["id"])


def test_servable_show_and_search_on_a_service(service: Any, iris: str) -> None:
    shown = _cli(service, "alice", "servable", "show", iris)
    assert "input:   an ndarray of shape (None, 4)" in shown
    assert (
        json.loads(_cli(service, "alice", "servable", "show", "iris", "--json"))["id"] == iris
    )  # a bare name
    found = json.loads(_cli(service, "alice", "servables", "dlhub.name:iris", "--json"))
    assert [h["id"] for h in found["hits"]] == [iris]
    # bob is not in alice's lab: the service sees him, and he does not see it
    assert json.loads(_cli(service, "bob", "servables", "dlhub.name:iris", "--json"))["total"] == 0
    assert "error:" in _cli(service, "bob", "servable", "show", iris, code=2)


def test_run_and_task_on_a_service(service: Any, iris: str) -> None:
    out = json.loads(_cli(service, "alice", "run", iris, "--value", json.dumps(X[:2].tolist()), "--json"))
    assert out["outputs"] == [0, 0]
    task = json.loads(
        _cli(service, "alice", "run", iris, "--value", json.dumps(X[100:102].tolist()), "--async", "--json")
    )
    shown = json.loads(_cli(service, "alice", "task", task["id"], "--wait", "60", "--json"))
    assert shown["status"] == "completed" and shown["result"] == [2, 2]
    assert "error: the input: expected an ndarray of shape (None, 4)" in _cli(
        service, "alice", "run", iris, "--value", "[[1, 2]]", code=2
    )


def test_notebook_provenance_on_a_service(service: Any, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_code_cell("value = 1", metadata={"tags": ["parameters"]}),
            new_code_cell("from hub.notebooks import record\nrecord('twice', value * 2)"),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "twice.ipynb"
    nbformat.write(nb, str(path))
    published = json.loads(_cli(service, "alice", "servable", "publish", str(path), "--json"))
    out = json.loads(_cli(service, "alice", "run", published["id"], "--value", '{"value": 21}', "--json"))
    assert out["outputs"]["outputs"] == {"twice": 42}
    sha = out["outputs"]["notebook_sha256"]
    shown = _cli(service, "alice", "notebook", "provenance", sha)
    assert "record('twice', value * 2)" in shown and "value = 21" in shown  # the injected parameters
    saved = tmp_path / "executed.ipynb"
    _cli(service, "alice", "notebook", "provenance", sha, "--out", str(saved))
    assert nbformat.read(str(saved), as_version=4).cells[-1].source.startswith("from hub.notebooks")
