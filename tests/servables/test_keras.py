"""Keras 3 models (JAX backend): describe, publish from memory and from a .keras file, run."""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.servables import describe
from hub.servables.keras import import_keras, load_model
from hub.servables.parts import ServableParts

keras = import_keras()
# keras' own JAX glue (not ours) calls np.array(x) on a JAX array
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


@pytest.fixture(scope="module")
def model() -> Any:
    keras.utils.set_random_seed(0)
    m = keras.Sequential(
        [keras.Input((4,), name="features"), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)],
        name="tiny",
    )
    return m


def test_describe_keras_model(model: Any) -> None:
    sv = describe(model, domains=["materials"])
    assert sv.type == "keras" and sv.name == "tiny"
    assert keras.backend.backend() == "jax"
    assert sv.input.shape == [None, 4] and sv.input.dtype == "float32"
    assert sv.output.shape == [None, 2]
    assert sv.metadata.servable.model_type.startswith("Sequential (tiny, 2 layers, 58 parameters)")
    assert "dense" in sv.metadata.servable.model_summary.lower()
    assert f"keras=={md.version('keras')}" in sv.requirements
    assert f"jax=={md.version('jax')}" in sv.requirements
    assert sv.parameters["batch_size"].default == 32


def test_publish_and_run_keras(alice: ServableParts, model: Any, tmp_path: Path) -> None:
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    name = alice.registry.publish(alice.registry.describe(model, domains=["materials"]))
    np.testing.assert_allclose(alice.run(name, x), model.predict(x, verbose=0), rtol=1e-6)
    assert alice.registry.servables("servable.type:keras AND dlhub.domains:materials").hits[0].id == name

    path = tmp_path / "tiny.keras"
    model.save(path)
    reloaded = load_model(path)  # initialisers skipped: the weights come from the file
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
    from_file = alice.registry.publish(alice.registry.describe(path, name="tiny-file"))
    info = alice.registry.servable(from_file)
    assert info.document["dlhub"]["files"]["model"] == "model/model.keras"
    np.testing.assert_allclose(
        alice.run(from_file, x, {"batch_size": 2}), model.predict(x, verbose=0), rtol=1e-6
    )
