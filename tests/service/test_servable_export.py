"""`matterhub servable export`: the folder docker/repo2docker build an image of, read through
the hub (embedded and remote), and its entry point really serving the servable.

No image is built (no container runtime here): the folder's contents are checked, and its
``serve.py`` is run as the image would run it (``python serve.py``, from the folder, importing
the ``hub`` package copied into it) on a loopback port.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from hub.cli import main
from hub.exceptions import NotFoundError, ValidationError
from hub.servables.cli import COMMANDS
from hub.servables.codec import to_json
from hub.servables.export import image_name

for _command in COMMANDS:
    if _command.name not in main.commands:
        main.add_command(_command)

X, Y = load_iris(return_X_y=True)  # Fisher's iris measurements (scikit-learn's copy)


@pytest.fixture(scope="module")
def iris(service: Any) -> str:
    """An iris classifier alice publishes for her group only."""
    alice = service.open("embedded", "alice")
    model = LogisticRegression(max_iter=500).fit(X, Y)
    return str(
        alice.publish_servable(
            alice.describe(model, name="iris-export", title="Iris", visible_to=["group:lab"])
        )
    )


def test_export_folder(service: Any, kind: str, iris: str, tmp_path: Path) -> None:
    from hub.servables.export import export

    alice = service.open(kind, "alice")
    done = export(alice, iris, tmp_path / "image")
    out = done.folder
    assert done.key == f"{iris}@1"
    sv = alice.servable(iris)
    assert done.artifact_sha256 == sv.document["dlhub"]["artifact"]["sha256"]
    art = out / "artifact" / done.artifact_sha256
    assert (art / "servable.json").is_file() and (art / "model").is_dir()
    assert json.loads((out / "servable.json").read_text())["dlhub"]["id"] == iris
    # the hub code that loads it, sources only
    assert (out / "hub" / "servables" / "standalone.py").is_file()
    assert not list((out / "hub").rglob("__pycache__"))
    reqs = (out / "requirements.txt").read_text().split()
    assert f"scikit-learn=={md.version('scikit-learn')}" in reqs  # the servable's own pin
    assert f"pydantic=={md.version('pydantic')}" in reqs  # MatterHub's core, as this hub runs it
    assert not [r for r in reqs if r.lower().startswith(("fastapi", "ipywidgets"))]  # no extras
    assert (out / "runtime.txt").read_text().strip() == "python-" + ".".join(
        sv.document["dlhub"]["python_version"].split(".")[:2]
    )
    docker = (out / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", docker, re.M)
    assert "pip install --no-cache-dir -r requirements.txt" in docker
    assert 'CMD ["python", "serve.py"]' in docker and "USER servable" in docker
    kube = list(yaml.safe_load_all((out / "kubernetes.yaml").read_text()))
    assert [k["kind"] for k in kube] == ["Deployment", "Service"]
    container = kube[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == image_name(done.key) == "alice-iris-export-v1"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert sorted(done.files) == sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    with pytest.raises(ValidationError, match="not empty"):
        export(alice, iris, out)
    export(alice, iris, out, overwrite=True)


def test_only_who_may_see_it_exports_it(service: Any, kind: str, iris: str, tmp_path: Path) -> None:
    from hub.servables.export import export

    with pytest.raises(NotFoundError):
        export(service.open(kind, "bob"), iris, tmp_path / "image")
    assert not (tmp_path / "image").exists()
    with pytest.raises(NotFoundError):
        service.open(kind, "bob").servable_artifact(iris)


def test_the_artifact_stream_is_checked(service: Any, iris: str) -> None:
    """The remote stream carries the sha256 and is the stored tar, byte for byte."""
    alice = service.open("embedded", "alice")
    sha = alice.servable(iris).document["dlhub"]["artifact"]["sha256"]
    with alice.servable_artifact(iris) as f:
        local = f.read()
    r = httpx.get(
        f"{service.url}/api/servables/{iris}/artifact",
        headers={"Authorization": f"Bearer {service.tokens['alice']}"},
    )
    assert r.status_code == 200 and r.headers["etag"] == f'"{sha}"' and r.content == local
    assert httpx.get(f"{service.url}/api/servables/{iris}/artifact").status_code == 404


@pytest.fixture()
def served(service: Any, iris: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The export's ``python serve.py`` on a loopback port (as the image's CMD runs it)."""
    out = tmp_path / "image"
    result = CliRunner().invoke(
        main,
        [
            "--hub",
            str(service.home),
            "--token",
            service.tokens["alice"],
            "-q",
            "servable",
            "export",
            iris,
            "--to",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "docker build -t alice-iris-export-v1" in result.output
    proc = subprocess.Popen(
        [sys.executable, "serve.py", "--host", "127.0.0.1", "--port", "0", "--quiet"],
        cwd=out,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "KERAS_BACKEND": "jax",
        },  # no PYTHONPATH: its own hub/
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        yield f"http://127.0.0.1:{m.group(1)}", out
    finally:
        proc.kill()
        proc.wait(10)


def test_the_exported_entry_point_serves_it(service: Any, iris: str, served: tuple[str, Path]) -> None:
    url, _ = served
    alice = service.open("embedded", "alice")
    assert httpx.get(f"{url}/health").json()["status"] == "ok"
    about = httpx.get(f"{url}/").json()
    assert about["document"]["dlhub"]["id"] == iris and about["schema"]["input"]["type"] == "array"
    x = X[45:55]
    r = httpx.post(f"{url}/run", json={"inputs": to_json(x)})
    assert r.status_code == 200, r.text
    assert r.json()["output"] == to_json(alice.run(iris, x))
    # lists work as over the hub's REST API
    lists = httpx.post(f"{url}/run", json={"inputs": X[:2].tolist(), "arrays": "lists"})
    assert lists.json()["output"] == [0, 0]


def test_the_entry_point_refuses_bad_requests(served: tuple[str, Path]) -> None:
    url, _ = served
    wrong = httpx.post(f"{url}/run", json={"inputs": [[1.0, 2.0]]})
    assert wrong.status_code == 400 and "shape" in wrong.json()["detail"]
    assert (
        httpx.post(
            f"{url}/run", content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert httpx.post(f"{url}/run", json=[1, 2]).status_code == 400
    # a body declared past the limit is refused before it is read
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST /run HTTP/1.1\r\nHost: x\r\nContent-Length: {1 << 40}\r\n\r\n".encode())
        assert sock.recv(200).startswith(b"HTTP/1.0 413")
    assert httpx.get(f"{url}/nothing").status_code == 404


def test_a_pipeline_is_not_exported(service: Any, iris: str, tmp_path: Path) -> None:
    from hub.exceptions import NotRunnableError
    from hub.servables.export import export

    alice = service.open("embedded", "alice")
    pipe = alice.publish_servable(alice.pipeline([iris], name="iris-pipe", visible_to=["group:lab"]))
    with pytest.raises(
        NotRunnableError, match=rf"is a pipeline.*export each servable step instead \({iris}\)"
    ):
        export(alice, pipe, tmp_path / "image")
