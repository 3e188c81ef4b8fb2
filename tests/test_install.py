"""The install: the committed lock covers pyproject.toml, the environment holds exactly the lock,
and the wheel with no extra gives a working core (``Hub()`` and the core commands) whose
commands of an extra name the extra to install instead of a traceback."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "uv.lock"
#: What ``python -m venv`` itself puts in the environment (the Makefile bootstraps uv with that
#: pip); ``uv sync`` leaves them, and nothing else, beside the lock.
VENV_SEEDS = {"pip", "setuptools"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    """Every package of the lock: canonical name -> version."""
    packages = tomllib.loads(LOCK.read_text())["package"]
    return {canonical(p["name"]): p["version"] for p in packages if "version" in p}


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements() -> list[tuple[Requirement, str | None]]:
    """Every requirement pyproject.toml names, with its extra (None for the core)."""
    proj = project()
    out: list[tuple[Requirement, str | None]] = [(Requirement(r), None) for r in proj["dependencies"]]
    for extra, reqs in proj["optional-dependencies"].items():
        out += [(Requirement(r), extra) for r in reqs if canonical(Requirement(r).name) != "matterhub"]
    return out


def test_the_lock_pins_every_requirement_within_its_bounds() -> None:
    pins = locked()
    problems = []
    for req, extra in requirements():
        version = pins.get(canonical(req.name))
        if version is None:
            problems.append(f"{req} ({extra or 'core'}) is not in uv.lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req} ({extra or 'core'}): uv.lock pins {version}")
    assert not problems, "run `make lock`: " + "; ".join(problems)


def test_the_lock_was_made_from_this_pyproject() -> None:
    """uv.lock records the requirements it was resolved from: they are pyproject.toml's."""
    packages = tomllib.loads(LOCK.read_text())["package"]
    me = next(p for p in packages if p["name"] == "matterhub")
    recorded = {
        (canonical(r["name"]), r.get("specifier", ""), r.get("marker", ""))
        for r in me["metadata"]["requires-dist"]
        if canonical(r["name"]) != "matterhub"
    }
    wanted = {
        (canonical(req.name), str(req.specifier), f"extra == '{extra}'" if extra else "")
        for req, extra in requirements()
    }
    assert recorded == wanted, (
        f"uv.lock is older than pyproject.toml (run `make lock`): only in pyproject {sorted(wanted - recorded)}, "
        f"only in the lock {sorted(recorded - wanted)}"
    )


def test_nothing_is_installed_that_the_lock_does_not_pin() -> None:
    venv = ROOT / ".venv"
    if Path(sys.prefix).resolve() != venv.resolve():
        pytest.skip(f"the tests run in {sys.prefix}, not the environment `make test` installs ({venv})")
    pins = locked()
    extra = {}
    for dist in importlib.metadata.distributions():
        name = canonical(dist.metadata["Name"])
        if name not in VENV_SEEDS | {"matterhub"} and pins.get(name) != dist.version:
            extra[name] = (dist.version, pins.get(name))
    assert not extra, f"installed but not as uv.lock pins them (installed, locked): {extra}"


# -- the wheel with no extra ---------------------------------------------------------------------


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the wheel and the locked core dependencies, nothing else
    (from uv's cache, offline: `make test` has just installed every one of them)."""
    uv = Path(sys.executable).with_name("uv")
    if not uv.exists():
        pytest.skip(f"uv is not installed beside {sys.executable} (make test installs it)")
    tmp = tmp_path_factory.mktemp("core")
    env = {
        **os.environ,
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "MATTERHUB_SKIP_LABEXTENSION": "1",
    }
    steps = [
        # the sdist first, then the wheel from it (as `uv build` does): a stale build/ folder of an
        # in-place build (setuptools never empties it) cannot leak removed modules into the wheel
        [str(uv), "build", "-o", str(tmp / "dist"), str(ROOT)],
        [
            str(uv),
            "export",
            "--frozen",
            "--no-emit-project",
            "--format",
            "pylock.toml",
            "-o",
            str(tmp / "pylock.core.toml"),
        ],
        [str(uv), "venv", "-q", "--python", sys._base_executable, str(tmp / "venv")],
        [
            str(uv),
            "pip",
            "sync",
            "-q",
            "--python",
            str(tmp / "venv" / "bin" / "python"),
            str(tmp / "pylock.core.toml"),
        ],
    ]
    for cmd in steps:
        done = _run(cmd, cwd=ROOT, env=env)
        assert done.returncode == 0, f"{' '.join(cmd)}:\n{done.stdout}\n{done.stderr}"
    wheel = next((tmp / "dist").glob("matterhub-*.whl"))
    cmd = [
        str(uv),
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--python",
        str(tmp / "venv" / "bin" / "python"),
        str(wheel),
    ]
    done = _run(cmd, env=env)
    assert done.returncode == 0, done.stderr
    return tmp / "venv"


def _core(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATTERHUB_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return _run([str(venv / "bin" / "matterhub"), *args], cwd=cwd, env=env)


@pytest.mark.slow
def test_the_wheel_without_extras_holds_no_optional_package(core_venv: Path) -> None:
    names = _run(
        [
            str(core_venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'].lower() for d in m.distributions()))",
        ]
    ).stdout.split()
    for optional in (
        "fastapi",
        "uvicorn",
        "ipywidgets",
        "voila",
        "scikit-learn",
        "keras",
        "papermill",
        "jupyterlab",
    ):
        assert optional not in names, f"{optional} is installed without its extra"


@pytest.mark.slow
def test_no_core_module_imports_an_extra_at_import_time(core_venv: Path, tmp_path: Path) -> None:
    """Every module but the service's and the front ends' imports with the core dependencies alone."""
    script = """
import importlib, pkgutil, hub
EXTRAS = ("hub.service.", "hub.widgets.")
bad = []
for m in pkgutil.walk_packages(hub.__path__, "hub.", onerror=lambda n: n.startswith(EXTRAS) or bad.append(n)):
    if m.name.startswith(EXTRAS):
        continue
    try:
        importlib.import_module(m.name)
    except Exception as exc:
        bad.append(f"{m.name}: {type(exc).__name__}: {exc}")
print("\\n".join(map(str, bad)))
"""
    done = _run([str(core_venv / "bin" / "python"), "-c", script], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"core modules that need an extra to import:\n{done.stdout}"


@pytest.mark.slow
def test_the_core_commands_work_without_extras(core_venv: Path, tmp_path: Path) -> None:
    import ase

    minerals = Path(ase.__file__).parent / "test" / "testdata" / "minerals"
    if not minerals.is_dir():
        pytest.skip(f"this ASE ships no mineral CIFs at {minerals}")
    home = str(tmp_path / "hub")
    help_text = _core(core_venv, "--help", cwd=tmp_path)
    assert help_text.returncode == 0 and "submit" in help_text.stdout, help_text.stderr
    assert _core(core_venv, "--hub", home, "init", cwd=tmp_path).returncode == 0
    sub = _core(
        core_venv,
        "--hub",
        home,
        "-q",
        "submit",
        str(minerals),
        "--title",
        "COD minerals",
        "--author",
        "Grazulis, S.",
        cwd=tmp_path,
    )
    assert sub.returncode == 0, sub.stdout + sub.stderr
    for args in (
        ["status"],
        ["datasets"],
        ["show", "cod_minerals"],
        ["search", "material.elements:Si"],
        ["fields"],
        ["index", "rebuild"],
        ["download", "cod_minerals", str(tmp_path / "copy")],
    ):
        done = _core(core_venv, "--hub", home, "-q", *args, cwd=tmp_path)
        assert done.returncode == 0, f"matterhub {' '.join(args)}: {done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
    found = _core(core_venv, "--hub", home, "search", "material.elements:Si", "--json", cwd=tmp_path)
    assert '"total": 0' not in found.stdout
    assert list((tmp_path / "copy").rglob("*.cif")), "download wrote no file"
    # a servable whose library the environment lacks says which extra would bring it
    import numpy as np
    from sklearn.linear_model import LinearRegression

    from hub import Hub

    with Hub(home, progress=False) as hub:  # published where scikit-learn is installed
        model = LinearRegression().fit(np.arange(6.0).reshape(3, 2), [0.0, 1.0, 2.0])
        name = hub.publish_servable(hub.describe(model, name="tiny-linear"))
    ran = _core(core_venv, "--hub", home, "run", name, "--value", "[[1, 2]]", cwd=tmp_path)
    assert ran.returncode != 0 and "Traceback" not in ran.stderr, ran.stderr
    assert "pip install 'matterhub[models]'" in ran.stderr, ran.stderr
    # the commands of an extra say which extra to install
    for args, extra in ((["serve", "--port", "1"], "service"), (["dashboards"], "widgets")):
        done = _core(core_venv, "--hub", home, *args, cwd=tmp_path)
        assert done.returncode != 0
        assert "Traceback" not in done.stderr, done.stderr
        assert f"pip install 'matterhub[{extra}]'" in done.stdout + done.stderr, done.stdout + done.stderr


# -- import hub from any working directory -------------------------------------------------------


def _installed_python(
    code: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter of this environment as a user gets it: no PYTHONPATH (so ``hub`` comes
    from the install, whatever put a checkout on the tests' path), run from ``cwd``."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return _run([sys.executable, "-c", code], cwd=cwd, env={**base, **(env or {})})


@pytest.mark.parametrize("with_init", [False, True], ids=["namespace-folder", "folder-with-files"])
def test_hub_imports_from_a_folder_that_holds_a_folder_named_hub(tmp_path: Path, with_init: bool) -> None:
    """A hub/ folder in the working directory (the natural name for a hub folder) is a namespace
    package to Python's path finder; the install must still give MatterHub's ``hub``."""
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "catalog.sqlite").write_bytes(b"")
    if with_init:
        (tmp_path / "hub" / "notes.py").write_text("x = 1\n")
    done = _installed_python("from hub import Hub; import hub, hub.widgets; print(hub.__file__)", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(os.path.join("hub", "__init__.py"))


def test_the_lab_panels_search_code_runs_in_a_folder_that_holds_hub(tmp_path: Path) -> None:
    """The JupyterLab panel's "Insert search code" cell, run as Python where the user keeps hub/."""
    from hub.widgets.jupyterlab.settings import HubSettings
    from hub.widgets.jupyterlab.snippets import search_snippet

    (tmp_path / "hub").mkdir()
    home = tmp_path / "hub" / "home"
    code = search_snippet(HubSettings(home=str(home)).hub_expression({}), "*")
    done = _installed_python(code + "\nprint(len(res.to_dataframe()))", tmp_path, {"MATTERHUB_HOME": ""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "0"
