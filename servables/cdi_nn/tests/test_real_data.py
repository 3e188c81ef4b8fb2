"""The CDI networks on real data: 2D patterns cut from a measured 3D Bragg CDI volume through its
peak (projection-slice theorem), against the projections of an independent 3D reconstruction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from servables.cdi_nn import real_data, study


def test_the_slices_are_the_patterns_of_the_projections(shared_data: Path) -> None:
    """Self-consistency of the data (no network involved): the modulus of each projection's 2D
    transform matches the measured slice through the peak."""
    assert min(real_data.consistency(shared_data)) > 0.9
    real = real_data.patterns(shared_data)
    assert real.intensity.shape == real.amplitude.shape == real.phase.shape == (3, 32, 32)
    assert all(np.unravel_index(int(np.argmax(i)), i.shape) == (16, 16) for i in real.intensity)
    assert real.amplitude.max(axis=(1, 2)) == pytest.approx([1, 1, 1])


def test_authors_input_takes_any_scale() -> None:
    rng = np.random.default_rng(3)
    frame = rng.gamma(2.0, 50.0, size=(32, 32))
    frame[5, 9] = 1e5  # the Bragg peak, off centre
    x = real_data.authors_input(frame)
    assert x.shape == (1, 32, 32, 1) and x.dtype == np.float32
    assert x[0, 16, 16, 0] == pytest.approx(10_000) and x.max() == pytest.approx(10_000)
    np.testing.assert_allclose(real_data.authors_input(frame * 37.5), x, rtol=1e-6)  # counts of any scale
    np.testing.assert_allclose(
        x[0, 16 - 5 + 7, 16 - 9 + 2, 0], np.sqrt(frame[7, 2] / 1e5) * 10_000, rtol=1e-5
    )
    with pytest.raises(ValueError, match=">= 0"):
        real_data.authors_input(-frame)
    with pytest.raises(ValueError, match="all zero"):
        real_data.authors_input(np.zeros((32, 32)))
    with pytest.raises(ValueError, match="shape"):
        real_data.authors_input(np.ones((16, 16)))


def test_networks_scored_on_real_patterns(shared_data: Path, example_hub: Any) -> None:
    names = study.publish_servables(example_hub, shared_data)
    out = study.evaluate_real(example_hub, names, shared_data)
    authors, standin = out["pairs"]["authors"], out["pairs"]["standin"]
    assert authors["input_max"] == 10_000 and len(authors["per_axis"]) == 3
    for pair in (authors, standin):
        assert 0 < pair["support_iou_mean"] < 1 and np.isfinite(pair["amplitude_error_mean"])
    # the phases of these projections are nearly flat: neither pair beats the flat guess by much
    assert authors["phase_rms_truth_mean"] < 0.3
    # what the authors' stated convention does to these patterns: overexposed (a blob larger
    # than the crystal); a ten times smaller maximum does better (a sensitivity check on the test data)
    scan = out["authors_scale_scan"]
    assert scan[1_000.0]["amplitude_error_mean"] < scan[10_000.0]["amplitude_error_mean"]
    assert scan[1.0]["support_iou_mean"] == 0.0  # scaled to a maximum of 1: empty structures


def test_the_networks_take_raw_intensities_through_a_pipeline(shared_data: Path, example_hub: Any) -> None:
    """``cdi-nn-structure-from-intensity``: a frame of counts of any scale and size in, the
    authors' convention applied in a worker, then their network."""
    names = study.publish_servables(example_hub, shared_data)
    real = real_data.patterns(shared_data)
    # a detector-like frame: the real pattern in counts, on a larger 64x64 frame, off centre
    frame = np.full((64, 64), 0.0)
    frame[7:39, 20:52] = real.intensity[1] * 52_341.0
    out = example_hub.run(names["structure_from_intensity"], frame)
    direct = example_hub.run(names["structure"], real_data.authors_input(real.intensity[1]))
    np.testing.assert_allclose(out, direct, rtol=1e-5, atol=1e-6)
    assert out.shape == (1, 32, 32, 1) and out.std() > 0.02
    trace = example_hub.run(names["phase_from_intensity"], frame, trace=True)
    assert [s.name.split("@")[0] for s in trace.steps] == ["adapter:detector_input", names["phase"]]
    doc = example_hub.servable(names["structure_from_intensity"]).document
    assert (
        doc["servable"]["type"] == "pipeline"
        and "10,000" in doc["datacite"]["descriptions"][0]["description"]
    )
    with pytest.raises(Exception, match="at least 32x32"):
        example_hub.run(names["structure_from_intensity"], np.ones((16, 16)))
