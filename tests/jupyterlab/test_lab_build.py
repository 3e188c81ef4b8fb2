"""Packaging of the JupyterLab panel: when it is rebuilt, what happens without npm, what
``setup.py`` ships (the built panel and the server extension's config as data files, every
package of hub/ and widgets/), and the ``--develop`` links of an editable install."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import setuptools
from hub.widgets.jupyterlab import build as lab_build

REPO = Path(__file__).resolve().parents[2]


def fake_source(root: Path) -> Path:
    src = root / "labextension"
    (src / "src").mkdir(parents=True)
    (src / "package.json").write_text('{"name": "matterhub-lab"}')
    (src / "src" / "index.ts").write_text("export default {};\n")
    return src


def fake_build(root: Path) -> Path:
    out = root / "labextensions" / "matterhub-lab"
    (out / "static").mkdir(parents=True)
    (out / "static" / "remoteEntry.abc.js").write_text("// built\n")
    meta = {"name": "matterhub-lab", "jupyterlab": {"_build": {"load": "static/remoteEntry.abc.js"}}}
    (out / "package.json").write_text(json.dumps(meta))
    return out


def age(path: Path, seconds: float) -> None:
    """Make every file under ``path`` ``seconds`` older."""
    for p in [path, *path.rglob("*")]:
        st = p.stat()
        os.utime(p, (st.st_atime - seconds, st.st_mtime - seconds))


def test_a_build_is_stale_when_missing_or_older_than_a_source(tmp_path: Path) -> None:
    src = fake_source(tmp_path)
    out = tmp_path / "labextensions" / "matterhub-lab"
    assert not lab_build.is_built(out) and lab_build.is_stale(src, out)
    fake_build(tmp_path)
    age(src, 100)
    assert lab_build.is_built(out) and not lab_build.is_stale(src, out)
    (src / "src" / "index.ts").write_text("export default { changed: true };\n")
    assert lab_build.is_stale(src, out)
    (out / "static" / "remoteEntry.abc.js").unlink()
    assert not lab_build.is_built(out)


def test_an_up_to_date_build_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, out = fake_source(tmp_path), fake_build(tmp_path)
    age(src, 100)

    def refuse(*args: Any, **kw: Any) -> None:
        raise AssertionError(f"nothing should run: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    assert lab_build.build(src, out, log=lambda _text: None) == out


def test_without_npm_a_prebuilt_panel_is_packaged_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = fake_source(tmp_path), fake_build(tmp_path)
    (src / "src" / "index.ts").touch()  # stale
    os.utime(out / "package.json", (1, 1))
    monkeypatch.setattr(lab_build.shutil, "which", lambda _name: None)
    with pytest.warns(UserWarning, match="npm was not found: packaging the prebuilt"):
        assert lab_build.build(src, out, log=lambda _text: None) == out


def test_without_npm_or_a_prebuilt_panel_the_build_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = fake_source(tmp_path)
    monkeypatch.setattr(lab_build.shutil, "which", lambda _name: None)
    with pytest.raises(lab_build.LabextensionBuildError, match=r"Install Node\.js") as err:
        lab_build.build(src, tmp_path / "nothing", log=lambda _text: None)
    assert lab_build.ENV_SKIP in str(err.value)


def test_develop_links_the_build_and_enables_the_server_extension(tmp_path: Path) -> None:
    out = fake_build(tmp_path / "checkout")
    prefix = tmp_path / "venv"
    link, config = lab_build.develop(prefix, out, log=lambda _text: None)
    assert link == prefix / "share" / "jupyter" / "labextensions" / "matterhub-lab"
    assert link.is_symlink() and (link / "package.json").read_text() == (out / "package.json").read_text()
    enabled = json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled == {"hub.widgets.jupyterlab": True}
    lab_build.develop(prefix, out, log=lambda _text: None)  # again: replaces the link
    assert link.resolve() == out.resolve()


def test_setup_ships_the_panel_and_every_package(monkeypatch: pytest.MonkeyPatch) -> None:
    if not lab_build.is_built():
        pytest.skip(f"the panel is not built in {lab_build.OUTPUT} (python -m hub.widgets.jupyterlab.build)")
    seen: dict[str, Any] = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kw: seen.update(kw))
    monkeypatch.chdir(REPO)
    runpy.run_path(str(REPO / "setup.py"))

    data = dict(seen["data_files"])
    assert data["etc/jupyter/jupyter_server_config.d"] == [
        "jupyter-config/jupyter_server_config.d/matterhub.json"
    ]
    shipped = {
        f"{dest}/{Path(src).name}"
        for dest, files in seen["data_files"]
        if dest.startswith("share/jupyter/labextensions/matterhub-lab")
        for src in files
    }
    built = {
        "share/jupyter/labextensions/matterhub-lab/" + p.relative_to(lab_build.OUTPUT).as_posix()
        for p in lab_build.OUTPUT.rglob("*")
        if p.is_file()
    }
    assert shipped == built | {"share/jupyter/labextensions/matterhub-lab/install.json"}
    for files in data.values():
        assert all((REPO / f).is_file() for f in files)

    packages = set(seen["packages"])
    assert {"hub", "hub.connect", "hub.index", "hub.widgets", "hub.widgets.jupyterlab"} <= packages
    assert not [p for p in packages if "node_modules" in p or "labextension" in p]
    assert seen["package_dir"] == {"hub.widgets": "widgets"}
    assert set(seen["cmdclass"]) == {"build", "build_labextension", "sdist"}
