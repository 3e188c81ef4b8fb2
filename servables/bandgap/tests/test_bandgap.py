"""The band-gap servable: trained on the real dielectric dataset, published with its training
data's hub id and its cross-validated error, run through the hub like the model itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.exceptions import ServableRunError
from servables.bandgap import features
from servables.bandgap import publish as bandgap


def test_features_from_ase_element_data() -> None:
    f = features.featurize("Rb2Te")
    assert f.shape == (25,) and f[-1] == 2
    np.testing.assert_allclose(f[0], (2 * 37 + 52) / 3)  # fraction-weighted mean Z
    assert len(features.feature_names()) == 25
    assert features.group_and_period(52) == (16, 5)  # Te
    assert features.group_and_period(57) == (3, 6)  # La
    assert features.group_and_period(79) == (11, 6)  # Au
    assert features.group_and_period(92) == (3, 7)  # U
    with pytest.raises(ValueError, match="'Xx2': unknown element 'Xx'"):
        features.featurize("Xx2")
    with pytest.raises(ValueError, match="'Ga\\(As' is not a chemical formula"):
        features.featurize("Ga(As")


def test_publish_with_training_data_and_cv_error(shared_data: Path, example_hub: object) -> None:
    hub: Any = example_hub
    csv = shared_data / "matminer" / "dielectric_constant.csv"
    name, model, metrics = bandgap.publish(hub, csv, trees=40)
    assert 0.3 < metrics["cv_mae_eV"] < 0.8 * metrics["baseline_mae_eV"]
    info = hub.servable(name)
    doc = info.document
    assert doc["dlhub"]["training_data"] == ["matminer_dielectric_constant_v1"]
    assert {
        "relatedIdentifier": "urn:matterhub:dataset:matminer_dielectric_constant_v1",
        "relatedIdentifierType": "URN",
        "relationType": "IsDerivedFrom",
    } in doc["datacite"]["relatedIdentifiers"]
    assert doc["servable"]["metrics"]["cv_mae_eV"] == pytest.approx(metrics["cv_mae_eV"])
    assert doc["servable"]["model_type"] == "Pipeline(CompositionFeaturizer → ExtraTreesRegressor)"
    assert any(r.startswith("ase==") for r in doc["dlhub"]["requirements"])
    assert doc["dlhub"]["files"]["code"] == ["code/servables/bandgap/features.py"]
    formulas = ["GaAs", "MgO", "Si", "NaCl", "CdTe"]
    np.testing.assert_allclose(hub.run(name, formulas), model.predict(formulas))
    assert hub.servables("servable.metrics.cv_mae_eV:<0.8 AND dlhub.domains:materials").hits[0].id == name
    assert hub.dataset("matminer_dielectric_constant").metadata["mdf"]["source_id"]
    with pytest.raises(ServableRunError, match="element 'Og' has no data"):
        hub.run(name, ["Og2"])
