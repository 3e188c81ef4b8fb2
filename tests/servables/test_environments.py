"""Servables in environments of their own (hub/servables/environments/): two versions pinning
different versions of ``six`` run side by side and each sees its own, one without pins runs in the
hub's environment (six 1.17.0); an environment is built once and reused; the pool keeps workers per
environment; a requirement that cannot be installed is refused at publish; a pin that breaks the
worker fails its runs with the build's error; ``matterhub env list|gc``; a contained worker; Dask
refuses; a notebook's kernel runs in its environment.

Packages come from the test wheelhouse only (offline, ``--no-index``): ``make test`` fills it
(``.cache/wheelhouse``, ``$MATTERHUB_WHEELHOUSE``)."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import sys
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hub.cli.commands import main
from hub.exceptions import RequirementsError, ServableRunError, ValidationError
from hub.hubs.embedded import EmbeddedHub
from hub.servables.containment import Containment
from hub.servables.environments import layout
from hub.servables.executors import LocalExecutor
from hub.servables.landlock import abi as landlock_abi
from hub.servables.pool import WorkerPool

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(os.environ.get("MATTERHUB_WHEELHOUSE") or ROOT / ".cache" / "wheelhouse")
SIX = ("1.15.0", "1.16.0")


def six_version(x: int) -> dict:  # type: ignore[type-arg]
    """The six this worker imports, and where its Python lives."""
    import os
    import sys

    import six

    return {"six": six.__version__, "prefix": sys.prefix, "pid": os.getpid()}


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    missing = [v for v in SIX if not list(WHEELHOUSE.glob(f"six-{v}-*.whl"))]
    if missing:
        pytest.skip(
            f"the test wheelhouse {WHEELHOUSE} lacks six {', '.join(missing)}: "
            "`make test` fills it (its wheelhouse step)"
        )
    return WHEELHOUSE


@dataclass
class EnvHub:
    hub: EmbeddedHub
    pool: WorkerPool
    names: dict[str, str]


@pytest.fixture(scope="module")
def env_hub(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvHub]:
    assert md.version("six") == "1.17.0", "the hub's environment is expected to hold six 1.17.0"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATTERHUB_WHEELHOUSE", str(wheelhouse))
        pool = WorkerPool(3, max_loaded=4)
        hub = EmbeddedHub(
            tmp_path_factory.mktemp("env-hub"), user="alice", progress=False, executor=LocalExecutor(pool)
        )
        names = {
            "1.16.0": hub.publish_servable(
                hub.describe(six_version, name="six16", requirements=["six==1.16.0"])
            ),
            "1.15.0": hub.publish_servable(
                hub.describe(six_version, name="six15", requirements=["six==1.15.0"])
            ),
            "hub": hub.publish_servable(hub.describe(six_version, name="sixhub")),
        }
        yield EnvHub(hub, pool, names)
        hub.close()
        pool.close()


def _environment(hub: EmbeddedHub, name: str) -> dict[str, Any] | None:
    env: dict[str, Any] | None = hub.servable(name).document["dlhub"].get("environment")
    return env


def _own_environment(hub: EmbeddedHub, name: str) -> dict[str, Any]:
    env = _environment(hub, name)
    assert env is not None, f"{name} runs in the hub's environment"
    return env


def test_pinned_versions_run_side_by_side_each_in_its_own_environment(env_hub: EnvHub) -> None:
    hub, names = env_hub.hub, env_hub.names
    assert _environment(hub, names["hub"]) is None  # nothing to build: the hub's six is what it pins
    keys = {v: _own_environment(hub, names[v]) for v in SIX}
    assert keys["1.15.0"]["install"] == ["six==1.15.0"] and keys["1.16.0"]["install"] == ["six==1.16.0"]
    with ThreadPoolExecutor(3) as threads:
        outs = dict(zip(names, threads.map(lambda n: hub.run(n, 1), names.values()), strict=True))
    for version in SIX:
        assert outs[version]["six"] == version
        assert Path(outs[version]["prefix"]).name == keys[version]["key"]
    assert outs["hub"]["six"] == "1.17.0" and outs["hub"]["prefix"] == str(Path(sys.prefix))
    # a worker pool per environment: the workers that ran are of three environments
    envs = env_hub.pool.environments()
    for label, out in outs.items():
        assert envs[out["pid"]] == ("" if label == "hub" else keys[label]["key"])
    assert len({out["pid"] for out in outs.values()}) == 3
    # the folders workers run from are not theirs to change
    folder = Path(outs["1.15.0"]["prefix"])
    assert oct(folder.stat().st_mode & 0o777) == oct(0o755)


def test_an_environment_is_built_once_and_reused(env_hub: EnvHub, wheelhouse: Path) -> None:
    hub = env_hub.hub
    envs = hub._servables.environments
    first = _own_environment(hub, env_hub.names["1.16.0"])
    record = layout.read_record(envs.path(first["key"]))
    assert record is not None
    builds = envs.builds
    again = hub.publish_servable(hub.describe(six_version, name="six16", requirements=["six==1.16.0"]))
    assert hub.servable(again).version == 2
    assert _environment(hub, again) == first
    assert hub.run(f"{again}@2", 1)["six"] == "1.16.0"
    assert envs.builds == builds  # no build: the same key's environment is reused
    assert layout.read_record(envs.path(first["key"])) == record
    # another hub object over the same folder (another process would do the same) builds nothing
    other = EmbeddedHub(hub.home, user="bob", progress=False, executor=LocalExecutor(env_hub.pool))
    try:
        name = other.publish_servable(
            other.describe(six_version, name="bobs16", requirements=["six==1.16.0"])
        )
        assert other.run(name, 1)["six"] == "1.16.0"
        assert other._servables.environments.builds == 0
    finally:
        other.close()


def test_a_requirement_that_cannot_be_installed_is_refused_at_publish(env_hub: EnvHub) -> None:
    hub = env_hub.hub
    for pin, said in (("six==0.0.0", "no version of six==0.0.0"), ("no-such-dist==1.0", "no-such-dist")):
        with pytest.raises(RequirementsError) as caught:
            hub.publish_servable(hub.describe(six_version, name="broken", requirements=[pin]))
        text = caught.value.message
        assert pin in text and str(WHEELHOUSE) in text and said in text and "offline" in text
        assert caught.value.status_code == 400
    assert "alice/broken" not in [s.id for s in hub._servables.registry.listing()]


def _wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A tiny pure-Python wheel (what ``pip wheel`` makes for a one-module project)."""
    dist = f"{name}-{version}.dist-info"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    meta = {
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    entries = {**files, **meta}
    record = "".join(f"{p},,\n" for p in entries) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for p, text in {**entries, f"{dist}/RECORD": record}.items():
            z.writestr(p, text)
    return path


def test_a_pin_that_breaks_the_worker_fails_its_runs_with_the_build_error(
    wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pinned ``numpy`` that cannot be imported: the environment resolves, its build's check
    finds the hub's worker cannot start in it, and runs fail with that error (not a hung run)."""
    house = tmp_path / "wheels"
    house.mkdir()
    _wheel(house, "numpy", "0.0.1", {"numpy/__init__.py": "raise ImportError('this numpy is broken')\n"})
    monkeypatch.setenv("MATTERHUB_WHEELHOUSE", str(house))
    with EmbeddedHub(tmp_path / "hub", user="alice", progress=False, executor=LocalExecutor(size=1)) as hub:
        name = hub.publish_servable(hub.describe(six_version, name="badnumpy", requirements=["numpy==0.0.1"]))
        with pytest.raises(ServableRunError) as caught:
            hub.run(name, 1, timeout=120)
        assert caught.value.exc_type == "EnvironmentBuildError"
        assert "failed to build" in caught.value.message and "this numpy is broken" in caught.value.message
        hub._servables.executor.close()


def test_env_list_shows_sizes_and_gc_removes_what_no_version_needs(env_hub: EnvHub, tmp_path: Path) -> None:
    hub = env_hub.hub
    key15 = _own_environment(hub, env_hub.names["1.15.0"])["key"]
    envs = hub._servables.environments
    (envs.folder / f"{layout.BUILDING_PREFIX}{key15}-left").mkdir()  # a build a killed process left
    runner = CliRunner()
    listed = runner.invoke(main, ["--hub", str(hub.home), "env", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {(r["key"], r["state"]): r for r in json.loads(listed.output)}
    assert rows[(key15, "built")]["size"] > 0 and rows[(key15, "built")]["install"] == ["six==1.15.0"]
    assert (key15, "unfinished") in rows
    text = runner.invoke(main, ["--hub", str(hub.home), "env", "list"])
    assert key15[:12] in text.output and "six==1.15.0" in text.output
    # still needed: gc keeps it, and removes the unfinished build
    gc = runner.invoke(main, ["--hub", str(hub.home), "env", "gc", "--json"])
    assert gc.exit_code == 0, gc.output
    assert [(r["key"], r["state"]) for r in json.loads(gc.output)] == [(key15, "unfinished")]
    assert envs.path(key15).is_dir()
    hub._servables.registry.delete(env_hub.names["1.15.0"], 1)
    gc = runner.invoke(main, ["--hub", str(hub.home), "env", "gc", "--json"])
    assert [(r["key"], r["state"]) for r in json.loads(gc.output)] == [(key15, "built")]
    assert not envs.path(key15).exists()
    key16 = _own_environment(hub, env_hub.names["1.16.0"])["key"]
    assert envs.path(key16).is_dir()  # still needed


def test_a_contained_worker_runs_in_its_environment(
    wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if landlock_abi() < 1:
        pytest.skip("containing servables needs Landlock (Linux 5.13+)")
    monkeypatch.setenv("MATTERHUB_WHEELHOUSE", str(wheelhouse))
    home = tmp_path / "hub"
    executor = LocalExecutor(size=1, containment=Containment().with_hidden([home]))
    try:
        with EmbeddedHub(home, user="alice", progress=False, executor=executor) as hub:
            name = hub.publish_servable(hub.describe(six_version, name="six15", requirements=["six==1.15.0"]))
            out = hub.run(name, 1)
            assert out["six"] == "1.15.0" and Path(out["prefix"]).parent == home / "environments"
            plain = hub.publish_servable(hub.describe(six_version, name="sixhub"))
            assert hub.run(plain, 1)["six"] == "1.17.0"
        report = executor.pool.reports()[0]
        assert report["files"] and report["refused"] is None, report
    finally:
        executor.close()


def test_dask_refuses_a_version_with_an_environment_of_its_own(env_hub: EnvHub) -> None:
    pytest.importorskip("distributed")
    from hub.servables.executors import DaskExecutor

    planned = env_hub.hub._servables.runs.plan(env_hub.names["1.16.0"], 1)
    result = DaskExecutor("tcp://127.0.0.1:9").submit(planned.request).result()  # never connected
    assert result.status == "refused" and "environment of its own" in result.message


def test_a_notebooks_kernel_runs_in_its_environment(env_hub: EnvHub, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("papermill")
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(  # type: ignore[no-untyped-call]
        cells=[
            new_code_cell("x = 1", metadata={"tags": ["parameters"]}),  # type: ignore[no-untyped-call]
            new_code_cell(  # type: ignore[no-untyped-call]
                "import sys, six\nfrom hub.notebooks import record\nrecord('six', six.__version__)\n"
                "record('prefix', sys.prefix)"
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "six.ipynb"
    nbformat.write(nb, str(path))
    hub = env_hub.hub
    name = hub.publish_servable(hub.describe(str(path), name="sixnb", requirements=["six==1.15.0"]))
    out = hub.run(name, {"x": 2})
    key = _own_environment(hub, name)["key"]
    assert out["outputs"] == {"six": "1.15.0", "prefix": str(hub._servables.environments.path(key))}


def test_over_http_the_refusal_is_a_4xx_and_a_pinned_version_runs(
    wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through a live service on loopback (the remote client uploads; the hub plans at publish)."""
    pytest.importorskip("fastapi")
    import httpx

    from hub import Hub
    from hub.service import create_app
    from hub.service.testing import LiveServer

    monkeypatch.setenv("MATTERHUB_WHEELHOUSE", str(wheelhouse))
    hub = Hub(tmp_path / "hub", progress=False)
    hub.users.ensure_user("alice", [])
    token, _ = hub.users.create_token(hub.principal, "alice", label="tests")
    server = LiveServer(create_app(hub)).start()
    remote = Hub(server.url, token=token, progress=False)
    try:
        with pytest.raises(ValidationError) as caught:  # the remote client's 400
            remote.publish_servable(remote.describe(six_version, name="broken", requirements=["six==0.0.0"]))
        assert "six==0.0.0" in caught.value.message and str(wheelhouse) in caught.value.message
        assert 400 <= caught.value.status_code < 500
        name = remote.publish_servable(
            remote.describe(six_version, name="six15", requirements=["six==1.15.0"])
        )
        assert remote.run(name, 1)["six"] == "1.15.0"
        listed = httpx.get(f"{server.url}/api/servables/{name}", headers={"Authorization": f"Bearer {token}"})
        assert listed.json()["document"]["dlhub"]["environment"]["install"] == ["six==1.15.0"]
    finally:
        remote.close()
        server.stop()
        hub.close()


def test_a_worker_in_an_environment_never_gets_the_hubs_libraries_ahead_of_its_own() -> None:
    """An installed hub's package folder is its site-packages: on PYTHONPATH it would come before
    the environment's own pins, so it is left to the environment's .pth file."""
    from hub.servables.containment import hub_package_root

    base = ("/venv/lib/python3.11/site-packages",)
    assert layout.python_path(base, f"{base[0]}:/elsewhere") == f"{hub_package_root()}:/elsewhere"


def test_settings_come_from_the_environment_then_config_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.servables.environments.store import EnvironmentSettings

    for var in ("MATTERHUB_ENVIRONMENTS", "MATTERHUB_WHEELHOUSE", "MATTERHUB_PACKAGE_INDEX"):
        monkeypatch.delenv(var, raising=False)
    default = EnvironmentSettings.for_hub(tmp_path)
    assert default.folder == tmp_path / "environments" and default.source.args() == []
    (tmp_path / "config.json").write_text(
        json.dumps({"environments": str(tmp_path / "envs"), "package_index": "http://127.0.0.1:1/simple"})
    )
    saved = EnvironmentSettings.for_hub(tmp_path)
    assert saved.folder == tmp_path / "envs" and saved.source.args() == [
        "--index-url",
        "http://127.0.0.1:1/simple",
    ]
    monkeypatch.setenv("MATTERHUB_WHEELHOUSE", str(tmp_path / "wheels"))
    offline = EnvironmentSettings.for_hub(tmp_path)
    assert offline.source.args() == ["--offline", "--no-index", "--find-links", str(tmp_path / "wheels")]
    assert "offline" in offline.source.describe()
    # the hub's own configuration keeps these keys when it rewrites config.json
    from hub.config import HubConfig

    HubConfig.load(tmp_path, store=str(tmp_path / "blobs"))
    assert json.loads((tmp_path / "config.json").read_text())["environments"] == str(tmp_path / "envs")
