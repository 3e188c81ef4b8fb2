"""The CDI_NN servables: published from the authors' files, credited, and run through the
hub with the same outputs as Keras on the same files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from servables.cdi_nn import publish as cdi


def test_publish_credit_and_run(shared_data: Path, example_hub: object) -> None:
    from hub.servables.keras import load_model

    hub: Any = example_hub
    names = cdi.publish(hub, shared_data)
    info = hub.servable(names["structure"])
    dc = info.document["datacite"]
    assert [c["familyName"] for c in dc["creators"]] == ["Cherukara", "Nashed", "Harder"]
    assert {
        "relatedIdentifier": "10.1038/s41598-018-34525-1",
        "relatedIdentifierType": "DOI",
        "relationType": "IsDescribedBy",
    } in dc["relatedIdentifiers"]
    assert dc["publicationYear"] == "2018"
    assert info.document["servable"]["options"]["format"] == "h5"
    assert info.method.input.shape == [None, 32, 32, 1]
    x = cdi.example_patterns(shared_data, 4)
    for key, file in (("structure", "structure_weights.hdf5"), ("phase", "phase_weights.hdf5")):
        direct = load_model(shared_data / "cdi_nn" / file).predict(x, verbose=0)
        # real patterns fed as the authors fed them: outputs with structure, not empty ones
        assert direct.std(axis=(1, 2, 3)).min() > 0.02, key
        np.testing.assert_allclose(hub.run(names[key], x), direct, rtol=1e-5, atol=1e-6)
    assert hub.servables("dlhub.domains:diffraction AND servable.type:keras").total == 2
