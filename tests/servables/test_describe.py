"""Describing scikit-learn estimators, Python callables and model files; the type plugins."""

from __future__ import annotations

import importlib.metadata as md
import warnings
from pathlib import Path
from typing import Annotated

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hub.exceptions import NotFoundError, ValidationError
from hub.servables import describe
from hub.servables.base import ServableType
from hub.servables.registry import GROUP, get_type, servable_types


@pytest.fixture(scope="module")
def frame() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["mass", "radius", "charge"])
    y = np.where(X["mass"] + X["charge"] > 0, "metal", "insulator")
    return X, y


def test_sklearn_pipeline_with_feature_names(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = frame
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    sv = describe(
        model,
        name="metal-classifier",
        title="Metal or insulator",
        authors=["Ward, Logan", {"name": "Blaiszik, Ben", "affiliation": "UChicago"}],
        description="A toy classifier.",
        paper_doi="https://doi.org/10.1038/s41598-018-34525-1",
        training_data=["dielectric_constant_v1"],
        domains=["materials"],
        visible_to=["public"],
        runnable_by=["group:lab"],
    )
    md_ = sv.metadata
    assert sv.type == "sklearn"
    assert md_.servable.model_type == "Pipeline(StandardScaler → LogisticRegression)"
    assert "LogisticRegression" in md_.servable.model_summary
    assert sv.input.shape == [None, 3]
    assert "mass, radius, charge" in sv.input.description
    assert md_.servable.options["feature_names"] == ["mass", "radius", "charge"]
    assert md_.servable.options["classes"] == ["insulator", "metal"]
    assert sv.output.type == "ndarray" and sv.output.item_type is not None
    assert sv.output.item_type.type == "string"
    assert f"scikit-learn=={md.version('scikit-learn')}" in sv.requirements
    assert f"numpy=={md.version('numpy')}" in sv.requirements
    assert any(r.startswith("pandas==") for r in sv.requirements)
    dc = md_.datacite
    assert dc.titles[0].title == "Metal or insulator"
    assert [c.familyName for c in dc.creators] == ["Ward", "Blaiszik"]
    assert dc.creators[1].affiliation == ["UChicago"]
    rel = {(r.relatedIdentifier, r.relationType) for r in dc.relatedIdentifiers}
    assert ("10.1038/s41598-018-34525-1", "IsDescribedBy") in rel
    assert ("urn:matterhub:dataset:dielectric_constant_v1", "IsDerivedFrom") in rel
    assert md_.dlhub.visible_to == ["public"] and md_.dlhub.runnable_by == ["group:lab"]
    assert md_.dlhub.training_data == ["dielectric_constant_v1"]
    schema = sv.json_schema()
    assert schema["input"]["items"]["minItems"] == 3


def test_sklearn_method_and_regressor_outputs(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = frame
    proba = describe(LogisticRegression().fit(X.to_numpy(), y), method="predict_proba")
    assert proba.output.shape == [None, 2]
    assert proba.metadata.servable.run.method_details == {"method_name": "predict_proba"}
    reg = describe(LinearRegression().fit(X.to_numpy(), np.c_[X["mass"], X["radius"]]))
    assert reg.output.shape == [None, 2] and reg.output.item_type is not None
    assert reg.output.item_type.type == "float"
    with pytest.raises(ValidationError, match="has no method 'transform'"):
        describe(LogisticRegression().fit(X.to_numpy(), y), method="transform")


def test_unfitted_estimator_is_refused() -> None:
    with pytest.raises(ValidationError, match="not fitted: call fit"):
        describe(LogisticRegression())


def scale(
    x: Annotated[np.ndarray, (None, 3), "positions in Å"], factor: float = 2.0, center: bool = False
) -> np.ndarray:
    """Scale positions.

    Parameters
    ----------
    x
        Atom positions.
    factor
        The scale factor.
    center
        Subtract the mean first.
    """
    return (x - x.mean(axis=0) if center else x) * factor


def energy(volume: float, bulk_modulus: float) -> float:
    """A quadratic equation of state."""
    return 0.5 * bulk_modulus * (volume - 1.0) ** 2


def test_python_callable_from_type_hints_and_docstring() -> None:
    sv = describe(scale, domains=["materials"])
    assert sv.type == "python" and sv.name == "scale"
    assert sv.input.type == "ndarray" and sv.input.shape == [None, 3]
    assert sv.input.description == "positions in Å"
    assert set(sv.parameters) == {"factor", "center"}
    assert sv.parameters["factor"].type == "float" and sv.parameters["factor"].default == 2.0
    assert sv.parameters["center"].description == "Subtract the mean first."
    assert sv.output.type == "ndarray"
    assert sv.metadata.datacite.descriptions[0].description == "Scale positions."
    assert sv.metadata.servable.model_summary.startswith("scale(x: typing.Annotated[numpy.ndarray")
    assert "factor: float = 2.0" in sv.metadata.servable.model_summary
    assert any(r.startswith("numpy==") for r in sv.requirements)
    assert sv.metadata.datacite.resourceType.resourceTypeGeneral == "Software"

    two = describe(energy)
    assert two.input.type == "dict" and list(two.input.properties or {}) == ["volume", "bulk_modulus"]
    assert two.check({"volume": 1.1, "bulk_modulus": 100})[0] == {"volume": 1.1, "bulk_modulus": 100.0}


def test_model_file(tmp_path: Path, frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = frame
    path = tmp_path / "clf.joblib"
    joblib.dump(LogisticRegression().fit(X.to_numpy(), y), path)
    sv = describe(path)
    assert sv.type == "sklearn" and sv.source == path and sv.name == "clf"
    with pytest.raises(ValidationError, match=r"no servable type publishes notes.txt"):
        (tmp_path / "notes.txt").write_text("x")
        describe(tmp_path / "notes.txt")
    with pytest.raises(ValidationError, match=r"no servable type knows a builtins.int"):
        describe(3)


def test_builtin_types_register_through_the_entry_point_group() -> None:
    types_ = servable_types()
    assert {"sklearn", "keras", "python", "dlhub_dataset"} <= set(types_)
    assert list(types_).index("sklearn") < list(types_).index("python")  # priority order
    eps = {ep.name for ep in md.entry_points(group=GROUP)}
    assert {"sklearn", "keras", "python", "dlhub_dataset"} <= eps
    assert get_type("keras").info()["suffixes"] == [".keras", ".h5", ".hdf5"]
    with pytest.raises(NotFoundError, match="Installed types: sklearn"):
        get_type("torch")


class _Broken:
    pass


def test_a_broken_plugin_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    class EP:
        def __init__(self, name: str, obj: object) -> None:
            self.name, self.value, self._obj = name, f"x:{name}", obj

        def load(self) -> object:
            if self._obj is None:
                raise ImportError("no such module")
            return self._obj

    class Fine(ServableType):
        name = "fine"

    fake = [EP("fine", Fine), EP("missing", None), EP("notatype", _Broken)]
    monkeypatch.setattr("hub.plugins.entry_points", lambda group: fake)
    servable_types.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = servable_types()
        assert list(found) == ["fine"]
        text = " ".join(str(w.message) for w in caught)
        assert "'missing'" in text and "failed to load" in text
        assert "'notatype'" in text and "not a ServableType" in text
    finally:
        servable_types.cache_clear()


def test_examples_and_input_from_record_are_checked_and_kept() -> None:
    from hub.exceptions import InputValidationError
    from hub.exceptions import ValidationError as HubValidationError

    sv = describe(
        scale,
        examples=[np.zeros((2, 3))],
        input_from_record={"parts": {"": "file:array"}, "source_name": "positions"},
    )
    run = sv.metadata.servable.methods["run"]
    assert run.examples == [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]  # stored as JSON
    assert run.json_schema()["input"]["examples"] == run.examples  # what "Insert code" writes
    assert run.input_from_record is not None and run.input_from_record.source_name == "positions"
    with pytest.raises(
        InputValidationError, match=r"input 'example': expected an ndarray of shape \(None, 3\)"
    ):
        describe(scale, examples=[[1.0, 2.0]])
    with pytest.raises(HubValidationError, match="input_from_record is not valid"):
        describe(scale, input_from_record={"parts": {}})
