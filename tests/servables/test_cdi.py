"""The Cherukara et al. (2018) CDI models from their real files (../shared/data/cdi_nn),
published by servables.cdi_nn.publish and run through the worker pool."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.servables.parts import ServableParts
from servables.cdi_nn import publish as cdi

pytestmark = pytest.mark.shared_data


def test_cdi_models_publish_and_run(alice: ServableParts, shared_data: Path) -> None:
    from hub.servables.keras import load_model

    described = cdi.describe_models(alice.registry, shared_data)
    structure = described["structure"]
    assert structure.type == "keras" and structure.metadata.servable.options["format"] == "h5"
    assert structure.metadata.servable.model_type.startswith(
        "Functional (model_1, 20 layers, 720,321 parameters)"
    )
    assert [c.name for c in structure.metadata.datacite.creators] == [
        "Cherukara, Mathew J.",
        "Nashed, Youssef S. G.",
        "Harder, Ross J.",
    ]
    assert structure.metadata.datacite.relatedIdentifiers[0].relatedIdentifier == "10.1038/s41598-018-34525-1"
    names = {key: alice.registry.publish(sv) for key, sv in described.items()}
    assert alice.registry.servables('"coherent diffraction" AND servable.type:keras').total == 2

    x = cdi.example_patterns(shared_data, 3)
    direct = load_model(shared_data / "cdi_nn" / "phase_weights.hdf5").predict(x, verbose=0)
    assert direct.std(axis=(1, 2, 3)).min() > 0.02  # a non-trivial output to compare
    np.testing.assert_allclose(alice.run(names["phase"], x), direct, rtol=1e-5, atol=1e-6)
    one = alice.run(names["structure"], x[:1])
    assert one.shape == (1, 32, 32, 1) and one.dtype == np.float32
    with pytest.raises(
        Exception,
        match=r"expected an ndarray of shape \(None, 32, 32, 1\).*got an ndarray of shape \(32, 32\)",
    ):
        alice.run(names["structure"], x[0, :, :, 0])
