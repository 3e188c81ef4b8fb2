"""Shipped code (hub/servables/shipped.py): each servable's ``code`` files are a package of
its own in the worker, so two servables that ship same-named modules each run theirs in one
long-lived worker process, and nothing joins the worker's ``sys.path``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub import Hub
from hub.servables.executors import LocalExecutor
from hub.servables.package import build
from hub.servables.parts import ServableParts
from hub.servables.pool import WorkerPool
from hub.servables.shipped import ROOT_PACKAGE, ShippedCode, artifact_path, module_names, namespace_of

#: The model module of every servable here: its function is pickled by value, and the module
#: it calls (``features``) by reference, so the worker must import the servable's own copy.
MODEL = """\
import features


def helper(x):
    return features.compute(x)


def predict(x: float) -> float:
    return helper(x)
"""
#: ``features`` imports a sibling by its plain name, as files in a plain folder do.
FEATURES = """\
import constants


def compute(x):
    return {expression}
"""
#: The same model as a package's modules, importing each other relatively.
PACKAGE_MODEL = MODEL.replace("import features", "from . import features")
PACKAGE_FEATURES = FEATURES.replace("import constants", "from . import constants")


def worker_state(x: int) -> dict[str, list[str]]:
    """What a worker holds: its ``sys.path`` and the servables' own packages it has imported."""
    import sys

    return {
        "path": list(sys.path),
        "packages": sorted(
            m for m in sys.modules if m.count(".") == 1 and m.startswith("matterhub_servables.")
        ),
    }


def _write(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return [folder / name for name in files]


def _plain_folder(folder: Path, expression: str, constant: str) -> list[Path]:
    """``constants.py``, ``features.py`` and ``model.py`` in a folder that is not a package."""
    return _write(
        folder,
        {
            "constants.py": constant,
            "features.py": FEATURES.format(expression=expression),
            "model.py": MODEL,
        },
    )


def _import_plain(paths: list[Path]) -> Any:
    """Import the files by their plain names (as a script in their folder would); the model module."""
    for path in paths:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    return sys.modules["model"]


def _unimport(*names: str) -> None:
    for name in [n for n in sys.modules if n.split(".")[0] in names]:
        del sys.modules[name]


@pytest.fixture()
def publisher_modules() -> Iterator[None]:
    """The modules the tests import as a publisher would are gone afterwards."""
    yield
    _unimport("constants", "features", "model", "study")


@pytest.fixture(scope="module")
def one_worker(
    tmp_path_factory: pytest.TempPathFactory, module_parts_of: Any
) -> Iterator[tuple[ServableParts, WorkerPool]]:
    """Servable parts whose runs all go to one long-lived worker process."""
    pool = WorkerPool(1, max_loaded=8)
    hub = Hub(tmp_path_factory.mktemp("shipped-hub"), user="alice", progress=False)
    yield module_parts_of(hub, LocalExecutor(pool)), pool
    hub.close()
    pool.close()


def test_two_servables_shipping_a_features_py_each_run_their_own(
    one_worker: tuple[ServableParts, WorkerPool], tmp_path: Path, publisher_modules: None
) -> None:
    svc, pool = one_worker
    names = {}
    for label, expression, constant in (
        ("times", "x * constants.FACTOR", "FACTOR = 2\n"),
        ("plus", "x + constants.OFFSET", "OFFSET = 100\n"),
    ):
        paths = _plain_folder(tmp_path / label, expression, constant)
        model = _import_plain(paths)
        names[label] = svc.registry.publish(
            svc.registry.describe(model.predict, name=f"shipped-{label}", code=paths)
        )
        _unimport("constants", "features", "model")  # the other servable's modules have the same names
    # a plain folder's files sit at the top of code/, as in every artifact published before
    # packages kept their folders: those artifacts load the same way
    assert svc.registry.servable(names["times"]).document["dlhub"]["files"]["code"] == [
        "code/constants.py",
        "code/features.py",
        "code/model.py",
    ]
    for _ in range(2):  # both stay loaded in the one worker, each with its own modules
        assert svc.run(names["times"], 5.0) == 10.0
        assert svc.run(names["plus"], 5.0) == 105.0
    state = svc.run(svc.registry.publish(svc.registry.describe(worker_state)), 0)
    assert pool.size == 1 and pool.replaced == 0
    assert not [p for p in state["path"] if p.endswith("code")], state["path"]
    assert len([p for p in state["packages"] if "shipped_times" in p or "shipped_plus" in p]) == 2


def test_a_package_keeps_its_folders_and_relative_imports(
    one_worker: tuple[ServableParts, WorkerPool], tmp_path: Path, publisher_modules: None
) -> None:
    svc, _pool = one_worker
    names = {}
    for label, expression, constant in (
        ("times", "x * constants.FACTOR", "FACTOR = 3\n"),
        ("plus", "x + constants.OFFSET", "OFFSET = 1000\n"),
    ):
        paths = _write(
            tmp_path / label / "study",
            {
                "__init__.py": "",
                "constants.py": constant,
                "features.py": PACKAGE_FEATURES.format(expression=expression),
                "model.py": PACKAGE_MODEL,
            },
        )
        spec = importlib.util.spec_from_file_location(
            "study", paths[0], submodule_search_locations=[str(paths[0].parent)]
        )
        assert spec is not None and spec.loader is not None
        sys.modules["study"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["study"])
        model = importlib.import_module("study.model")
        names[label] = svc.registry.publish(
            svc.registry.describe(
                model.predict, name=f"package-{label}", code=[p for p in paths if p.stem != "__init__"]
            )
        )
        _unimport("study")
    assert svc.registry.servable(names["plus"]).document["dlhub"]["files"]["code"] == [
        "code/study/constants.py",
        "code/study/features.py",
        "code/study/model.py",
    ]
    assert svc.run(names["times"], 2.0) == 6.0
    assert svc.run(names["plus"], 2.0) == 1002.0
    assert svc.run(names["times"], 3.0) == 9.0


def test_an_evicted_servable_leaves_no_module_behind(
    tmp_path: Path, publisher_modules: None, parts_of: Any
) -> None:
    pool = WorkerPool(1, max_loaded=1)  # loading a servable evicts the one before
    with Hub(tmp_path / "hub", user="alice", progress=False) as hub:
        svc = parts_of(hub, LocalExecutor(pool))
        try:
            paths = _plain_folder(tmp_path / "shipped", "x * constants.FACTOR", "FACTOR = 4\n")
            name = svc.registry.publish(
                svc.registry.describe(_import_plain(paths).predict, name="evicted", code=paths)
            )
            state = svc.registry.publish(svc.registry.describe(worker_state))
            assert svc.run(name, 2.0) == 8.0
            assert svc.run(state, 0)["packages"] == []  # the shipped package went with its servable
            assert svc.run(name, 3.0) == 12.0  # and comes back with it
            assert pool.replaced == 0
        finally:
            parts_of.close()
            pool.close()


def test_artifact_layout(tmp_path: Path) -> None:
    package = tmp_path / "servables" / "bandgap"
    _write(tmp_path / "servables", {"__init__.py": ""})
    _write(package, {"__init__.py": "", "features.py": ""})
    _write(tmp_path / "plain", {"features.py": ""})
    assert artifact_path(package / "features.py").as_posix() == "servables/bandgap/features.py"
    assert artifact_path(tmp_path / "plain" / "features.py").as_posix() == "features.py"
    code = tmp_path / "code"
    _write(code / "servables" / "bandgap", {"features.py": "", "data.json": "{}"})
    _write(code, {"helpers.py": "", "not-a-module.py": ""})
    assert module_names(code) == {"servables", "servables.bandgap", "servables.bandgap.features", "helpers"}
    assert namespace_of("alice/band-gap@3:1a2b3c4d5e6f") == "alice_band_gap_v3_1a2b3c4d5e6f"
    _write(code, {"json.py": "", "numpy.py": ""})  # never in place of the standard library or a distribution
    shipped = ShippedCode(code, "alice/layout@1:1a2b3c4d5e6f")
    try:
        assert shipped.names == {"servables", "servables.bandgap", "servables.bandgap.features", "helpers"}
        assert shipped.package == f"{ROOT_PACKAGE}.alice_layout_v1_1a2b3c4d5e6f"
    finally:
        shipped.forget()


def test_two_code_files_packaged_at_one_place_are_refused(alice: ServableParts, tmp_path: Path) -> None:
    from hub.exceptions import ValidationError

    paths = [*_write(tmp_path / "a", {"features.py": ""}), *_write(tmp_path / "b", {"features.py": ""})]
    sv = alice.registry.describe(worker_state, code=paths)
    with pytest.raises(ValidationError, match=r"two code files would be packaged as code/features\.py"):
        build(sv, tmp_path / "build")
