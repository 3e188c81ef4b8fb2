"""ServablePanel over a real hub with published servables: finding and describing them,
inputs from a generated form, an uploaded file or search hits, synchronous and
asynchronous runs, batches, and outputs rendered as pictures and tables."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hub.widgets import ServablePanel

from hub import Hub


def lattice_image(a: float, b: float, size: int = 32) -> np.ndarray:
    """A simulated image of a rectangular 2-D lattice.

    Parameters
    ----------
    a
        Lattice spacing along x, in pixels.
    b
        Lattice spacing along y, in pixels.
    size
        Width and height of the image, in pixels.
    """
    y, x = np.mgrid[0:size, 0:size]
    return np.cos(np.pi * x / a) ** 2 * np.cos(np.pi * y / b) ** 2


def log_intensity(pattern: np.ndarray) -> np.ndarray:
    """log(1 + |pattern|): a diffraction pattern as people look at it."""
    return np.log1p(np.abs(pattern))


def molar_mass(formula: str) -> float:
    """The molar mass (g/mol) of a chemical formula such as Al2O3."""
    from ase.data import atomic_masses, atomic_numbers

    total = 0.0
    for symbol, count in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        total += float(atomic_masses[atomic_numbers[symbol]]) * (int(count) if count else 1)
    return total


@pytest.fixture(scope="module")
def servable_hub(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    hub = Hub(tmp_path_factory.mktemp("servable-panel-hub"), user="alice", progress=False)
    sub = hub.submit(shared_data / "ase" / "minerals", title="Minerals", authors=["Grazulis, Saulius"])
    assert sub.ok
    hub.publish_servable(
        hub.describe(lattice_image, title="Lattice image", authors=["Doe, Jane"], domains=["imaging"])
    )
    hub.publish_servable(
        hub.describe(log_intensity, title="Log intensity", authors=["Doe, Jane"], domains=["imaging"])
    )
    hub.publish_servable(
        hub.describe(molar_mass, title="Molar mass", authors=["Doe, Jane"], domains=["chemistry"])
    )
    yield hub
    hub.close()


def test_find_and_describe(servable_hub: Hub) -> None:
    panel = ServablePanel(servable_hub)
    assert set(panel.find()) == {"alice/lattice_image", "alice/log_intensity", "alice/molar_mass"}
    assert panel.find("dlhub.domains:chemistry") == ["alice/molar_mass"]
    assert panel.servable.id == "alice/molar_mass"
    panel.find("dlhub.domains:imaging")
    panel.choice.value = "alice/lattice_image"
    info = panel.info.value
    assert "Lattice image" in info and "A simulated image of a rectangular 2-D lattice." in info
    assert "{a: number, b: number}" in info and "Lattice spacing along x, in pixels." in info
    assert "parameter size" in info and "= 32" in info
    assert list(panel.form.input_fields) == ["a", "b"] and list(panel.form.parameter_fields) == ["size"]
    assert panel.form.parameter_fields["size"].value == 32


def test_run_from_the_generated_form(servable_hub: Hub) -> None:
    panel = ServablePanel(servable_hub, "dlhub.name:lattice_image")
    panel.form.input_fields["a"].value = 4.0
    panel.form.input_fields["b"].value = 8.0
    panel.form.parameter_fields["size"].value = 24
    panel.run_button.click()
    np.testing.assert_allclose(panel.outputs, lattice_image(4.0, 8.0, 24))
    images = [c for c in panel.output_box.children if "mh-output-image" in c._dom_classes]
    assert len(images) == 1 and images[0].value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "done in" in panel.task_status.value and panel.status.kind == "ok"


def test_run_as_a_task_follows_its_status(servable_hub: Hub) -> None:
    panel = ServablePanel(servable_hub, "dlhub.name:lattice_image")
    panel.form.input_fields["a"].value = 3.0
    panel.form.input_fields["b"].value = 5.0
    panel.asynchronous.value = True
    task = panel.run()
    assert task.id and task.status in ("pending", "running", "completed")
    out = panel.wait()
    np.testing.assert_allclose(out, lattice_image(3.0, 5.0))
    assert panel.task_states[-1] == "completed" and servable_hub.task(task.id).status == "completed"
    assert "mh-task-completed" in panel.task_status.value
    assert any("mh-output-image" in c._dom_classes for c in panel.output_box.children)


def test_run_on_an_uploaded_file(servable_hub: Hub, shared_data: Path) -> None:
    volume = np.load(shared_data / "cdi_nn" / "ft_downsampled_32.npy")  # a real Bragg CDI pattern
    pattern = np.asarray(volume[volume.shape[0] // 2], dtype=np.float64)
    buf = io.BytesIO()
    np.save(buf, pattern)
    panel = ServablePanel(servable_hub, "dlhub.name:log_intensity")
    panel.source.value = "File"
    panel.file.value = (
        {
            "name": "slice.npy",
            "type": "",
            "size": buf.tell(),
            "content": memoryview(buf.getvalue()),
            "last_modified": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        },
    )
    panel.run()
    np.testing.assert_allclose(panel.outputs, np.log1p(np.abs(pattern)))
    assert any("mh-output-image" in c._dom_classes for c in panel.output_box.children)


def test_input_and_batch_from_search_hits(servable_hub: Hub) -> None:
    panel = ServablePanel(servable_hub, "dlhub.name:molar_mass")
    panel.source.value = "Search result"
    panel.hit_query.value = "material.elements:S"
    panel.hit_field.value = "material.composition"
    batch = panel.run_batch()
    hits = servable_hub.search("material.elements:S", kinds=["record"], limit=20).hits
    formulas = {h.id: h.document["material"]["composition"] for h in hits}
    assert dict(zip(batch["hit"], batch["input"])) == formulas and len(batch) == 4
    for formula, mass in zip(batch["input"], batch["output"]):
        assert mass == pytest.approx(molar_mass(formula))
    assert panel.status.kind == "ok" and "batch of 4" in panel.task_status.value
    assert any(type(c).__name__ == "Image" for c in panel.output_box.children)  # bars per hit


def test_wrong_inputs_say_which_and_why(servable_hub: Hub) -> None:
    panel = ServablePanel(servable_hub, "dlhub.name:log_intensity")
    panel.form.input_fields["input"].value = "[[1, 2], [3"
    panel.run()
    assert panel.status.kind == "error" and "not valid JSON" in panel.status.text
    panel.form.input_fields["input"].value = '"text"'
    panel.run()  # accepted by its schema (any ndarray), fails in the worker: the error says so
    assert panel.status.kind == "error" and "alice/log_intensity@1 raised" in panel.status.text
    panel.source.value = "File"
    panel.run()
    assert "choose an input file" in panel.status.text
    panel.source.value = "Search result"
    panel.hit_field.value = ""
    panel.run_batch()
    assert "name the field" in panel.status.text

    panel.find("dlhub.name:lattice_image")  # wants {a, b}: a list of formulas is refused before running
    panel.source.value = "Search result"
    panel.hit_query.value = "material.elements:S"
    panel.hit_field.value = "material.composition"
    panel.run()
    assert panel.status.kind == "error" and "expected a dict with keys a, b" in panel.status.text


def test_a_form_input_as_json(servable_hub: Hub) -> None:
    panel = ServablePanel(servable_hub, "dlhub.name:log_intensity")
    panel.form.input_fields["input"].value = "[[0, 1], [2, 3]]"
    out: Any = panel.run()
    np.testing.assert_allclose(out, np.log1p(np.array([[0, 1], [2, 3]])))
