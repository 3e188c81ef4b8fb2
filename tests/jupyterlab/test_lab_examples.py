"""The JupyterLab panel's server half on the real atomization-delta servable: its schema as a
readable form, and "Insert code" writing the servable's example input, which runs as inserted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hub.widgets.jupyterlab.backend import HubBackend
from hub.widgets.jupyterlab.settings import HubSettings

from hub import Hub


@pytest.fixture(scope="module")
def g4mp2_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from servables.atomization_delta.publish import publish_study

    home = tmp_path_factory.mktemp("lab-g4mp2")
    with Hub(home, progress=False) as hub:
        publish_study(hub, shared_data)
    return home


def test_inserted_code_runs_on_the_example_input(g4mp2_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATTERHUB_HOME", str(g4mp2_home))
    backend = HubBackend(HubSettings(home=str(g4mp2_home)), max_workers=1)
    try:
        name = backend.servables("atomization-delta")["hits"][0]["id"]
        details = backend.servable(name)
        rows = {r["name"]: r for r in details["form"]}
        assert rows["input.xyz"]["type"] == "text (xyz, Å)"
        assert rows["input.u0"]["type"] == "number (Hartree)"
        assert rows["output"]["type"].startswith("list of {g4mp2_0k: number (Hartree)")
        example = details["example"]["inputs"]
        assert example[0]["xyz"].splitlines()[1] == "acid-2-methyl-butenoicacid" and example[0]["u0"] < -300
        code = backend.snippet("servable", {"name": name})["code"]
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # the cell as inserted
        try:
            out = namespace["out"]
            assert len(out) == 1 and 1.0 < out[0]["atomization_energy"] < 5.0  # Hartree
        finally:
            namespace["hub"].close()
    finally:
        backend.close()
